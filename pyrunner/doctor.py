"""`ods-fix doctor`: diagnose's triage made executable (the plan, its order, the loop guard; no I/O but the history).

The plan is read from diagnose's per-host reports: each root finding's triage names the catalog's fix.
Fixes run in dependency order, one ansible-runner run per fix over the hosts that need it: the data
stores first (mysql, redis, Milvus: milvus-restart itself brings etcd and minio up before standalone),
then the APIs, then the front end. Destructive fixes (those needing --yes) never run from doctor.

The loop guard keeps a history of what doctor applied, per host and fix, in the state home. A fix that
doctor already applied to a host --max-repeats times within the window is refused there: a service that
keeps breaking has a cause that restarting it hides.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrunner import catalog
from pyrunner.progress import HostProgress

ORDER = ("mysql-disk", "mysql-connect", "api-slow", "milvus-restart", "api-500", "perf", "cors", "web-recover")


@dataclass
class Step:
    fix: str
    finding: str
    summary: str
    runnable: bool  # False: destructive, or no fix in the catalog; a human runs it
    command: str = ""
    note: str = ""


@dataclass
class HostPlan:
    host: str
    status: str  # the diagnose run's status for the host: ok, unreachable, failed, ...
    steps: list[Step] = field(default_factory=list)
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.status in ("ok", "changed") and not self.steps


def rank(fix: str) -> int:
    return ORDER.index(fix) if fix in ORDER else len(ORDER)


def plan_from(hosts: dict[str, HostProgress]) -> list[HostPlan]:
    """Per host, the fixes diagnose's triage names, in dependency order (each fix once)."""
    plans = []
    for name, host in sorted(hosts.items()):
        plan = HostPlan(name, host.status, error=host.error if host.status != "ok" else None)
        details = (host.report or {}).get("details") or {}
        seen: set[str] = set()
        for entry in details.get("triage") or []:
            fix_name = entry.get("fix")
            fix = catalog.get(fix_name) if fix_name else None
            if fix_name and fix_name in seen:
                continue
            seen.add(fix_name or entry.get("finding", ""))
            if fix is None or not fix.ready:
                plan.steps.append(
                    Step("", entry.get("finding", ""), entry.get("summary", ""), False, note="no automated fix")
                )
            elif fix.needs_yes:
                plan.steps.append(
                    Step(
                        fix.name,
                        entry.get("finding", ""),
                        entry.get("summary", ""),
                        False,
                        f"ods-fix {fix.name} --limit {name} --yes ...",
                        "changes data: doctor never runs it; run it yourself with its own flags",
                    )
                )
            else:
                plan.steps.append(
                    Step(fix.name, entry.get("finding", ""), entry.get("summary", ""), True, f"ods-fix {fix.name}")
                )
        plan.steps.sort(key=lambda s: (not s.runnable, rank(s.fix)))
        plans.append(plan)
    return plans


def schedule(plans: list[HostPlan]) -> list[tuple[str, list[str]]]:
    """(fix, hosts) in dependency order: each fix one run over every host that needs it."""
    by_fix: dict[str, list[str]] = {}
    for plan in plans:
        for step in plan.steps:
            if step.runnable:
                by_fix.setdefault(step.fix, []).append(plan.host)
    return sorted(by_fix.items(), key=lambda item: rank(item[0]))


class History:
    """What doctor applied, when, per host and fix: a JSON file in the state home (0600)."""

    def __init__(self, path: Path, window_s: float, max_repeats: int, now: float | None = None) -> None:
        self.path = path
        self.window_s = window_s
        self.max_repeats = max_repeats
        self.now = now if now is not None else time.time()
        try:
            loaded = json.loads(path.read_text())
            self.entries: list[dict[str, Any]] = [e for e in loaded.get("applied", []) if isinstance(e, dict)]
        except (OSError, ValueError, AttributeError):
            self.entries = []

    def count(self, host: str, fix: str) -> int:
        since = self.now - self.window_s
        return sum(1 for e in self.entries if e.get("host") == host and e.get("fix") == fix and e.get("at", 0) >= since)

    def refuses(self, host: str, fix: str) -> bool:
        """True when applying it again would make it more than max_repeats times within the window."""
        return self.count(host, fix) >= self.max_repeats

    def record(self, host: str, fix: str, status: str) -> None:
        self.entries.append({"host": host, "fix": fix, "status": status, "at": self.now})

    def save(self) -> None:
        keep_since = self.now - max(self.window_s, 86400)
        self.entries = [e for e in self.entries if e.get("at", 0) >= keep_since]
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"applied": self.entries}, indent=1) + "\n")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)
