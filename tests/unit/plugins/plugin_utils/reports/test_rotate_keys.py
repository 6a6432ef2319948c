"""The rotate-keys report (plugin_utils/reports/rotate_keys.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import build

PLAN = {
    "plan": [{"name": "JWT_SECRET", "line": "JWT_SECRET: generated", "action": "rotate", "description": "JWT_SECRET"}],
    "keys": ["JWT_SECRET"],
    "actions": ["rotated JWT_SECRET"],
    "restart_services": ["alldata-api"],
    "recreate_services": [],
    "left_out": ["OPENAI_API_KEY"],
    "absent_services": [],
    "not_rotated": [],
    "backup": "/var/lib/ods-fix/p/settings/.env.1",
    "changed": True,
}


def test_rotate_keys_reports_the_rotation_the_provider_keys_and_the_backup() -> None:
    results = {
        "plan": PLAN,
        "error": "",
        "restarted": {"actions": ["restarted alldata-api (a restart was asked for)"]},
        "health": {"ok": True, "apis": {"alldata-api": {}}},
        "finished": {"actions": ["the old DB password is refused"]},
    }
    report = build("rotate_keys", results, {"rollback": False, "fail_on_error": True, "audit_log": "/a.log"})
    assert report["done"] == [
        "rotated JWT_SECRET",
        "restarted alldata-api (it reads its settings file at start)",
        "the APIs answer 200 on the new keys: alldata-api",
        "the old DB password is refused",
    ]
    assert report["left"][0].startswith("OPENAI_API_KEY is issued by its provider and was not rotated")
    assert (
        report["left"][1]
        == f"the old values are kept in {PLAN['backup']} (0600); ods-fix rotate-keys --rollback --yes puts them back"
    )
    assert not report["failed"] and report["details"]["outcome"]["ok"]


def test_rotate_keys_reports_a_failed_rotation_that_was_rolled_back() -> None:
    results = {
        "plan": PLAN,
        "error": "alldata-api answers 500",
        "rolled_back": {"changed": True, "actions": ["put back JWT_SECRET"]},
        "health_after": {"ok": True, "apis": {"alldata-api": {}}},
    }
    report = build("rotate_keys", results, {"rollback": False, "fail_on_error": True})
    assert report["failed"] and report["msg"] == (
        "rotation of JWT_SECRET failed: alldata-api answers 500; rolled back: the settings and the DB passwords are "
        "the old ones again; the services answer 200"
    )
    assert report["done"][-1] == "the APIs answer 200 again: alldata-api"
    lenient = build("rotate_keys", results, {"rollback": False, "fail_on_error": False})
    assert not lenient["failed"] and not lenient["details"]["outcome"]["ok"]
    could_not = build("rotate_keys", {"plan": {"failed": True, "msg": "no settings file"}}, {"fail_on_error": True})
    assert could_not["msg"] == "the rotation could not start: no settings file; nothing was changed"
    check = build("rotate_keys", {"plan": PLAN}, {}, check=True)
    assert check["done"] == [
        "would rotate JWT_SECRET",
        "would restart alldata-api (it reads its settings file at start)",
    ]
