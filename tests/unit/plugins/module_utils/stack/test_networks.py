"""External networks: missing ones, and containers that hold a deleted one's id (pure logic)."""

from __future__ import annotations

from typing import Any

from ansible_collections.ods.fix.plugins.module_utils.stack import networks

EXTERNAL = {"shared": {"key": "one-data-network", "declared_in": "monitoring.yml:2", "services": ["api", "mysql"]}}


class Container:
    def __init__(self, name: str, network_id: str | None) -> None:
        self.name = name
        self.attrs: dict[str, Any] = {"NetworkSettings": {"Networks": {"shared": {"NetworkID": network_id}}}}


class Network:
    def __init__(self, name: str, id_: str) -> None:
        self.name, self.id = name, id_


class Api:
    def __init__(self, *names: str) -> None:
        self.networks = self
        self._networks = [Network(name, f"id-{name}") for name in names]

    def list(self, names: list[str]) -> list[Network]:  # the engine's filter matches parts of names too
        return [n for n in self._networks if any(wanted in n.name for wanted in names)]


def test_a_missing_network_names_its_line_and_the_services_it_keeps_down() -> None:
    found = networks.missing(EXTERNAL, {})
    assert found == [
        {
            "name": "shared",
            "declared_in": "monitoring.yml:2",
            "services": ["api", "mysql"],
            "summary": "network shared, declared external at monitoring.yml:2, does not exist: api, mysql cannot start "
            "(Compose refuses every `up`: declared as external, but could not be found)",
        }
    ]
    assert networks.missing(EXTERNAL, {"shared": "id-1"}) == []


def test_a_container_holding_another_id_than_the_network_s_now_is_stale() -> None:
    containers = {"api": Container("p-api-1", "old"), "mysql": Container("p-mysql-1", "id-1")}
    stale = networks.stale(EXTERNAL, containers, {"shared": "id-1"})
    assert [(s["service"], s["container"], s["network"]) for s in stale] == [("api", "p-api-1", "shared")]
    assert "deleted since: it cannot start until it is recreated" in stale[0]["summary"]
    assert len(networks.stale(EXTERNAL, containers, {})) == 2  # the network gone: every container on it


def test_one_finding_per_network_missing_or_made_again_under_its_old_containers() -> None:
    containers = {"api": Container("p-api-1", "old"), "mysql": Container("p-mysql-1", "old")}
    assert list(networks.by_network(EXTERNAL, containers, {})) == ["shared"]
    again = networks.by_network(EXTERNAL, containers, {"shared": "new"})
    assert (
        again["shared"]["services"] == ["api", "mysql"]
        and "p-api-1 was made on network shared" in (again["shared"]["summary"])
    )
    assert networks.by_network(EXTERNAL, {"api": Container("p-api-1", "new")}, {"shared": "new"}) == {}


def test_the_engine_s_networks_are_taken_by_their_exact_names() -> None:
    api = Api("shared", "shared-2", "other")
    assert networks.engine_networks(api, ["shared"]) == {"shared": "id-shared"}
    assert networks.engine_networks(api, []) == {}
