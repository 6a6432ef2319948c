"""The mysql-connect report (plugin_utils/reports/mysql_connect.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_mysql_connect_quotes_the_logged_symptom_only_with_a_problem_and_hints_at_the_reset() -> None:
    symptoms = {"alldata-api": {"last": "Can't connect to MySQL server on 'mysql'"}}
    before = {"ok": False, "problems": ["mysql is stopped"], "symptoms": symptoms}
    after = {"ok": False, "problems": ["the APIs' password is refused"], "credentials": {"code": 1045}}
    service = {"actions": ["started mysql"]}
    results = {"before": before, "after": after, "service_state": service, "password": SKIPPED}
    report = build("mysql_connect", results, {"reset_db_password": False})
    assert report["found"] == [
        "mysql is stopped",
        "the manual's symptom, logged: Can't connect to MySQL server on 'mysql'",
    ]
    assert report["done"] == ["started mysql"]
    assert report["left"][-1].startswith("re-run with --reset-db-password") and report["failed"]

    healthy = {"ok": True, "problems": [], "symptoms": symptoms}
    quiet = build("mysql_connect", {**results, "before": healthy, "after": healthy}, {"reset_db_password": True})
    assert quiet["found"] == [] and quiet["left"] == [] and not quiet["failed"]

    reset = {"changed": True, "action": "set the password of ods@% to the one the APIs use"}
    fixed = build("mysql_connect", {**results, "after": {"ok": True, "problems": []}, "password": reset})
    assert fixed["done"] == ["started mysql", "set the password of ods@% to the one the APIs use"]
