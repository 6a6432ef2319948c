"""The one place that writes to the terminal: live progress, the per-host table, the summary, JSON."""

from __future__ import annotations

import io
import json
import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from pyrunner.errors import ExitCode
from pyrunner.progress import HostProgress, Progress
from pyrunner.runner import RunResult

EXIT_MEANING = {
    ExitCode.OK: "ok",
    ExitCode.BAD_INPUT: "bad input or configuration",
    ExitCode.USAGE: "usage error",
    ExitCode.UNREACHABLE: "a host was unreachable",
    ExitCode.FIX_FAILED: "a fix failed on a host",
    ExitCode.CHECK_CHANGES: "--check found something to change",
    ExitCode.INTERRUPTED: "interrupted",
}
STATUS_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "failed": "red",
    "unreachable": "red",
    "bad input": "red",
    "skipped": "magenta",
}


class LiveProgress:
    """Per host: the task running now and the tasks done. Rich Live on a terminal (stderr), else a log of lines.

    The log goes to stdout, beside the result it leads to, so that stderr carries errors alone, one line each
    (what a script reads to know what went wrong); with --json, stdout is the JSON document and the log is left out.
    """

    def __init__(
        self,
        title: str,
        *,
        stream: TextIO | None = None,
        verbose: bool = False,
        planned: list[str] | None = None,
        as_json: bool = False,
        target: str = "",
    ) -> None:
        self.title = title
        self.target = target  # which stack: the first line of every run
        self.planned = planned or []  # hosts shown as "waiting" until their batch starts
        self.progress = Progress()
        self.notes: list[str] = []
        self.console = Console(file=stream or sys.stderr, highlight=False, soft_wrap=True)
        if not self.console.is_terminal:
            lines = io.StringIO() if as_json else (stream or sys.stdout)
            self.console = Console(file=lines, highlight=False, soft_wrap=True)
        self.verbose = verbose
        self.live: Live | None = None
        self.last_job_line = 0.0

    def __enter__(self) -> LiveProgress:
        if self.target:
            self.console.print(escape(self.target))
        if self.console.is_terminal:
            self.live = Live(self._table(self.progress), console=self.console, refresh_per_second=8, transient=True)
            self.live.__enter__()
        else:
            hosts = f" on {len(self.planned)} host(s)" if len(self.planned) > 1 else ""
            self.console.print(f"{self.title}{hosts} …")
        return self

    def say(self, line: str) -> None:
        """A line about the run as a whole (a batch starting, the failure threshold reached)."""
        if self.live is not None:
            self.notes.append(line)
            self.live.update(self._table(self.progress))
        else:
            self.console.print(escape(f"  {line}"))

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _table(self, progress: Progress) -> Table:
        table = Table(title=self.title, title_justify="left", show_edge=False, box=None)
        for column in ("host", "done", "now"):
            table.add_column(column)
        for host in progress.hosts.values():
            table.add_row(
                escape(host.host), str(host.tasks_done), escape(host.task if host.finished is None else host.status)
            )
        for name in self.planned:
            if name not in progress.hosts:
                table.add_row(escape(name), "0", "waiting")
        if not progress.hosts and not self.planned and progress.current_task:
            table.add_row("…", "0", progress.current_task)
        for note in self.notes[-3:]:
            table.add_row("", "", escape(note))
        return table

    def update(self, progress: Progress, event: dict[str, Any]) -> None:
        self.progress = progress
        if self.live is not None:
            self.live.update(self._table(progress))
            return
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        host = progress.hosts.get(data.get("host", ""))
        if kind == "runner_retry" and host is not None and host.job:
            now = time.monotonic()
            if now - self.last_job_line >= 10:  # a line every 10 s is enough in a log
                self.last_job_line = now
                self.console.print(escape(f"  {host.host}: {job_line(host.job)}"))
            return
        if kind in ("runner_on_failed", "runner_on_unreachable") or (
            self.verbose and kind in ("runner_on_ok", "runner_on_skipped")
        ):
            outcome = kind.removeprefix("runner_on_")
            self.console.print(escape(f"  {data.get('host')}: {outcome:<11} {data.get('task', '')}"))


