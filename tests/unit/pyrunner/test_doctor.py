"""doctor: the plan from diagnose's triage, the dependency order, the loop guard, the exit code."""

from __future__ import annotations

import io
from pathlib import Path

from pyrunner import doctor, render
from pyrunner.errors import ExitCode
from pyrunner.progress import HostProgress


def diagnosed(name: str, *fixes: str, status: str = "ok") -> HostProgress:
    host = HostProgress(name)
    host.unreachable = int(status == "unreachable")
    triage = [{"finding": f"x:{fix}", "summary": f"needs {fix}", "fix": fix} for fix in fixes]
    host.report = {"details": {"triage": triage}}
    return host


def test_plan_orders_fixes_by_dependency_and_lists_each_once() -> None:
    plans = doctor.plan_from({"dev-1": diagnosed("dev-1", "web-recover", "api-500", "mysql-connect", "api-500")})
    assert [s.fix for s in plans[0].steps] == ["mysql-connect", "api-500", "web-recover"]
    assert all(s.runnable for s in plans[0].steps)


def test_destructive_and_unknown_fixes_are_listed_not_run() -> None:
    plans = doctor.plan_from({"dev-1": diagnosed("dev-1", "mysql-restore", "no-such-fix", "api-slow")})
    steps = {s.fix or s.finding: s for s in plans[0].steps}
    assert steps["api-slow"].runnable
    assert not steps["mysql-restore"].runnable and "never runs it" in steps["mysql-restore"].note
    assert not steps["x:no-such-fix"].runnable and steps["x:no-such-fix"].note == "no automated fix"
    assert plans[0].steps[0].fix == "api-slow"  # what doctor can run comes first


def test_schedule_runs_each_fix_once_over_its_hosts_in_order() -> None:
    plans = doctor.plan_from(
        {
            "a": diagnosed("a", "api-500"),
            "b": diagnosed("b", "api-500", "mysql-connect"),
            "c": diagnosed("c"),
            "d": diagnosed("d", "milvus-restart"),
        }
    )
    assert doctor.schedule(plans) == [("mysql-connect", ["b"]), ("milvus-restart", ["d"]), ("api-500", ["a", "b"])]
    assert [p.healthy for p in plans] == [False, False, True, False]


