"""Running a fix: the input checked, its playbook run through ansible-runner (in batches under rate control) with
live progress, and the run summarised (summary.json). Apart from the CLI, as ansible-runner keeps interface.py apart
from its __main__: doctor and fleet runs call it too."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from pyrunner import fleet, paths, render
from pyrunner.catalog import Fix
from pyrunner.errors import ExitCode, OdsFixError
from pyrunner.inventory import resolve_hosts
from pyrunner.progress import Progress
from pyrunner.runner import RunResult, keep_runs, new_run_dir, rotate_runs, run_playbook
from pyrunner.target import Choice, Target


@dataclass
class Execution:
    """One fix run, validated, run and summarised (summary.json written), not yet rendered."""

    result: RunResult
    reports: dict[str, list[str]]
    stopped: str | None
    document: dict[str, Any]  # the --json document, also written to summary.json
    target: Target


def execute_fix(
    fix: Fix,
    *,
    target: Target | Choice,
    limit: str | None,
    forks: int | None,
    check: bool,
    diff: bool,
    verbose: int,
    yes: bool,
    role_vars: dict[str, Any],
    as_json: bool,
    rate: fleet.RateControl | None = None,
) -> Execution:
    """Validate the input and run the fix's playbook (in batches under rate control), with live progress."""
    if not fix.ready:
        raise OdsFixError(f"`ods-fix {fix.name}` is planned (issue #{fix.issue}) but not built yet")
    if fix.needs_yes and not yes and not check:
        raise OdsFixError(
            f"`ods-fix {fix.name}` changes data: add --yes to go ahead, or --check to see what it would do",
            ExitCode.USAGE,
        )
    rate = rate or fleet.RateControl(forks=forks)
    if isinstance(target, Choice):
        target = target.resolve()
    hosts: list[str] | None = None
    check_hosts = target.how == "-i" or bool(limit) or rate.active  # ods-fix's own inventories need no parse (0.6 s)
    if check_hosts and target.inventory is not None:  # refused before anything is made
        hosts = resolve_hosts(target.inventory, limit)
    run_dir = new_run_dir(fix.name, rotate=False)  # old runs are rotated out only once this one is accepted
    inventory = target.inventory_for(run_dir)
    if check_hosts and target.inventory is None:
        try:
            hosts = resolve_hosts(inventory, limit)
        except OdsFixError:
            shutil.rmtree(run_dir, ignore_errors=True)  # refused before anything ran: nothing of it is kept
            raise
    rotate_runs(paths.runs_dir(), keep_runs())
    extravars = {k: v for k, v in role_vars.items() if v not in (None, [])}
    extravars["ods_report_dir"] = str(run_dir / "reports")
    extravars["ods_lock_owner"] = lock_owner()
    title = f"ods-fix {fix.name}" + (" --check" if check else "")
    shared = Progress()
    with render.LiveProgress(
        title, verbose=verbose > 0, planned=hosts, as_json=as_json, target=f"target: {target.describe()}"
    ) as live:

        def run_batch(batch: list[str] | None, number: int) -> RunResult:
            return run_playbook(
                fix.name,
                paths.playbook(fix.name),
                inventory,
                limit=",".join(batch) if batch is not None else limit,
                forks=forks,
                check=check,
                diff=diff,
                extravars=extravars,
                verbosity=max(verbose - 1, 0),
                run_dir=run_dir,
                on_event=live.update,
                ident="run" if number == 1 else f"batch-{number}",
                progress=shared,
            )

        if rate.active and hosts:
            result, batches = fleet.run_batches(hosts, rate, run_batch, announce=live.say)
        else:
            result, batches = run_batch(None, 1), None
    if result.rc != 0 and not result.hosts:
        raise OdsFixError(f"ansible-playbook failed before reaching any host: {last_line(result.stdout_tail)}")
    reports, stopped = report_files(result), batches.stopped if batches else None
    document = {"target": target.document(), **render.result_document(result, reports, stopped=stopped)}
    execution = Execution(result, reports, stopped, document, target)
    summary = run_dir / "summary.json"
    summary.write_text(json.dumps(execution.document, indent=2, ensure_ascii=False, default=str) + "\n")
    summary.chmod(0o600)
    return execution


def run_fix(fix: Fix, *, as_json: bool, **kwargs: Any) -> int:
    """Run a fix and render its result; returns the exit code."""
    execution = execute_fix(fix, as_json=as_json, **kwargs)
    result = execution.result
    if as_json:
        render.print_json(execution.document)
    else:
        render.print_result(result, report_paths=execution.reports, stopped=execution.stopped)
        flags = execution.target.flags()
        if flags and any(
            "ods-fix " in str(left) for h in result.hosts.values() for left in (h.report or {}).get("left") or []
        ):
            click.echo(f"(to reach this stack again, add {flags} to the ods-fix commands above)")
    for host in result.hosts.values():
        if host.error and host.status in ("bad input", "unreachable"):
            click.echo(f"ods-fix: {host.host}: {host.error}", err=True)
    return int(result.exit_code)


def report_files(result: RunResult) -> dict[str, list[str]]:
    root = result.run_dir / "reports"
    if not root.is_dir():
        return {}
    return {d.name: sorted(str(p) for p in d.iterdir()) for d in sorted(root.iterdir()) if d.is_dir()}


def last_line(text: str) -> str:
    """Ansible's own [ERROR] line when there is one (its last lines are often an example), else the last line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line.strip() for line in lines if line.startswith("[ERROR]")]
    return errors[0] if errors else (lines[-1] if lines else "no output")


def lock_owner() -> str:
    """This process, as a project lock on this machine can watch it: boot, pid namespace, pid, start time.

    A holder on the same kernel and pid namespace (a local target) lets go as soon as this process has gone
    and no step of it still runs; elsewhere the lease alone decides.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
        start = Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
    return f"{boot}/{namespace}/{os.getpid()}/{start}"
