"""The mysql-restore report (plugin_utils/reports/mysql_restore.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_mysql_restore_reports_the_swap_the_load_and_the_downtime() -> None:
    swap = {"kept": "ods__kept_1", "verified": {"rows": {"a": 2, "b": 3}}, "pruned": ["ods__kept_0"], "problems": []}
    load = {
        "seconds": 4.2,
        "loaded_with": {"a": "LOAD DATA", "b": "INSERT"},
        "checks": ["rows counted"],
        "info": {"sha256": "ef"},
    }
    results = {
        "dump": {"checks": ["complete"], "sha256": "ef", "database": "ods"},
        "plan": {"plan": {"up_to_date": False}},
        "load": load,
        "swap": swap,
        "rolled": SKIPPED,
        "stopped": {"actions": ["stopped alldata-api"]},
        "started": {"actions": ["started alldata-api"]},
        "restarted": SKIPPED,
        "down_s": 1.5,
    }
    report = build("mysql_restore", results, {"services": []})
    assert report["done"][:3] == [
        "restored ods: 2 tables, 5 rows, each table's count equal to the dump's",
        "kept the replaced data in ods__kept_1 (ods-fix mysql-restore --rollback puts it back)",
        "loaded in 4.2 s while the APIs ran (1 tables through LOAD DATA, the others from their INSERTs); the APIs "
        "were down 1.5 s (stopped, swapped, started, healthy)",
    ]
    assert report["done"][3:] == [
        "dropped the oldest kept copy ods__kept_0",
        "stopped alldata-api",
        "started alldata-api",
    ]
    assert report["found"] == ["complete", "rows counted"] and report["details"]["kept"] == "ods__kept_1"

    again = build(
        "mysql_restore",
        {
            **results,
            "plan": {"plan": {"up_to_date": True}},
            "load": SKIPPED,
            "swap": SKIPPED,
            "stopped": SKIPPED,
            "started": SKIPPED,
        },
        {},
    )
    assert again["done"] == ["already restored: ods holds this backup, unchanged since (same checksums); nothing to do"]
    check = build(
        "mysql_restore",
        {**results, "load": SKIPPED, "swap": SKIPPED, "stopped": SKIPPED, "started": SKIPPED},
        {"backup": "d.sql", "services": ["alldata-api"]},
        check=True,
    )
    assert check["done"] == [
        "would load d.sql into a shadow copy, stop alldata-api, swap it into ods and keep the old tables"
    ]
    room = build(
        "mysql_restore",
        {"dump": {"checks": ["complete"]}, "plan": {"plan": {"room": False, "free_mb": 10, "needed_mb": 300}}},
        {},
        builder="no_room",
    )
    assert (
        room["input_error"]
        and room["msg"]
        == "MySQL's data directory has 10 MB free, the shadow copy needs about 300 MB; nothing was changed"
    )