def job_line(job: dict[str, Any]) -> str:
    """'loading the shadow schema: 45% 450/1000 MB, 1.2M rows, 30 MB/s, ETA 18 s'."""
    parts = [str(job.get("phase", "working"))]
    if job.get("percent") is not None:
        parts.append(f"{job['percent']:.0f}%")
    if job.get("bytes") is not None and job.get("total"):
        parts.append(f"{job['bytes'] / 1048576:.0f}/{job['total'] / 1048576:.0f} MB")
    if job.get("total_rows") and job.get("rows") is not None:
        parts.append(f"{job['rows']:,}/{job['total_rows']:,} rows")
    elif job.get("rows"):
        parts.append(f"{job['rows']:,} rows")
    if job.get("rate_mb_s") is not None:
        parts.append(f"{job['rate_mb_s']} MB/s")
    if job.get("rate_rows_s"):
        parts.append(f"{job['rate_rows_s']:,} rows/s")
    if job.get("eta_s"):
        parts.append(f"ETA {job['eta_s']} s")
    return f"{parts[0]}: " + ", ".join(parts[1:]) if len(parts) > 1 else parts[0]


def _first(items: list[Any], width: int = 48) -> str:
    """'mysql is stopped (+2)': the first item, shortened, and how many more."""
    if not items:
        return "-"
    text = str(items[0])
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text + (f" (+{len(items) - 1})" if len(items) > 1 else "")


def _host_row(host: HostProgress) -> list[str]:
    report = host.report or {}
    style = STATUS_STYLE.get(host.status, "")
    found = report.get("found") or ([host.error] if host.error else [])
    done = report.get("done") or ([f"not started: {host.not_run}"] if host.not_run else [])
    return [
        escape(host.host),
        f"[{style}]{host.status}[/{style}]" if style else host.status,
        str(host.changed),
        escape(_first(found)),
        escape(_first(done)),
        "-" if host.not_run else f"{host.duration:.1f}s",
    ]


def result_table(result: RunResult) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("host", "status", "changed", "found", "done", "time"):
        table.add_column(column, justify="right" if column in ("changed", "time") else "left")
    for host in sorted(result.hosts.values(), key=lambda h: h.host):
        table.add_row(*_host_row(host))
    return table


def print_result(
    result: RunResult,
    stream: TextIO | None = None,
    report_paths: dict[str, list[str]] | None = None,
    stopped: str | None = None,
) -> None:
    console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
    mode = " (check mode: nothing was changed)" if result.check else ""
    console.print(
        f"[bold]ods-fix {escape(result.fix)}[/bold]{mode}: {len(result.hosts)} host(s) in {result.seconds:.1f}s"
    )
    console.print(result_table(result))
    for host in sorted(result.hosts.values(), key=lambda h: h.host):
        _print_host_summary(console, host, (report_paths or {}).get(host.host, []))
    if stopped:
        console.print(f"\n[magenta]stopped early[/magenta]: {escape(stopped)}")
    code = result.exit_code
    console.print(escape(f"exit {int(code)}: {EXIT_MEANING[code]}    run directory: {result.run_dir}"))


def _print_host_summary(console: Console, host: HostProgress, files: list[str]) -> None:
    report = host.report or {}
    console.print(f"\n[bold]{escape(host.host)}[/bold]")
    if host.not_run:
        console.print(f"  [magenta]skipped[/magenta]: not started ({escape(host.not_run)})")
        return
    if host.error and host.error not in (report.get("left") or []):
        where = f" (task: {host.error_task})" if host.error_task and not report else ""
        console.print(f"  [red]{host.status}[/red]: {escape(host.error + where)}")
    elif host.error:
        console.print(f"  [red]{host.status}[/red]: the fix did not reach its goal, see next")
    for heading, key in (("found", "found"), ("done", "done"), ("next", "left")):
        items = report.get(key) or []
        for item in items:
            console.print(f"  {heading:<5} {escape(str(item))}")
    if report and not any(report.get(k) for k in ("found", "done", "left")):
        console.print("  [green]no problem found[/green]")
    for path in files:
        console.print(f"  report {escape(path)}")


