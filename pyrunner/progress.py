"""ansible-runner events turned into per-host progress and results (no I/O here)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

PREFLIGHT_PREFIXES = ("Preflight |", "Validating arguments against arg spec")
RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}


@dataclass
class HostProgress:
    host: str
    task: str = ""
    tasks_done: int = 0
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    error: str | None = None
    error_task: str | None = None
    preflight_failed: bool = False
    report: dict[str, Any] | None = None
    job: dict[str, Any] | None = None  # the progress of a long job (a restore), from its polling task
    not_run: str | None = None  # why rate control never started this host ("failure threshold reached")
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def status(self) -> str:
        if self.not_run:
            return "skipped"
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "bad input" if self.preflight_failed else "failed"
        if self.changed:
            return "changed"
        return "ok"

    @property
    def duration(self) -> float:
        if self.not_run:
            return 0.0
        return (self.finished or time.monotonic()) - self.started


def failure_message(res: dict[str, Any]) -> str:
    """One line from a failed or unreachable result."""
    for key in ("msg", "stderr", "module_stderr", "reason"):
        value = res.get(key)
        if isinstance(value, str) and value.strip():
            lines = [line for line in value.strip().splitlines() if line.strip()]
            return lines[-1] if key != "msg" else " ".join(lines)
    return "failed (no message)"


class Progress:
    """Feed it runner events; it keeps what the display and the final table need."""

    def __init__(self) -> None:
        self.hosts: dict[str, HostProgress] = {}
        self.current_task = ""
        self.play = ""
        self.stats: dict[str, dict[str, int]] | None = None

    def host(self, name: str) -> HostProgress:
        if name not in self.hosts:
            self.hosts[name] = HostProgress(name)
        return self.hosts[name]

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self.play = data.get("play", "")
        elif kind == "playbook_on_task_start":
            self.current_task = data.get("task", "")
        elif kind == "runner_on_start":
            self.host(data["host"]).task = data.get("task", "")
        elif kind in RESULT_EVENTS:
            self._result(RESULT_EVENTS[kind], data)
        elif kind == "runner_retry" and data.get("host"):
            res = data.get("res") or {}
            if isinstance(res.get("ods_progress"), dict) and res["ods_progress"]:
                self.host(data["host"]).job = res["ods_progress"]
        elif kind == "playbook_on_stats":
            self.stats = {key: dict(data.get(key) or {}) for key in ("ok", "changed", "failures", "dark", "skipped")}
            now = time.monotonic()
            for progress in self.hosts.values():
                progress.finished = progress.finished or now

    def _result(self, outcome: str, data: dict[str, Any]) -> None:
        name = data.get("host")
        if not name:
            return
        progress = self.host(name)
        res = data.get("res") or {}
        task = data.get("task", "")
        progress.tasks_done += 1
        progress.task = task
        if outcome == "ok":
            progress.ok += 1
            if res.get("changed"):
                progress.changed += 1
            if isinstance(res.get("ods_report"), dict):
                progress.report = res["ods_report"]
        elif outcome == "skipped":
            progress.skipped += 1
        elif outcome == "failed":
            if isinstance(res.get("ods_report"), dict):
                progress.report = res["ods_report"]
            if data.get("ignore_errors"):
                return
            progress.failed += 1
            progress.error = progress.error or failure_message(res)
            progress.error_task = progress.error_task or task
            progress.preflight_failed = (
                progress.preflight_failed or task.startswith(PREFLIGHT_PREFIXES) or res.get("ods_failure") == "input"
            )
            progress.finished = time.monotonic()
        elif outcome == "unreachable":
            progress.unreachable += 1
            progress.error = progress.error or failure_message(res)
            progress.finished = time.monotonic()
