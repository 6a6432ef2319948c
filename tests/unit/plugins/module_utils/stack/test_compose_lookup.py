"""The one Compose version rule (module_utils/stack/compose_lookup.py) for labels, CLIs and profiles."""

from __future__ import annotations

import pytest


def test_one_compose_version_rule_for_labels_clis_and_profiles() -> None:
    from ansible_collections.ods.fix.plugins.module_utils.stack import compose_lookup  # noqa: PLC0415

    assert [compose_lookup.flavor(v) for v in ("1.29.2", "v2.29.7", "2.30.0", "")] == ["v1", "v2", "v2", None]

    class Container:
        def __init__(self, name: str, service: str, status: str, version: str = "2.29.7", oneoff: str = "False"):
            self.name, self.status = name, status
            self.labels = {
                compose_lookup.SERVICE_LABEL: service,
                compose_lookup.VERSION_LABEL: version,
                compose_lookup.ONEOFF_LABEL: oneoff,
            }

    class Api:
        class containers:  # noqa: N801 - the docker client's attribute
            @staticmethod
            def list(**_kwargs: object) -> list[Container]:
                return [
                    Container("db-running", "mysql", "running"),
                    Container("db-old", "mysql", "exited"),
                    Container("db-run-1", "mysql", "running", oneoff="True"),
                    Container("web", "web", "exited", version="1.29.2"),
                ]

    found = compose_lookup.project_containers(Api, "ods")
    assert {s: c.name for s, c in found.items()} == {"mysql": "db-running", "web": "web"}
    assert compose_lookup.project_flavor({"web": found["web"]}) == "v1"
    assert compose_lookup.project_flavor({}) is None


def test_the_cli_of_one_flavor_asks_that_flavors_cli_first_and_no_other_when_it_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ansible_collections.ods.fix.plugins.module_utils.stack import compose_lookup  # noqa: PLC0415

    monkeypatch.undo()  # the real cli_for (the module_utils' tests hide the CLIs)
    asked: list[tuple[str, ...]] = []
    versions = {"docker": "2.40.3", "docker-compose": "1.29.2"}

    def version(argv: tuple[str, ...]) -> str:
        asked.append(argv)
        return versions[argv[0]]

    monkeypatch.setattr(compose_lookup, "cli_version", version)
    assert compose_lookup.cli_for("v2") == ["docker", "compose"] and asked == [("docker", "compose")]
    asked.clear()
    assert compose_lookup.cli_for("v1") == ["docker-compose"] and asked == [("docker-compose",)]
    versions["docker-compose"] = "2.40.3"  # some machines' docker-compose is Compose v2
    assert compose_lookup.cli_for("v1") is None
