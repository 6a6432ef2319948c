"""The incident report (plugin_utils/reports/incident.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import build


def test_incident_reports_a_failed_capture_and_the_isolation_anyway() -> None:
    results = {
        "capture": {},
        "capture_failed": "disk full",
        "isolated": {"actions": ["stopped web"], "services": {"web": "stopped"}},
        "verified": {},
    }
    report = build("incident", results, {"bundle": "/e/i.tar.gz", "isolate": "stop"})
    assert report["found"] == ["the capture failed: disk full"] and report["done"] == ["stopped web"]
    assert report["left"][0].startswith("no evidence bundle") and report["failed"]
    assert report["msg"] == "the capture failed (disk full); the stack was isolated anyway (stop)"
    sealed = build(
        "incident",
        {
            **results,
            "capture_failed": "",
            "capture": {"files": [1], "redacted": ["A"]},
            "verified": {"sha256": "f" * 64, "files": 1},
        },
        {"bundle": "/e/i.tar.gz", "isolate": "none"},
    )
    assert sealed["done"][0] == "captured 1 files, the volatile state first, secret values redacted (1 names)"
    assert sealed["left"][0] == "evidence: /e/i.tar.gz; check it any time with: ods-fix incident verify /e/i.tar.gz"
    assert not sealed["failed"]
