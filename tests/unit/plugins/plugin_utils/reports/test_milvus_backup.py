"""The milvus-backup report (plugin_utils/reports/milvus_backup.py): what it found, did and left, from raw results."""

from __future__ import annotations

import importlib
from typing import Any

REPORTS = "ansible_collections.ods.fix.plugins.plugin_utils.reports"

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def build(fix: str, results: dict[str, Any], options: dict[str, Any] | None = None, check: bool = False, **kw: Any):
    module = importlib.import_module(f"{REPORTS}.{fix}")
    return getattr(module, kw.get("builder", "build"))(results, options or {}, check)


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
