"""The report builders (module_utils/reports/<fix>.py): what each fix says it found, did and left, from the raw
results its role registers. The Molecule scenarios check the same reports against real stacks; these check every
branch in milliseconds."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml

from pyrunner import catalog, paths

REPORTS = "ansible_collections.ods.fix.plugins.module_utils.reports"
SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def build(fix: str, results: dict[str, Any], options: dict[str, Any] | None = None, check: bool = False, **kw: Any):
    module = importlib.import_module(f"{REPORTS}.{fix}")
    return getattr(module, kw.get("builder", "build"))(results, options or {}, check)


def test_every_fix_role_reports_through_its_builder_from_raw_results() -> None:
    """One shape: each fix's role ends in report.yml, whose fix_report hands raw results to reports/<fix>.py."""
    roles = paths.roles_dir()
    fixes = {fix.role for fix in catalog.fixes()}
    # diagnose writes the report stack_diagnose builds (module_utils/diagnosis.py); discover reports no fix.
    reporting = [d.name for d in sorted(roles.iterdir()) if (d / "tasks" / "report.yml").is_file()]
    reporting.remove("diagnose")
    assert fixes <= {*reporting, "diagnose", "discover"}, fixes - set(reporting)
    assert len(reporting) >= 15, reporting
    for role in reporting:
        tasks = yaml.safe_load((roles / role / "tasks" / "report.yml").read_text())
        reports = [t for t in tasks if "ods.fix.fix_report" in t]
        assert reports, role
        args = reports[0]["ods.fix.fix_report"]
        assert "results" in args and not {"found", "done", "left"} & set(args), role
        assert hasattr(importlib.import_module(f"{REPORTS}.{role}"), "build"), role


def test_every_fix_role_ends_in_a_report_when_a_step_fails_and_every_changing_fix_takes_the_lock() -> None:
    """A failed run leaves its report (rescue: report.yml with the failure), and two runs that change things on
    one project never interleave (lock.yml first, unlock.yml always)."""
    roles = paths.roles_dir()
    for fix in catalog.fixes():
        if fix.role in ("diagnose", "discover"):
            continue
        main = yaml.safe_load((roles / fix.role / "tasks" / "main.yml").read_text())
        block = next(t for t in main if "block" in t)
        rescue = block.get("rescue") or []
        assert any(t.get("ansible.builtin.include_tasks") == "report.yml" and "ods_failed" in t.get("vars", {})
                   for t in rescue), f"{fix.role}: no rescue that reports the failure"  # fmt: skip
        report = yaml.safe_load((roles / fix.role / "tasks" / "report.yml").read_text())
        args = next(t for t in report if "ods.fix.fix_report" in t)["ods.fix.fix_report"]
        assert args.get("failure") == "{{ ods_failed | default(omit) }}", fix.role
        text = (roles / fix.role / "tasks" / "main.yml").read_text()
        if fix.changes:
            assert "tasks_from: lock.yml" in text and "tasks_from: unlock.yml" in text, f"{fix.role} takes no lock"
            unlock = block.get("always") or []
            assert any("unlock.yml" in str(t) for t in unlock), f"{fix.role} lets go of its lock only on success"


def test_a_failure_report_says_what_ran_what_failed_and_where_to_look() -> None:
    from ansible_collections.ods.fix.plugins.module_utils.reports.common import failure_report  # noqa: PLC0415

    built = build("mysql_disk", {"disk": {"found": ["95% used"], "done": ["purged binlogs"], "partial_archive": {
        "rows": 2000, "file": "/srv/archive/app.job_log.sql.gz"}}}, {})  # fmt: skip
    built["where"] = importlib.import_module(f"{REPORTS}.mysql_disk").where_to_look(
        {"disk": {"partial_archive": {"rows": 2000, "file": "/srv/archive/app.job_log.sql.gz"}}}, {}
    )
    failed = failure_report(built, {"task": "Free | Archive", "msg": "No space left on device"}, "/r/run/reports", "h")
    assert failed["found"] == ["95% used"] and failed["done"] == ["purged binlogs"] and failed["failed"]
    assert failed["left"][0] == "stopped: the step 'Free | Archive' failed: No space left on device"
    assert (
        "look at the archive /srv/archive/app.job_log.sql.gz (gunzip -c it into mysql to put its rows back)"
        in (failed["left"])
    )
    assert failed["left"][-1] == (
        "look at this report: /r/run/reports/h; the run's whole output: /r/run/runner/artifacts/*/stdout"
    )
    assert failed["msg"] == "No space left on device" and not failed.get("input_error")


