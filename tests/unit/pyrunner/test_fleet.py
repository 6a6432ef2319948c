"""Rate control: batches, the failure threshold (more than N / P%), the canary; with a fake batch runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrunner.errors import ExitCode
from pyrunner.fleet import Amount, RateControl, run_batches
from pyrunner.progress import HostProgress
from pyrunner.runner import RunResult

HOSTS = [f"dev-{n}" for n in range(1, 9)]


def fake_runner(outcomes: dict[str, str], started: list[list[str]]):  # type: ignore[no-untyped-def]
    """A run_batch whose hosts end as outcomes says (default ok); records the batches it was given."""

    def run(batch: list[str], number: int) -> RunResult:
        started.append(batch)
        hosts = {}
        for name in batch:
            host = HostProgress(name)
            outcome = outcomes.get(name, "ok")
            host.failed = int(outcome == "failed")
            host.unreachable = int(outcome == "unreachable")
            host.changed = int(outcome == "changed")
            host.finished = host.started
            hosts[name] = host
        status = "failed" if any(h.failed or h.unreachable for h in hosts.values()) else "successful"
        return RunResult("diagnose", False, Path("/nonexistent"), status, 2 if status == "failed" else 0, hosts)

    return run


@pytest.mark.parametrize(
    ("text", "total", "hosts"),
    [("3", 8, 3.0), ("25%", 8, 2.0), ("10%", 8, 0.8), ("0", 8, 0.0), ("100%", 8, 8.0)],
)
def test_amount_is_a_count_or_a_share(text: str, total: int, hosts: float) -> None:
    assert Amount.parse(text).hosts_of(total) == hosts


@pytest.mark.parametrize("text", ["", "-1", "1.5", "101%", "ten", "%"])
def test_amount_refuses_what_is_not_one(text: str) -> None:
    with pytest.raises(ValueError, match="neither a number"):
        Amount.parse(text)


def test_batches_serial_count_percentage_and_canary() -> None:
    assert RateControl(serial=Amount(3)).batches(HOSTS) == [HOSTS[0:3], HOSTS[3:6], HOSTS[6:8]]
    assert RateControl(serial=Amount(25, percent=True)).batches(HOSTS) == [HOSTS[i : i + 2] for i in (0, 2, 4, 6)]
    assert RateControl(serial=Amount(1, percent=True)).batches(HOSTS)[0] == ["dev-1"]  # never an empty batch
    assert RateControl(canary=True).batches(HOSTS) == [["dev-1"], HOSTS[1:]]
    assert RateControl(max_fail=Amount(0), forks=4).batches(HOSTS) == [HOSTS[:4], HOSTS[4:]]


def test_threshold_is_more_than_not_at_least() -> None:
    rate = RateControl(serial=Amount(1), max_fail=Amount(2))
    assert not rate.over_threshold(2, 8) and rate.over_threshold(3, 8)
    share = RateControl(serial=Amount(1), max_fail=Amount(25, percent=True))
    assert not share.over_threshold(2, 8) and share.over_threshold(3, 8)
    assert RateControl(max_fail=Amount(0)).over_threshold(1, 8)


def test_no_new_batch_once_more_than_max_fail_failed() -> None:
    started: list[list[str]] = []
    rate = RateControl(serial=Amount(2), max_fail=Amount(1))
    outcomes = {"dev-1": "failed", "dev-3": "unreachable"}
    result, fleet = run_batches(HOSTS, rate, fake_runner(outcomes, started))
    assert started == [["dev-1", "dev-2"], ["dev-3", "dev-4"]]  # 1 failed is not more than 1; 2 is
    assert result.hosts["dev-4"].status == "ok"  # hosts already running finish
    skipped = sorted(n for n, h in result.hosts.items() if h.status == "skipped")
    assert skipped == HOSTS[4:]
    assert result.hosts["dev-5"].not_run == "failure threshold reached"
    assert fleet.stopped and "2 failed, more than --max-fail 1 of 8" in fleet.stopped
    assert result.exit_code == ExitCode.FIX_FAILED


def test_a_failed_canary_stops_the_rest_and_a_good_one_lets_all_run() -> None:
    started: list[list[str]] = []
    result, fleet = run_batches(HOSTS, RateControl(canary=True), fake_runner({"dev-1": "unreachable"}, started))
    assert started == [["dev-1"]]
    assert {h.not_run for n, h in result.hosts.items() if n != "dev-1"} == {"canary failed"}
    assert result.exit_code == ExitCode.UNREACHABLE and fleet.stopped and "canary dev-1" in fleet.stopped

    started.clear()
    result, fleet = run_batches(HOSTS, RateControl(canary=True), fake_runner({"dev-1": "changed"}, started))
    assert started == [["dev-1"], HOSTS[1:]] and fleet.stopped is None
    assert all(h.status in ("ok", "changed") for h in result.hosts.values())


def test_without_a_threshold_every_batch_runs_whatever_fails() -> None:
    started: list[list[str]] = []
    outcomes = dict.fromkeys(HOSTS[:6], "failed")
    result, fleet = run_batches(HOSTS, RateControl(serial=Amount(3)), fake_runner(outcomes, started))
    assert len(started) == 3 and fleet.stopped is None
    assert sum(h.status == "failed" for h in result.hosts.values()) == 6