def test_loop_guard_refuses_after_max_repeats_within_the_window(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    history = doctor.History(path, window_s=3600, max_repeats=2, now=10_000)
    history.record("dev-1", "mysql-connect", "changed")
    assert not history.refuses("dev-1", "mysql-connect")
    history.record("dev-1", "mysql-connect", "changed")
    history.save()
    assert path.stat().st_mode & 0o777 == 0o600
    again = doctor.History(path, window_s=3600, max_repeats=2, now=10_100)
    assert again.refuses("dev-1", "mysql-connect")
    assert not again.refuses("dev-2", "mysql-connect") and not again.refuses("dev-1", "api-500")
    later = doctor.History(path, window_s=3600, max_repeats=2, now=10_000 + 3601)
    assert not later.refuses("dev-1", "mysql-connect")  # out of the window


def test_a_corrupt_history_is_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text("{not json")
    assert doctor.History(path, 60, 1).entries == []


def test_exit_codes() -> None:
    healthy = doctor.plan_from({"a": diagnosed("a")})
    broken = doctor.plan_from({"a": diagnosed("a", "api-500")})
    far = doctor.plan_from({"b": diagnosed("b", status="unreachable")})
    assert doctor.exit_code(healthy, None, []) == ExitCode.OK
    assert doctor.exit_code(broken, None, []) == ExitCode.CHECK_CHANGES
    assert doctor.exit_code(broken + far, None, []) == ExitCode.UNREACHABLE
    assert doctor.exit_code(broken, healthy, []) == ExitCode.OK
    assert doctor.exit_code(broken, broken, []) == ExitCode.FIX_FAILED
    assert doctor.exit_code(broken + far, healthy + far, []) == ExitCode.UNREACHABLE
    refused = [{"fix": "api-500", "hosts": {}, "refused": {"a": "loop guard"}}]
    assert doctor.exit_code(broken, healthy, refused) == ExitCode.FIX_FAILED


def test_the_text_says_what_was_wrong_what_was_done_and_what_is_left() -> None:
    before = doctor.plan_from(
        {"a": diagnosed("a", "api-500", "mysql-connect"), "b": diagnosed("b", status="unreachable")}
    )
    before[1].error = "ssh: connect to host 127.0.0.1 port 2222: Connection refused"
    after = doctor.plan_from({"a": diagnosed("a", "api-500"), "b": diagnosed("b", status="unreachable")})
    document = {
        "diagnose_run": "/runs/1",
        "plan": [p.document() for p in before],
        "applied": [
            {
                "fix": "mysql-connect",
                "hosts": {"a": {"status": "changed", "done": ["started mysql"], "error": None}},
                "refused": {},
            },
            {"fix": "api-500", "hosts": {}, "refused": {"a": "loop guard: applied 3 times"}},
        ],
        "after": [p.document() for p in after],
        "exit_code": 5,
        "exit_meaning": "a fix failed on a host",
    }
    out = io.StringIO()
    render.print_doctor(document, stream=out)
    text = out.getvalue()
    assert "1. ods-fix mysql-connect  x:mysql-connect: needs mysql-connect" in text
    assert "2. ods-fix api-500" in text
    assert "b: unreachable: ssh: connect to host" in text
    assert "ods-fix mysql-connect on a: changed: started mysql" in text
    assert "ods-fix api-500 on a: refused: loop guard" in text
    assert "a: still needs a human" in text and "exit 5" in text


def test_what_only_the_user_can_change_is_said_before_and_after_the_fixes() -> None:
    host = diagnosed("a", "api-slow")
    limit = "redis was killed for lack of memory (OOM; it runs again): its memory limit is 24.0 MiB, set at x.yml:24"
    host.report["details"]["findings"] = [  # type: ignore[index]
        {"code": "stopped", "summary": "redis is not running"},
        {"code": "memory_killed", "summary": limit},
    ]
    plans = doctor.plan_from({"a": host})
    assert plans[0].for_you == [limit]
    healed = diagnosed("a")
    healed.report["details"]["findings"] = [{"code": "memory_killed", "summary": limit}]  # type: ignore[index]
    after = doctor.plan_from({"a": healed})
    assert after[0].healthy  # the service runs again: nothing left for doctor, the limit is left for the user
    out = io.StringIO()
    document = {"diagnose_run": "/r", "plan": [p.document() for p in plans], "applied": [],
                "after": [p.document() for p in after], "exit_code": 0, "exit_meaning": "ok"}  # fmt: skip
    render.print_doctor(document, stream=out)
    assert out.getvalue().count(f"for you: {limit}") == 2 and "a: healthy now" in out.getvalue()


def test_a_step_with_no_fix_carries_diagnose_s_note_on_why() -> None:
    host = diagnosed("a")
    why = "no automated fix: what keeps it down is for you to change (below)"
    host.report["details"]["triage"] = [  # type: ignore[index]
        {"finding": "restarting:redis", "summary": "redis keeps restarting (9 restarts)", "fix": None, "note": why}
    ]
    plans = doctor.plan_from({"a": host})
    assert [(s.finding, s.runnable, s.note) for s in plans[0].steps] == [("restarting:redis", False, why)]
    out = io.StringIO()
    document = {"diagnose_run": "/r", "plan": [p.document() for p in plans], "exit_code": 6, "exit_meaning": "x"}
    render.print_doctor(document, stream=out)
    assert f"1. (no automated fix)  restarting:redis: redis keeps restarting (9 restarts)  [{why}]" in out.getvalue()
