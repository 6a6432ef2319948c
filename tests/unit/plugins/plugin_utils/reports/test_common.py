"""What every report builder shares (plugin_utils/reports/common.py): every fix role reports through its builder,
ends in a report when a step fails, and a builder given what its role never registered names what is missing."""

from __future__ import annotations

import importlib

import pytest
import yaml

from pyrunner import catalog, paths
from tests.unit.plugins.plugin_utils.reports.builders import REPORTS, build


def test_every_fix_role_reports_through_its_builder_from_raw_results() -> None:
    """One shape: each fix's role ends in report.yml, whose fix_report hands raw results to reports/<fix>.py."""
    roles = paths.roles_dir()
    fixes = {fix.role for fix in catalog.fixes()}
    # diagnose writes the report stack_diagnose builds (module_utils/stack/diagnosis.py); discover reports no fix.
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
    from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import failure_report  # noqa: PLC0415

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


@pytest.mark.parametrize("fix", ["api_500", "cors", "milvus_restart", "mysql_connect", "web_recover"])
def test_a_builder_given_what_its_role_never_registered_fails_with_the_name_of_what_is_missing(fix: str) -> None:
    with pytest.raises(KeyError):
        build(fix, {})
