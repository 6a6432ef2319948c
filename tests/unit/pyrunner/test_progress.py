"""Runner events to per-host progress, and results to exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyrunner.errors import ExitCode
from pyrunner.progress import Progress
from pyrunner.render import job_line
from pyrunner.runner import RunResult, filtered_env


def event(kind: str, host: str = "h1", task: str = "Do it", **res: Any) -> dict[str, Any]:
    return {"event": kind, "event_data": {"host": host, "task": task, "res": res}}


def run(events: list[dict[str, Any]], check: bool = False, rc: int = 0, status: str = "successful") -> RunResult:
    progress = Progress()
    for item in events:
        progress.handle(item)
    return RunResult("diagnose", check, Path("/tmp/run"), status, rc, progress.hosts)


def test_progress_counts_and_keeps_the_report() -> None:
    progress = Progress()
    progress.handle({"event": "playbook_on_task_start", "event_data": {"task": "Diagnose"}})
    progress.handle(event("runner_on_start"))
    assert progress.hosts["h1"].task == "Do it"
    progress.handle(event("runner_on_ok", changed=True))
    progress.handle(event("runner_on_ok", ods_report={"found": ["x"]}))
    progress.handle(event("runner_on_skipped"))
    host = progress.hosts["h1"]
    assert (host.ok, host.changed, host.skipped, host.tasks_done) == (2, 1, 1, 3)
    assert host.report == {"found": ["x"]}
    assert host.status == "changed"


def test_failure_message_is_one_line() -> None:
    result = run([event("runner_on_failed", msg="cannot reach the Docker engine\nsecond line")])
    assert result.hosts["h1"].error == "cannot reach the Docker engine second line"


def test_ignored_errors_do_not_count() -> None:
    progress = Progress()
    progress.handle({"event": "runner_on_failed", "event_data": {"host": "h1", "ignore_errors": True, "res": {}}})
    assert progress.hosts["h1"].failed == 0


@pytest.mark.parametrize(
    ("events", "check", "expected"),
    [
        ([event("runner_on_ok")], False, ExitCode.OK),
        ([event("runner_on_ok", changed=True)], False, ExitCode.OK),
        ([event("runner_on_ok", changed=True)], True, ExitCode.CHECK_CHANGES),
        ([event("runner_on_unreachable", msg="ssh: refused")], False, ExitCode.UNREACHABLE),
        ([event("runner_on_failed", msg="boom")], False, ExitCode.FIX_FAILED),
        ([event("runner_on_failed", task="Preflight | Inspect", msg="no engine")], False, ExitCode.BAD_INPUT),
        ([event("runner_on_failed", msg="no engine", ods_failure="input")], False, ExitCode.BAD_INPUT),
        (
            [event("runner_on_failed", task="Validating arguments against arg spec 'main'", msg="x")],
            False,
            ExitCode.BAD_INPUT,
        ),
        # several hosts: a failed fix outranks an unreachable host, which outranks bad input
        (
            [event("runner_on_unreachable", host="a", msg="x"), event("runner_on_failed", host="b", msg="y")],
            False,
            ExitCode.FIX_FAILED,
        ),
        (
            [
                event("runner_on_unreachable", host="a", msg="x"),
                event("runner_on_failed", host="b", task="Preflight | x", msg="y"),
            ],
            False,
            ExitCode.UNREACHABLE,
        ),
        (
            [event("runner_on_ok", host="a", changed=True), event("runner_on_unreachable", host="b", msg="x")],
            True,
            ExitCode.UNREACHABLE,
        ),
    ],
)
def test_exit_code(events: list[dict[str, Any]], check: bool, expected: ExitCode) -> None:
    assert run(events, check=check).exit_code == expected


def test_canceled_run_is_interrupted() -> None:
    assert run([event("runner_on_ok")], status="canceled").exit_code == ExitCode.INTERRUPTED


def test_playbook_refused_without_hosts_is_bad_input() -> None:
    assert run([], rc=4).exit_code == ExitCode.BAD_INPUT


def test_environment_allow_list_drops_secrets_from_the_shell() -> None:
    env = {
        "PATH": "/bin",
        "OPENAI_API_KEY": "sk-live",
        "MYSQL_PASSWORD": "pw",
        "DOCKER_HOST": "unix:///x",
        "ODS_FIX_HOME": "/h",
        "ANSIBLE_CONFIG": "/a.cfg",
        "AWS_SECRET_ACCESS_KEY": "aws",
    }
    assert filtered_env(env) == {
        "PATH": "/bin",
        "DOCKER_HOST": "unix:///x",
        "ODS_FIX_HOME": "/h",
        "ANSIBLE_CONFIG": "/a.cfg",
    }


def test_job_line_shows_rows_of_total_and_row_rate() -> None:
    line = job_line(
        {
            "phase": "inserting into docs",
            "rows": 1500,
            "total_rows": 3000,
            "percent": 50.0,
            "rate_rows_s": 4200,
            "eta_s": 1,
        }
    )
    assert line == "inserting into docs: 50%, 1,500/3,000 rows, 4,200 rows/s, ETA 1 s"