# --- the fixes that check, fix and check again ------------------------------------------------------------


def test_api_500_reports_the_restarts_and_what_the_second_check_still_sees() -> None:
    before = {"ok": False, "problems": ["alldata-api answers 500"], "apis": {"alldata-api": {}}}
    after = {"ok": True, "problems": []}
    apis = {"changed": True, "actions": ["restarted alldata-api (a restart was asked for)"]}
    report = build("api_500", {"before": before, "after": after, "db": SKIPPED, "apis": apis})
    assert report["found"] == ["alldata-api answers 500"]
    assert report["done"] == apis["actions"]
    assert report["left"] == [] and not report["failed"]
    assert report["details"] == {"before": before, "after": after}

    still = {"ok": False, "problems": ["alldata-api answers 500"]}
    failed = build("api_500", {"before": before, "after": still, "db": SKIPPED, "apis": apis})
    assert failed["failed"] and failed["left"] == ["alldata-api answers 500"]


def test_a_check_run_reports_what_it_found_and_leaves_nothing_as_failed() -> None:
    before = {"ok": False, "problems": ["alldata-api answers 500"]}
    would = {"changed": True, "actions": ["would restart alldata-api"]}
    report = build("api_500", {"before": before, "after": SKIPPED, "db": SKIPPED, "apis": would}, check=True)
    assert report["done"] == ["would restart alldata-api"] and report["left"] == [] and not report["failed"]
    assert report["details"]["after"] is before


def test_api_500_refuses_with_the_missing_settings_named_once() -> None:
    before = {
        "problems": ["alldata-api: required setting JWT_SECRET is missing (KeyError at start)"],
        "missing_settings": {"alldata-api": ["JWT_SECRET"], "bisheng-api": ["JWT_SECRET", "DB_URL"]},
    }
    report = build("api_500", {"before": before}, builder="missing_settings")
    assert report["failed"] and "set JWT_SECRET, DB_URL where" in report["left"][0]
    assert report["msg"].startswith("alldata-api: required setting JWT_SECRET is missing")
    assert report["msg"].endswith("(nothing was changed)")


def test_mysql_connect_quotes_the_logged_symptom_only_with_a_problem_and_hints_at_the_reset() -> None:
    symptoms = {"alldata-api": {"last": "Can't connect to MySQL server on 'mysql'"}}
    before = {"ok": False, "problems": ["mysql is stopped"], "symptoms": symptoms}
    after = {"ok": False, "problems": ["the APIs' password is refused"], "credentials": {"code": 1045}}
    service = {"actions": ["started mysql"]}
    results = {"before": before, "after": after, "service_state": service, "password": SKIPPED}
    report = build("mysql_connect", results, {"reset_db_password": False})
    assert report["found"] == [
        "mysql is stopped",
        "the manual's symptom, logged: Can't connect to MySQL server on 'mysql'",
    ]
    assert report["done"] == ["started mysql"]
    assert report["left"][-1].startswith("re-run with --reset-db-password") and report["failed"]

    healthy = {"ok": True, "problems": [], "symptoms": symptoms}
    quiet = build("mysql_connect", {**results, "before": healthy, "after": healthy}, {"reset_db_password": True})
    assert quiet["found"] == [] and quiet["left"] == [] and not quiet["failed"]

    reset = {"changed": True, "action": "set the password of ods@% to the one the APIs use"}
    fixed = build("mysql_connect", {**results, "after": {"ok": True, "problems": []}, "password": reset})
    assert fixed["done"] == ["started mysql", "set the password of ods@% to the one the APIs use"]


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


