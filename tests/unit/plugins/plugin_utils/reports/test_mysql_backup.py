"""The mysql-backup report (plugin_utils/reports/mysql_backup.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import build


def test_mysql_backup_says_where_the_dump_is_and_how_to_restore_it() -> None:
    backup = {
        "database": "ods",
        "file": "/var/lib/ods-fix/p/backups/ods.sql.gz",
        "manifest": "m.json",
        "sha256": "ab" * 32,
        "rows": {"a": 2, "b": 3},
        "up_to_date": False,
    }
    report = build(
        "mysql_backup",
        {"backup": backup, "fetched": ["./backups/dev1/ods.sql.gz", "./backups/dev1/m.json"]},
        {"fetch": True},
    )
    assert report["done"][0] == f"backed up ods (2 tables, 5 rows) to {backup['file']} (sha256 {'ab' * 6})"
    assert report["done"][1:] == [
        "on the controller: ./backups/dev1/ods.sql.gz",
        "on the controller: ./backups/dev1/m.json",
    ]
    assert report["left"] == ["restore with: ods-fix mysql-restore --backup ./backups/dev1/ods.sql.gz --yes"]
    same = build("mysql_backup", {"backup": {**backup, "up_to_date": True}}, {"fetch": False})
    assert same["done"] == [f"no change since {backup['file']}"] and same["left"] == []
    check = build("mysql_backup", {"backup": {"changed": True}}, {"database": "ods"}, check=True)
    assert check["done"] == ["would back up ods"]
    refused = build(
        "mysql_backup",
        {"made": {"rc": 1, "stderr": "mkdir: cannot create directory '/ro': Read-only file system"}},
        {"output": "/ro", "host": "dev1"},
        builder="output_refused",
    )
    assert (
        refused["input_error"]
        and refused["msg"]
        == "cannot make /ro/dev1 (cannot create directory '/ro': Read-only file system); nothing was backed up"
    )


def test_a_dump_that_failed_reports_nothing_done_without_an_error_of_its_own() -> None:
    failed = {"failed": True, "msg": "compose project p has no containers"}
    for results in ({"backup": failed}, {"backup": {"skipped": True}}):
        report = build("mysql_backup", results, {"database": "ods", "fetch": True})
        assert report["done"] == [] and report["left"] == [] and report["details"]["file"] == ""
