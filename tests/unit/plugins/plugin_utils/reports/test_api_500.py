"""The api-500 report (plugin_utils/reports/api_500.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_api_500_reports_the_restarts_and_what_the_second_check_still_sees() -> None:
    before = {"ok": False, "problems": ["alldata-api answers 500"], "apis": {"alldata-api": {}}}
    after = {"ok": True, "problems": []}
    apis = {"changed": True, "actions": ["restarted alldata-api (a restart was asked for)"]}
    report = build("api_500", {"before": before, "after": after, "db": SKIPPED, "apis": apis})
    assert report["found"] == ["alldata-api answers 500"]
    assert report["done"] == apis["actions"]
    assert report["left"] == [] and not report["failed"]
    assert report["details"] == {"before": before, "after": after}

    still = {"ok": False, "problems": ["alldata-api answers 500"]}
    failed = build("api_500", {"before": before, "after": still, "db": SKIPPED, "apis": apis})
    assert failed["failed"] and failed["left"] == ["alldata-api answers 500"]


def test_a_check_run_reports_what_it_found_and_leaves_nothing_as_failed() -> None:
    before = {"ok": False, "problems": ["alldata-api answers 500"]}
    would = {"changed": True, "actions": ["would restart alldata-api"]}
    report = build("api_500", {"before": before, "after": SKIPPED, "db": SKIPPED, "apis": would}, check=True)
    assert report["done"] == ["would restart alldata-api"] and report["left"] == [] and not report["failed"]
    assert report["details"]["after"] is before


def test_api_500_refuses_with_the_missing_settings_named_once() -> None:
    before = {
        "problems": ["alldata-api: required setting JWT_SECRET is missing (KeyError at start)"],
        "missing_settings": {"alldata-api": ["JWT_SECRET"], "bisheng-api": ["JWT_SECRET", "DB_URL"]},
    }
    report = build("api_500", {"before": before}, builder="missing_settings")
    assert report["failed"] and "set JWT_SECRET, DB_URL where" in report["left"][0]
    assert report["msg"].startswith("alldata-api: required setting JWT_SECRET is missing")
    assert report["msg"].endswith("(nothing was changed)")
