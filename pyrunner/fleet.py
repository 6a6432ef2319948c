"""Rate control over many hosts: batches (--serial), a failure threshold (--max-fail), a canary host first.

As AWS SSM's concurrency and error threshold, each a number or a percentage of the targeted hosts. Each
batch is one ansible-playbook run limited to its hosts; hosts of a batch run side by side (up to --forks)
and all finish. The threshold is checked between batches: once MORE THAN --max-fail hosts have failed
(failed, bad input or unreachable), no new batch starts and its hosts are reported as skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from pyrunner.progress import HostProgress
from pyrunner.runner import RunResult

FAILED_STATUSES = ("failed", "bad input", "unreachable")
DEFAULT_BATCH = 10  # ansible.cfg's forks: the batch size of --max-fail without --serial or --forks


@dataclass(frozen=True)
class Amount:
    """A count of hosts, or a percentage of the hosts targeted."""

    value: int
    percent: bool = False

    @classmethod
    def parse(cls, text: str) -> Amount:
        raw = text.strip()
        percent = raw.endswith("%")
        number = raw.removesuffix("%").strip()
        if not number.isdigit() or (percent and int(number) > 100):
            raise ValueError(f"{text!r} is neither a number of hosts (3) nor a percentage (25%)")
        return cls(int(number), percent)

    def hosts_of(self, total: int) -> float:
        return self.value * total / 100 if self.percent else float(self.value)

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


@dataclass(frozen=True)
class RateControl:
    serial: Amount | None = None
    max_fail: Amount | None = None
    canary: bool = False
    forks: int | None = None

    @property
    def active(self) -> bool:
        return self.serial is not None or self.max_fail is not None or self.canary

    def batch_size(self, total: int) -> int:
        if self.serial is not None:
            return max(1, math.floor(self.serial.hosts_of(total)))
        if self.max_fail is not None:
            return self.forks or DEFAULT_BATCH
        return max(total, 1)

    def batches(self, hosts: list[str]) -> list[list[str]]:
        rest = list(hosts)
        first: list[list[str]] = []
        if self.canary and rest:
            first, rest = [[rest[0]]], rest[1:]
        size = self.batch_size(len(hosts))
        return first + [rest[i : i + size] for i in range(0, len(rest), size)]

    def over_threshold(self, failed: int, total: int) -> bool:
        """True once more than --max-fail hosts failed ("more than": --max-fail 0 stops at the first failure)."""
        return self.max_fail is not None and failed > self.max_fail.hosts_of(total)


@dataclass
class FleetRun:
    """What run_batches did, beside the merged result: the batches, and why it stopped early."""

    batches: list[list[str]] = field(default_factory=list)
    stopped: str | None = None


RunBatch = Callable[[list[str], int], RunResult]


def run_batches(
    hosts: list[str], rate: RateControl, run_batch: RunBatch, announce: Callable[[str], None] = lambda _: None
) -> tuple[RunResult, FleetRun]:
    """Run the batches in order, stopping at the threshold or a failed canary; returns the merged result."""
    fleet = FleetRun(batches=rate.batches(hosts))
    merged: RunResult | None = None
    for number, batch in enumerate(fleet.batches, start=1):
        if len(fleet.batches) > 1:
            announce(f"batch {number}/{len(fleet.batches)}: {', '.join(batch)}")
        result = run_batch(batch, number)
        merged = result if merged is None else merge(merged, result)
        for name in batch:  # a host that never produced an event (e.g. refused before the play) still gets a row
            merged.hosts.setdefault(name, HostProgress(name, not_run="no result from ansible-playbook"))
        remaining = [h for later in fleet.batches[number:] for h in later]
        if not remaining:
            break
        stop = stop_reason(rate, result, merged, batch=batch, number=number, total=len(hosts))
        if stop:
            fleet.stopped, reason = stop
            announce(f"{fleet.stopped}; not starting {', '.join(remaining)}")
            for name in remaining:
                merged.hosts[name] = HostProgress(name, not_run=reason)
            break
    assert merged is not None, "run_batches needs at least one host"
    return merged, fleet


def stop_reason(
    rate: RateControl, result: RunResult, merged: RunResult, *, batch: list[str], number: int, total: int
) -> tuple[str, str] | None:
    """Why no further batch starts after this one, and the reason given for the hosts never started; or None."""
    if result.status == "canceled":
        return "interrupted", "interrupted"
    failed = sum(1 for h in merged.hosts.values() if h.status in FAILED_STATUSES)
    if rate.canary and number == 1 and failed:
        return f"the canary {batch[0]} did not succeed ({merged.hosts[batch[0]].status})", "canary failed"
    if rate.over_threshold(failed, total):
        message = f"failure threshold reached: {failed} failed, more than --max-fail {rate.max_fail} of {total}"
        return message, "failure threshold reached"
    return None


def merge(first: RunResult, later: RunResult) -> RunResult:
    hosts = {**first.hosts, **later.hosts}
    statuses = {first.status, later.status}
    status = next((s for s in ("canceled", "timeout", "failed") if s in statuses), first.status)
    return RunResult(
        fix=first.fix,
        check=first.check,
        run_dir=first.run_dir,
        status=status,
        rc=max(first.rc, later.rc),
        hosts=hosts,
        stdout_tail=later.stdout_tail or first.stdout_tail,
        seconds=first.seconds + later.seconds,
    )
