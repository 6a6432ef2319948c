"""The mysql-disk report (plugin_utils/reports/mysql_disk.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import build


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
