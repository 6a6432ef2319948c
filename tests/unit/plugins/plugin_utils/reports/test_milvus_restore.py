"""The milvus-restore report (plugin_utils/reports/milvus_restore.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import build


def test_milvus_restore_asks_for_the_confirmation_that_drops_the_kept_copies() -> None:
    restore = {
        "restored": [{"name": "docs", "kept": "docs__kept_20261204"}, {"name": "faq", "kept": ""}],
        "done": ["restored docs"],
    }
    report = build(
        "milvus_restore",
        {
            "checked": {"sha256": "x"},
            "plan": {"found": ["docs: 3 rows"], "unchanged": ["faq unchanged"]},
            "restore": restore,
            "kept": {},
        },
    )
    assert report["done"] == ["restored docs", "faq unchanged"]
    assert report["left"] == [
        "once the restored data is confirmed, ods-fix milvus-restore --confirm --yes drops docs__kept_20261204"
    ]
