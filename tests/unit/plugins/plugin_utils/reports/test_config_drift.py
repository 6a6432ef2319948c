"""The config-drift report (plugin_utils/reports/config_drift.py): what it found, did and left, from raw results
shaped as compose_drift and compose_service return them (a real run's, on the local layout)."""

from __future__ import annotations

from ansible_collections.ods.fix.plugins.plugin_utils.reports import config_drift

DRIFT = "data-api (one-data-api) runs with old settings: settings changed since it was created: LOG_LEVEL"
HELD = (
    "data-api (one-data-api) runs with old settings: settings changed since it was created: TZ; not recreated: its "
    "own layer holds 1 file(s) no volume keeps (/app/data/uploads.db; docker diff one-data-api): copy them out, "
    "then: docker compose -p p --project-directory /srv/deploy/local -f /srv/deploy/local/docker-compose.yml up -d "
    "--no-deps --force-recreate data-api"
)
RECREATED = "recreate data-api (its environment is fixed when it is created: a restart would not read its new settings)"


def test_a_drifted_api_is_recreated_and_nothing_is_left() -> None:
    results = {
        "before": {"ok": False, "problems": [DRIFT], "note": ""},
        "after": {"ok": True, "problems": [], "note": ""},
        "fix": {"changed": True, "actions": [RECREATED]},
    }
    built = config_drift.build(results, {}, False)
    assert built["found"] == [DRIFT]
    assert built["done"] == [RECREATED]
    assert built["left"] == [] and not built["failed"]


def test_a_container_holding_files_is_left_with_the_files_and_the_command_and_the_run_fails() -> None:
    results = {
        "before": {"ok": False, "problems": [HELD], "note": ""},
        "after": {"ok": False, "problems": [HELD], "note": ""},
        "fix": {"skipped": True},
    }
    built = config_drift.build(results, {}, False)
    assert built["done"] == []
    assert built["left"] == [HELD] and built["failed"]


def test_a_check_run_says_what_it_would_recreate_and_does_not_fail() -> None:
    results = {"before": {"ok": False, "problems": [DRIFT], "note": ""}, "fix": {"actions": ["would " + RECREATED]}}
    built = config_drift.build(results, {}, True)
    assert built["found"] == [DRIFT] and built["left"] == [] and not built["failed"]


def test_when_compose_cannot_say_the_report_says_why() -> None:
    note = "no Compose CLI of the flavor that made the project is installed"
    checked = {"ok": True, "problems": [], "note": note}
    results = {"before": checked, "after": checked}
    built = config_drift.build(results, {}, False)
    assert built["left"] == [f"drift could not be checked: {note}"] and not built["failed"]