def test_web_recover_words_the_rebuild_and_the_restart_for_web() -> None:
    before = {"ok": False, "problems": ["index.html is missing"], "dist": {"root": "/usr/share/nginx/html"}}
    after = {"ok": True, "problems": [], "http": {"asset": "/assets/index-abc.js"}}
    rebuild = {"actions": ["rebuilt web (a rebuild was asked for)"]}
    results = {"before": before, "after": after, "rebuild": rebuild, "config": SKIPPED, "restart": SKIPPED}
    report = build("web_recover", results)
    assert report["done"] == [
        "rebuilt web (/usr/share/nginx/html was missing or incomplete)",
        "GET / answers 200 with the app's index.html; /assets/index-abc.js loads",
    ]
    refused = build(
        "web_recover",
        {
            "before": {
                "problems": ["nginx -t fails"],
                "service": "web",
                "config": {"failing_line": "default.conf:12", "output": "x"},
            }
        },
        {"state_dir": "/var/lib/ods-fix/p/web"},
        builder="no_good_copy",
    )
    assert refused["failed"] and refused["left"][0].startswith(
        "fix default.conf:12, check it with docker-compose exec web nginx -t"
    )
    assert (
        refused["msg"]
        == "nginx -t fails: default.conf:12; no known-good copy in /var/lib/ods-fix/p/web (nothing was changed)"
    )


def test_cors_reports_each_api_and_the_proxy_only_ones_and_the_route_it_could_not_restore() -> None:
    before = {
        "ok": False,
        "problems": ["alldata-api refuses http://localhost:3000"],
        "apis": {"alldata-api": {}, "bisheng-api": {}},
        "proxy_only": ["bisheng-api"],
    }
    after = {"ok": True, "problems": [], "apis": {"alldata-api": {}, "bisheng-api": {}}, "proxy_only": ["bisheng-api"]}
    web = {"ok": True, "problems": []}
    setting = {"actions": ["set CORS_ALLOWED_ORIGINS in .env"], "left": []}
    restart = {"actions": ["restarted alldata-api (a restart was asked for)"]}
    results = {
        "before": before,
        "after": after,
        "web_before": web,
        "web_after": web,
        "setting": setting,
        "restart": restart,
        "web_config": SKIPPED,
        "web_restart": SKIPPED,
    }
    options = {"origins": ["http://localhost:3000"], "proxy_path": "/api/", "web_enabled": True}
    report = build("cors", results, options)
    assert report["done"] == [
        "set CORS_ALLOWED_ORIGINS in .env",
        "restarted alldata-api (it reads the allowed origins at start)",
        "the preflight from http://localhost:3000 passes on alldata-api",
        "bisheng-api read no CORS origin setting: a browser reaches it through the front end's same-origin proxy "
        "(the manual's remedies 1 and 3)",
        "web proxies /api/ to the API",
    ]
    unrouted = {
        "ok": False,
        "problems": ["web does not proxy /api/"],
        "http": {"proxy": {"routed": False}},
        "config": {"site": "/etc/nginx/conf.d/default.conf"},
    }
    broken = build("cors", {**results, "web_after": unrouted}, options)
    assert broken["failed"] and broken["left"][-1].startswith(
        "no known-good nginx config was kept to put back: restore the location /api/ block in "
        "/etc/nginx/conf.d/default.conf"
    )
    no_web = build("cors", {**results, "web_before": None, "web_after": unrouted}, {**options, "web_enabled": False})
    assert not no_web["failed"] and "web proxies /api/ to the API" not in no_web["done"]


def test_api_slow_reports_the_cache_the_queries_and_the_latency() -> None:
    redis = {"services": {"redis": {"before": "exited"}}, "actions": ["started redis"]}
    queries = {"slow": ["id 7: SELECT SLEEP(600) (610 s)"], "queries": [{"id": 7}]}
    health = {"problems": ["alldata-api /health took 2300 ms"], "apis": {"alldata-api": {"ms": 2300}}}
    results = {
        "redis": redis,
        "kill": SKIPPED,
        "pong": {"stdout": "PONG\n"},
        "queries_before": queries,
        "queries_after": SKIPPED,
        "health_before": health,
        "health_after": {"problems": [], "apis": {"alldata-api": {"ms": 12}}},
    }
    report = build("api_slow", results, {"kill_after": 0})
    assert report["found"] == [
        "redis is exited: the APIs run without their cache",
        "slow query: id 7: SELECT SLEEP(600) (610 s)",
        "alldata-api /health took 2300 ms",
    ]
    assert report["left"][0] == "still running: id 7: SELECT SLEEP(600) (610 s)" and "--kill-after" in report["left"][1]
    assert not report["failed"] and report["details"]["pong"] == "PONG"

    killed = build(
        "api_slow",
        {**results, "kill": {"killed": ["id 7 (SELECT, 610 s)"]}, "queries_after": {"slow": [], "queries": []}},
        {"kill_after": 60},
    )
    assert killed["done"] == ["started redis", "id 7 (SELECT, 610 s)"] and killed["left"] == []
    no_pong = build("api_slow", {**results, "pong": {"stdout": "NOAUTH"}}, {"kill_after": 0})
    assert no_pong["failed"] and no_pong["left"][0] == "redis-cli ping does not answer PONG"


