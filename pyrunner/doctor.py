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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrunner import catalog, paths
from pyrunner.errors import ExitCode
from pyrunner.progress import HostProgress
from pyrunner.runner import RunResult

ORDER = catalog.dependency_order()  # from each catalog entry's after
# diagnose's findings that only the user can act on, by diagnose's own list
FOR_YOU = paths.load_module_util("stack.diagnosis").USER_TO_CHANGE


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
    # What diagnose leaves to the user and no fix does: a memory limit to raise, a healthcheck line to change.
    for_you: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.status in ("ok", "changed") and not self.steps

    def document(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "status": self.status,
            "healthy": self.healthy,
            "error": self.error,
            "steps": [step.__dict__ for step in self.steps],
            "for_you": self.for_you,
        }


def rank(fix: str) -> int:
    return ORDER.index(fix) if fix in ORDER else len(ORDER)


def plan_from(hosts: dict[str, HostProgress]) -> list[HostPlan]:
    """Per host, the fixes diagnose's triage names, in dependency order (each fix once)."""
    plans = []
    for name, host in sorted(hosts.items()):
        plan = HostPlan(name, host.status, error=host.error if host.status != "ok" else None)
        details = (host.report or {}).get("details") or {}
        plan.for_you = [f["summary"] for f in details.get("findings") or [] if f.get("code") in FOR_YOU]
        seen: set[str] = set()
        for entry in details.get("triage") or []:
            fix_name = entry.get("fix")
            fix = catalog.get(fix_name) if fix_name else None
            if fix_name and fix_name in seen:
                continue
            seen.add(fix_name or entry.get("finding", ""))
            if fix is None or not fix.ready:
                note = entry.get("note") or "no automated fix"
                plan.steps.append(Step("", entry.get("finding", ""), entry.get("summary", ""), False, note=note))
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


def apply(
    plans: list[HostPlan], history: History, run_fix: Callable[[str, list[str]], RunResult], refused_hint: str
) -> list[dict[str, Any]]:
    """Run each scheduled fix over its hosts (those the loop guard allows); what happened, per fix and host."""
    applied = []
    for fix_name, hosts in schedule(plans):
        refused = [h for h in hosts if history.refuses(h, fix_name)]
        allowed = [h for h in hosts if h not in refused]
        record: dict[str, Any] = {"fix": fix_name, "hosts": {}, "refused": {}}
        for host in refused:
            record["refused"][host] = (
                f"loop guard: doctor applied {fix_name} to {host} {history.count(host, fix_name)} times in the "
                f"last {history.window_s / 60:.0f} min; not again: find what keeps breaking it ({refused_hint})"
            )
        if allowed:
            result = run_fix(fix_name, allowed)
            record["run_dir"] = str(result.run_dir)
            for host in allowed:
                outcome = result.hosts.get(host)
                status = outcome.status if outcome else "no result"
                record["hosts"][host] = {
                    "status": status,
                    "done": ((outcome.report if outcome else None) or {}).get("done") or [],
                    "error": outcome.error if outcome else None,
                }
                if status in ("changed", "failed"):
                    history.record(host, fix_name, status)
        applied.append(record)
    history.save()
    return applied


def exit_code(before: list[HostPlan], after: list[HostPlan] | None, applied: list[dict[str, Any]]) -> ExitCode:
    final = after if after is not None else before
    unreachable = any(p.status == "unreachable" for p in final)
    left = any(not p.healthy and p.status != "unreachable" for p in final)
    refused = any(record["refused"] for record in applied)
    if after is not None and (left or refused):
        return ExitCode.FIX_FAILED
    if after is None and any(p.status in ("failed", "bad input") for p in final):
        return ExitCode.FIX_FAILED
    if unreachable:
        return ExitCode.UNREACHABLE
    if after is None and left:
        return ExitCode.CHECK_CHANGES
    return ExitCode.OK
