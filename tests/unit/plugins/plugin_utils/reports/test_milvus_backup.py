"""The milvus-backup report (plugin_utils/reports/milvus_backup.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_milvus_backup_lists_each_collection_s_rows() -> None:
    export = {
        "file": "/b/milvus.tar",
        "sha256": "cd" * 32,
        "up_to_date": False,
        "manifest": {"collections": [{"name": "docs", "rows": 3}, {"name": "faq", "rows": 1}]},
    }
    report = build("milvus_backup", {"export": export, "fetched": ["./b/milvus.tar"]}, {"fetch": True, "dest": "/b"})
    assert report["done"] == [
        f"exported docs: 3 rows, faq: 1 rows to /b/milvus.tar (sha256 {'cd' * 6})",
        "on the controller: ./b/milvus.tar",
    ]
    check = build("milvus_backup", {"export": SKIPPED}, {"collections": [], "dest": "/b"}, check=True)
    assert check["done"] == ["would export every collection to /b"] and check["left"] == []


def test_an_export_that_failed_reports_nothing_done_without_an_error_of_its_own() -> None:
    failed = {"failed": True, "msg": "Milvus does not answer"}
    for results in ({"export": failed}, {"export": {"skipped": True}}):
        report = build("milvus_backup", results, {"collections": [], "dest": "/d", "fetch": True})
        assert report["done"] == [] and report["left"] == [] and report["details"]["file"] == ""
