"""The mysql-disk report (plugin_utils/reports/mysql_disk.py): what it found, did and left, from raw results."""

from __future__ import annotations

import importlib
from typing import Any

REPORTS = "ansible_collections.ods.fix.plugins.plugin_utils.reports"


def build(fix: str, results: dict[str, Any], options: dict[str, Any] | None = None, check: bool = False, **kw: Any):
    module = importlib.import_module(f"{REPORTS}.{fix}")
    return getattr(module, kw.get("builder", "build"))(results, options or {}, check)


def test_mysql_disk_asks_for_a_policy_when_the_disk_is_full_and_none_was_given() -> None:
    disk = {
        "found": ["/var/lib/mysql is 97% full"],
        "done": [],
        "problems": ["writes fail: ERROR 1114"],
        "full": True,
        "df": {},
        "schemas": {},
        "binlogs": [],
        "archives": [],
        "writable": False,
    }
    report = build("mysql_disk", {"disk": disk}, {"purge_binlogs_days": -1, "archive": []})
    assert report["left"][-1].startswith("nothing to free yet: choose a policy") and report["failed"]
    assert not build("mysql_disk", {"disk": disk}, {"purge_binlogs_days": -1, "archive": []}, check=True)["failed"]
    assert len(build("mysql_disk", {"disk": disk}, {"purge_binlogs_days": 7, "archive": []})["left"]) == 1