def result_document(
    result: RunResult, report_paths: dict[str, list[str]] | None = None, stopped: str | None = None
) -> dict[str, Any]:
    code = result.exit_code
    counts: dict[str, int] = {}
    for host in result.hosts.values():
        counts[host.status] = counts.get(host.status, 0) + 1
    return {
        "fix": result.fix,
        "check": result.check,
        "exit_code": int(code),
        "exit_meaning": EXIT_MEANING[code],
        "run_dir": str(result.run_dir),
        "seconds": round(result.seconds, 2),
        "host_counts": counts,
        "stopped_early": stopped,
        "hosts": {
            name: {
                "status": host.status,
                "ok": host.ok,
                "changed": host.changed,
                "failed": host.failed,
                "unreachable": host.unreachable,
                "skipped": host.skipped,
                "seconds": round(host.duration, 2),
                "error": host.error,
                "error_task": host.error_task,
                "not_started": host.not_run,
                "report": host.report,
                "report_files": (report_paths or {}).get(name, []),
            }
            for name, host in sorted(result.hosts.items())
        },
    }


def print_json(document: Any, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


def _plan_lines(plan: dict[str, Any], *, after: bool) -> list[str]:
    host = plan["host"]
    if plan["status"] == "unreachable":
        return [f"  {host}: unreachable: {plan['error']}"]
    if plan["status"] in ("failed", "bad input"):
        return [f"  {host}: diagnose {plan['status']}: {plan['error']}"]
    for_you = [f"    for you: {line}" for line in plan.get("for_you") or []]
    if plan["healthy"]:
        return [f"  {host}: {'healthy now' if after else 'healthy: nothing to do'}", *for_you]
    lines = [f"  {host}:" + (" still needs a human" if after else "")]
    for number, step in enumerate(plan["steps"], start=1):
        what = step["command"] or "(no automated fix)"
        note = f"  [{step['note']}]" if step["note"] else ""
        lines.append(f"    {number}. {what}  {step['finding']}: {step['summary']}{note}")
    return lines + for_you


def print_doctor(document: dict[str, Any], stream: TextIO | None = None) -> None:
    console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
    hosts = len(document["plan"])
    console.print(f"[bold]ods-fix doctor[/bold]: {hosts} host(s); diagnose run {escape(document['diagnose_run'])}")
    console.print("\n[bold]plan[/bold] (from diagnose's triage, dependencies first)")
    for plan in document["plan"]:
        for line in _plan_lines(plan, after=False):
            console.print(escape(line))
    if "applied" in document:
        console.print("\n[bold]applied[/bold]")
        if not document["applied"]:
            console.print("  nothing to apply")
        for record in document["applied"]:
            for host, outcome in record["hosts"].items():
                detail = "; ".join(outcome["done"]) or outcome["error"] or "nothing to do"
                console.print(escape(f"  ods-fix {record['fix']} on {host}: {outcome['status']}: {detail}"))
            for host, why in record["refused"].items():
                console.print(escape(f"  ods-fix {record['fix']} on {host}: refused: {why}"))
        console.print("\n[bold]after[/bold] (diagnosed again)")
        for plan in document["after"]:
            for line in _plan_lines(plan, after=True):
                console.print(escape(line))
    elif any(not p["healthy"] and p["status"] not in ("unreachable",) for p in document["plan"]):
        console.print("\nrun `ods-fix doctor --fix` to apply the automated steps")
    console.print(escape(f"exit {document['exit_code']}: {document['exit_meaning']}"))
