"""The perf report (plugin_utils/reports/perf.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_perf_lists_each_cause_s_remedy() -> None:
    triage = {
        "found": ["alldata-api at 180% CPU"],
        "causes": [{"remedy": "lower LOG_LEVEL to INFO"}],
        "stats": {},
        "hot": [],
        "mysql_io": {},
    }
    report = build(
        "perf", {"triage": triage, "log_level": {"actions": ["set LOG_LEVEL=INFO"], "left": []}, "restarts": SKIPPED}
    )
    assert report["done"] == ["set LOG_LEVEL=INFO"] and report["left"] == ["lower LOG_LEVEL to INFO"]
