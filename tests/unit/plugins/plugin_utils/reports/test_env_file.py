"""The env-file report (plugin_utils/reports/env_file.py): what it found, wrote and left, from raw results."""

from __future__ import annotations

from ansible_collections.ods.fix.plugins.plugin_utils.reports import env_file

MISSING = "Compose reads /src/deploy/local/.env, which is missing"
REQUIRED = "required and unset (every Compose command fails): MYSQL_ROOT_PASSWORD (docker-compose.yml:18)"
WROTE = "wrote /src/deploy/local/.env: MYSQL_ROOT_PASSWORD, REDIS_PASSWORD (as the containers were made)"
LEFT = "MYSQL_ROOT_PASSWORD (used at docker-compose.yml:18): mysql keeps data made with the old value (a volume exists)"


def test_env_file_reports_what_it_found_and_what_it_wrote_and_nothing_left_once_written() -> None:
    results = {
        "before": {"ok": False, "problems": [MISSING, REQUIRED], "left": []},
        "after": {"ok": True, "problems": [], "left": []},
        "fix": {"changed": True, "actions": [WROTE], "left": []},
    }
    built = env_file.build(results, {}, False)
    assert built["found"] == [MISSING, REQUIRED]
    assert built["done"] == [WROTE]
    assert built["left"] == [] and not built["failed"]


def test_a_required_value_nothing_gives_fails_the_fix_with_nothing_written_its_line_said_once() -> None:
    results = {
        "before": {"ok": False, "problems": [MISSING, REQUIRED], "left": [LEFT]},
        "after": {"ok": False, "problems": [MISSING, REQUIRED], "left": [LEFT]},
        "fix": {"failed": True, "changed": False, "left": [LEFT]},
    }
    built = env_file.build(results, {}, False)
    assert built["done"] == [] and built["failed"]
    assert built["left"] == [MISSING, REQUIRED]  # the failure's own line (added by the run) names LEFT


def test_a_check_run_reports_what_it_found_and_leaves_nothing_as_failed() -> None:
    results = {"before": {"ok": False, "problems": [MISSING], "left": []}, "fix": {"changed": True, "actions": []}}
    built = env_file.build(results, {}, True)
    assert built["found"] == [MISSING] and built["left"] == [] and not built["failed"]
