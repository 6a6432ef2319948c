"""The external-network report (plugin_utils/reports/external_network.py): what it found, did and left, from raw
results shaped as compose_network and compose_service return them (a real run's, on the manual layout)."""

from __future__ import annotations

from ansible_collections.ods.fix.plugins.module_utils.stack import services
from ansible_collections.ods.fix.plugins.plugin_utils.reports import common, external_network

MISSING = (
    "network p-shared, declared external at docker-compose.yml:38, does not exist: alldata-api, mysql cannot start "
    "(Compose refuses every `up`: declared as external, but could not be found)"
)
STALE = "p-mysql-1 was made on network p-shared, which was deleted since: it cannot start until it is recreated"
CREATED = "created network p-shared (docker network create p-shared)"
HELD = "p-alldata-api-1 holds 1 file(s) in its own layer that a recreate would delete (/app/x.db): save them, ..."


def recreated(service: str) -> str:
    return f"recreate {service} ({services.plan('exited', 'recreated')[1]})"


def test_compose_service_s_recreate_reason_is_the_one_reworded() -> None:
    assert f"({services.plan('exited', 'recreated')[1]})" == common.RECREATE_ASKED


def test_the_network_is_created_and_the_containers_recreated_database_first() -> None:
    results = {
        "before": {"ok": False, "problems": [MISSING, STALE]},
        "after": {"ok": True, "problems": []},
        "fix": {"changed": True, "actions": [CREATED], "held": []},
        "recreate": {"changed": True, "actions": [recreated("mysql"), recreated("alldata-api")]},
        "start": {"skipped": True},
    }
    built = external_network.build(results, {}, False)
    assert built["found"] == [MISSING, STALE]
    assert built["done"] == [
        CREATED,
        "recreate mysql (it holds the deleted network's id: only a new container joins the new network)",
        "recreate alldata-api (it holds the deleted network's id: only a new container joins the new network)",
    ]
    assert built["left"] == [] and not built["failed"]


def test_a_container_holding_files_is_left_named_and_the_run_fails() -> None:
    results = {
        "before": {"ok": False, "problems": [MISSING]},
        "after": {"ok": False, "problems": [STALE]},
        "fix": {"changed": True, "actions": [CREATED], "held": [HELD]},
    }
    built = external_network.build(results, {}, False)
    assert built["left"] == [STALE, HELD] and built["failed"]


def test_a_check_run_says_what_it_would_do_and_does_not_fail() -> None:
    results = {"before": {"ok": False, "problems": [MISSING]}, "fix": {"actions": ["would " + CREATED]}}
    built = external_network.build(results, {}, True)
    assert built["found"] == [MISSING] and built["done"] == ["would " + CREATED]
    assert built["left"] == [] and not built["failed"]
