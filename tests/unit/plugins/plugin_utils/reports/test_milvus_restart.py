"""The milvus-restart report (plugin_utils/reports/milvus_restart.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_milvus_restart_lists_the_collections_and_says_how_to_fix_a_wrong_host() -> None:
    before = {
        "ok": False,
        "problems": ["MILVUS_HOST is milvus-standlone"],
        "config": {"expected_host": "milvus", "expected_port": 19530, "problems": ["x"]},
    }
    after = {
        "ok": False,
        "problems": ["MILVUS_HOST is milvus-standlone"],
        "config": {"problems": ["x"]},
        "collections": {"ok": True, "rows": {"docs": 3}},
    }
    results = {
        "before": before,
        "after": after,
        "dependencies": {"actions": []},
        "milvus": {"actions": ["restarted milvus"]},
        "config": SKIPPED,
    }
    report = build("milvus_restart", results)
    assert report["done"] == ["restarted milvus", "VectorStore().list_collections() answers: docs: 3"]
    assert report["left"][-1].startswith("set MILVUS_HOST=milvus and MILVUS_PORT=19530") and report["failed"]
    check = build("milvus_restart", {**results, "after": SKIPPED}, check=True)
    assert check["left"] == [] and check["done"] == ["restarted milvus"]
