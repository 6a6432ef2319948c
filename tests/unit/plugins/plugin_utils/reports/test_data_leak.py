"""The data-leak report (plugin_utils/reports/data_leak.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_data_leak_reports_the_rotation_and_what_stays_paused() -> None:
    audit = {
        "highlights": ["3 POST /admin from 203.0.113.9"],
        "summary": {"requests": 120},
        "window": {"services": ["web", "alldata-api"]},
    }
    results = {
        "paused": {"actions": ["paused alldata-api"]},
        "capture": {"files": [1, 2], "highlights": []},
        "audit": audit,
        "rotation": {"ok": False, "error": "x", "rolled_back": True, "left_out": ["OPENAI_API_KEY"], "done": []},
        "repaused": SKIPPED,
        "verified": {"sha256": "9" * 64},
    }
    options = {
        "bundle": "/e/leak.tar.gz",
        "targets": ["alldata-api"],
        "resume": False,
        "rotate": True,
        "window_hours": 24,
    }
    report = build("data_leak", results, options)
    assert report["done"][:3] == [
        "paused alldata-api",
        "captured 2 files of evidence, secrets redacted",
        "audited 120 requests of the last 24 h (web, alldata-api)",
    ]
    assert report["left"][0] == "the key rotation failed and was rolled back: x" and report["failed"]
    assert "still paused: alldata-api; close the leak, then: docker-compose unpause alldata-api" in report["left"]
    assert "fill in and send the notification checklist: /e/leak-checklist.md" in report["left"]
    fine = build("data_leak", {**results, "rotation": {}}, {**options, "resume": True})
    assert not fine["failed"] and not any(line.startswith("still paused") for line in fine["left"])
