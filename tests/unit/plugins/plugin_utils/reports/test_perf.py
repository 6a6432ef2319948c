"""The perf report (plugin_utils/reports/perf.py): what it found, did and left, from raw results."""

from __future__ import annotations

import importlib
from typing import Any

REPORTS = "ansible_collections.ods.fix.plugins.plugin_utils.reports"

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def build(fix: str, results: dict[str, Any], options: dict[str, Any] | None = None, check: bool = False, **kw: Any):
    module = importlib.import_module(f"{REPORTS}.{fix}")
    return getattr(module, kw.get("builder", "build"))(results, options or {}, check)


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