# --- the fixes whose module reports its own findings -------------------------------------------------------


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


def test_perf_lists_each_cause_s_remedy() -> None:
    triage = {
        "found": ["alldata-api at 180% CPU"],
        "causes": [{"remedy": "lower LOG_LEVEL to INFO"}],
        "stats": {},
        "hot": [],
        "mysql_io": {},
    }
    report = build(
        "perf", {"triage": triage, "log_level": {"actions": ["set LOG_LEVEL=INFO"], "left": []}, "restarts": SKIPPED}
    )
    assert report["done"] == ["set LOG_LEVEL=INFO"] and report["left"] == ["lower LOG_LEVEL to INFO"]


# --- backups and restores ----------------------------------------------------------------------------------


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


# --- keys and incidents --------------------------------------------------------------------------------------


PLAN = {
    "plan": [{"name": "JWT_SECRET", "line": "JWT_SECRET: generated", "action": "rotate", "description": "JWT_SECRET"}],
    "keys": ["JWT_SECRET"],
    "actions": ["rotated JWT_SECRET"],
    "restart_services": ["alldata-api"],
    "recreate_services": [],
    "left_out": ["OPENAI_API_KEY"],
    "absent_services": [],
    "not_rotated": [],
    "backup": "/var/lib/ods-fix/p/settings/.env.1",
    "changed": True,
}


def test_rotate_keys_reports_the_rotation_the_provider_keys_and_the_backup() -> None:
    results = {
        "plan": PLAN,
        "error": "",
        "restarted": {"actions": ["restarted alldata-api (a restart was asked for)"]},
        "health": {"ok": True, "apis": {"alldata-api": {}}},
        "finished": {"actions": ["the old DB password is refused"]},
    }
    report = build("rotate_keys", results, {"rollback": False, "fail_on_error": True, "audit_log": "/a.log"})
    assert report["done"] == [
        "rotated JWT_SECRET",
        "restarted alldata-api (it reads its settings file at start)",
        "the APIs answer 200 on the new keys: alldata-api",
        "the old DB password is refused",
    ]
    assert report["left"][0].startswith("OPENAI_API_KEY is issued by its provider and was not rotated")
    assert (
        report["left"][1]
        == f"the old values are kept in {PLAN['backup']} (0600); ods-fix rotate-keys --rollback --yes puts them back"
    )
    assert not report["failed"] and report["details"]["outcome"]["ok"]


def test_rotate_keys_reports_a_failed_rotation_that_was_rolled_back() -> None:
    results = {
        "plan": PLAN,
        "error": "alldata-api answers 500",
        "rolled_back": {"changed": True, "actions": ["put back JWT_SECRET"]},
        "health_after": {"ok": True, "apis": {"alldata-api": {}}},
    }
    report = build("rotate_keys", results, {"rollback": False, "fail_on_error": True})
    assert report["failed"] and report["msg"] == (
        "rotation of JWT_SECRET failed: alldata-api answers 500; rolled back: the settings and the DB passwords are "
        "the old ones again; the services answer 200"
    )
    assert report["done"][-1] == "the APIs answer 200 again: alldata-api"
    lenient = build("rotate_keys", results, {"rollback": False, "fail_on_error": False})
    assert not lenient["failed"] and not lenient["details"]["outcome"]["ok"]
    could_not = build("rotate_keys", {"plan": {"failed": True, "msg": "no settings file"}}, {"fail_on_error": True})
    assert could_not["msg"] == "the rotation could not start: no settings file; nothing was changed"
    check = build("rotate_keys", {"plan": PLAN}, {}, check=True)
    assert check["done"] == [
        "would rotate JWT_SECRET",
        "would restart alldata-api (it reads its settings file at start)",
    ]


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


@pytest.mark.parametrize("fix", ["api_500", "cors", "milvus_restart", "mysql_connect", "web_recover"])
def test_a_builder_given_what_its_role_never_registered_fails_with_the_name_of_what_is_missing(fix: str) -> None:
    with pytest.raises(KeyError):
        build(fix, {})
