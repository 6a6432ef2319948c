"""The project's env file (module_utils/stack/env_file.py): what the compose files need, the values the containers
show, where each value comes from, and the file written (never a value in what is returned)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.stack import dotenv, env_file

COMPOSE = """\
services:
  mysql:
    image: mysql:8.0
    container_name: ${PREFIX:-one-data}-mysql
    environment:
      MYSQL_ROOT_PASSWORD: ${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD must be set}
      MYSQL_DATABASE: ${MYSQL_DATABASE:-onedata}
    volumes:
      - mysql_data:/var/lib/mysql
      - ./init:/docker-entrypoint-initdb.d
    ports:
      - "127.0.0.1:${MYSQL_HOST_PORT:-13306}:3306"
  data-api:
    image: api
    environment:
      - REDIS_URL=redis://:${REDIS_PASSWORD:?must be set}@redis:6379/0
      - SECRET_KEY=${DATA_API_SECRET_KEY:?must be set}
      - PRICE=$$5
      # - OLD=${NOT_USED:?}
      - TIER=${TIER}
volumes:
  mysql_data:
"""


class FakeContainer:
    def __init__(self, service: str, name: str, env: dict[str, str], ports: dict[str, str] | None = None) -> None:
        self.name = name
        self.labels = {"com.docker.compose.service": service}
        bindings = {f"{port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": host}] for port, host in (ports or {}).items()}
        self.attrs = {
            "Config": {"Env": [f"{k}={v}" for k, v in env.items()], "Image": "mysql:8.0"},
            "HostConfig": {"PortBindings": bindings},
        }


MYSQL = FakeContainer(
    "mysql", "one-data-mysql", {"MYSQL_ROOT_PASSWORD": "r00t-made", "MYSQL_DATABASE": "onedata"}, {"3306": "23306"}
)
API = FakeContainer("data-api", "api-1", {"REDIS_URL": "redis://:redis-made@redis:6379/0", "SECRET_KEY": "key-made"})


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for var in ("PREFIX", "MYSQL_ROOT_PASSWORD", "MYSQL_DATABASE", "MYSQL_HOST_PORT", "REDIS_PASSWORD", "TIER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("DATA_API_SECRET_KEY", raising=False)
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    local = tmp_path / "deploy" / "local"
    local.mkdir(parents=True)
    (local / "docker-compose.yml").write_text(COMPOSE)
    return {
        "project": "local",
        "default_name": "local",
        "project_dir": str(tmp_path),
        "working_dir": str(local),
        "config_files": [str(local / "docker-compose.yml")],
        "dotenv": "",
    }


def test_every_variable_use_is_found_with_its_kind_and_line_but_not_an_escaped_dollar_or_a_comment(
    checkout: dict[str, Any],
) -> None:
    found = {(u["var"], u["kind"], u["where"]) for u in env_file.uses(checkout["config_files"])}
    assert ("MYSQL_ROOT_PASSWORD", "required", "docker-compose.yml:6") in found
    assert ("MYSQL_HOST_PORT", "default", "docker-compose.yml:12") in found
    assert ("TIER", "bare", "docker-compose.yml:20") in found
    assert not any(var in ("NOT_USED", "5") for var, _kind, _where in found)


def test_the_containers_show_each_variable_inside_a_url_a_port_or_alone(checkout: dict[str, Any]) -> None:
    values, ambiguous = env_file.from_containers(checkout["config_files"], [MYSQL, API])
    assert values == {
        "PREFIX": "one-data",
        "MYSQL_ROOT_PASSWORD": "r00t-made",
        "MYSQL_DATABASE": "onedata",
        "MYSQL_HOST_PORT": "23306",
        "REDIS_PASSWORD": "redis-made",
        "DATA_API_SECRET_KEY": "key-made",
    }
    assert ambiguous == []


def test_two_containers_that_disagree_give_no_value(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  a:\n    environment:\n      K: ${V:?}\n  b:\n    environment:\n      K: ${V:?}\n")
    one, two = FakeContainer("a", "a", {"K": "1"}), FakeContainer("b", "b", {"K": "2"})
    assert env_file.from_containers([str(compose)], [one, two]) == ({}, ["V"])
    assert env_file._pattern("${A}${B}") == (None, [])  # side by side: no telling where one ends
    # Two ways to split a URL whose password holds a `:` between user and password: no value from it.
    compose.write_text("services:\n  a:\n    environment:\n      URL: mysql://${U:-app}:${P:?}@db/x\n")
    split = FakeContainer("a", "a", {"URL": "mysql://app:pa:ss@db/x"})
    assert env_file.from_containers([str(compose)], [split]) == ({}, [])
    plain = FakeContainer("a", "a", {"URL": "mysql://app:pass@db/x"})
    assert env_file.from_containers([str(compose)], [plain]) == ({"U": "app", "P": "pass"}, [])


def test_a_missing_file_is_written_from_the_containers_and_the_example_not_its_placeholders(
    checkout: dict[str, Any],
) -> None:
    local = Path(checkout["working_dir"])
    (local / ".env.example").write_text(
        "# copy to .env\nMYSQL_ROOT_PASSWORD=root_password_change_me\nTIER=gold\nKETTLE_PASSWORD=kettle_change_me\n"
        "MYSQL_DATABASE=example_db\n"
    )
    found = env_file.plan(checkout, [MYSQL, API], existing_volumes=["mysql_data"])
    assert found["exists"] is False and found["left"] == []
    sources = {e["var"]: e["source"] for e in found["unset"]}
    assert sources == {
        "DATA_API_SECRET_KEY": "containers",
        "MYSQL_DATABASE": "containers",  # made with its default, but the example written out says otherwise
        "MYSQL_HOST_PORT": "containers",
        "MYSQL_ROOT_PASSWORD": "containers",
        "PREFIX": "default",
        "REDIS_PASSWORD": "containers",
        "TIER": "example",
    }
    written = dotenv.parse(env_file.render(found))
    assert written == {
        "MYSQL_ROOT_PASSWORD": "r00t-made",
        "TIER": "gold",
        "KETTLE_PASSWORD": "",  # the example's placeholder of a secret is not a value
        "MYSQL_DATABASE": "onedata",
        "DATA_API_SECRET_KEY": "key-made",
        "MYSQL_HOST_PORT": "23306",
        "REDIS_PASSWORD": "redis-made",
    }
    assert env_file.render(found).startswith("# copy to .env\n")
    text = json.dumps(env_file.problems(found)) + json.dumps(found["unset"])
    assert not any(secret in text for secret in ("r00t-made", "redis-made", "key-made", "23306"))


def test_a_required_secret_the_containers_disagree_on_is_not_invented(checkout: dict[str, Any]) -> None:
    other = FakeContainer("data-api", "api-2", {"SECRET_KEY": "another-key"})
    found = env_file.plan(checkout, [API, other], existing_volumes=[])
    assert "DATA_API_SECRET_KEY" not in found["values"]
    assert any(line.startswith("DATA_API_SECRET_KEY ") and "the containers disagree" in line for line in found["left"])


def test_a_required_secret_nothing_gives_is_generated_unless_a_volume_holds_data_made_with_the_old_one(
    checkout: dict[str, Any],
) -> None:
    found = env_file.plan(checkout, [API], existing_volumes=[])
    assert {e["var"]: e["source"] for e in found["unset"]}["MYSQL_ROOT_PASSWORD"] == "generated"
    assert len(found["values"]["MYSQL_ROOT_PASSWORD"]) >= 32
    found = env_file.plan(checkout, [API], existing_volumes=["mysql_data"])
    assert "MYSQL_ROOT_PASSWORD" not in found["values"]
    assert found["left"] == [
        "MYSQL_ROOT_PASSWORD (used at docker-compose.yml:6): mysql keeps data made with the old value (a volume "
        "exists): give the value it was made with"
    ]


def test_a_env_written_at_the_checkouts_root_where_compose_does_not_look_gives_its_values(
    checkout: dict[str, Any],
) -> None:
    (Path(checkout["project_dir"]) / ".env").write_text("MYSQL_ROOT_PASSWORD=mine\nREDIS_PASSWORD=mine-too\n")
    found = env_file.plan(checkout, [], existing_volumes=[])
    assert found["misplaced"] == str(Path(checkout["project_dir"]) / ".env")
    assert found["values"]["MYSQL_ROOT_PASSWORD"] == "mine" and found["values"]["REDIS_PASSWORD"] == "mine-too"
    assert f"a .env at {found['misplaced']}, where Compose does not look" in env_file.problems(found)


def test_a_env_outside_the_checkout_is_never_read(checkout: dict[str, Any]) -> None:
    (Path(checkout["project_dir"]).parent / ".env").write_text("MYSQL_ROOT_PASSWORD=someone-elses\n")
    flat = dict(checkout, working_dir=checkout["project_dir"], project_dir=checkout["project_dir"])
    Path(checkout["project_dir"], "docker-compose.yml").write_text(COMPOSE)
    flat["config_files"] = [str(Path(checkout["project_dir"], "docker-compose.yml"))]
    assert env_file.plan(flat, [], existing_volumes=[])["misplaced"] == ""
    assert env_file.plan(checkout, [], existing_volumes=[])["misplaced"] == ""


def test_an_existing_file_gets_only_what_it_lacks_every_other_byte_kept(checkout: dict[str, Any]) -> None:
    env = Path(checkout["working_dir"]) / ".env"
    original = "# mine\nMYSQL_ROOT_PASSWORD='kept as is'\nREDIS_PASSWORD=\nDATA_API_SECRET_KEY=k\n"
    env.write_text(original)
    found = env_file.plan(checkout, [MYSQL, API], existing_volumes=["mysql_data"])
    assert [e["var"] for e in found["unset"] if e["required"]] == ["REDIS_PASSWORD"]  # empty: unset, for a :?
    text = env_file.render(found)
    assert text.startswith("# mine\nMYSQL_ROOT_PASSWORD='kept as is'\nREDIS_PASSWORD=redis-made\n")
    assert dotenv.parse(text)["MYSQL_HOST_PORT"] == "23306"


def test_a_project_named_otherwise_than_its_folder_gets_its_name_and_nothing_needed_is_no_fault(
    checkout: dict[str, Any],
) -> None:
    found = env_file.plan(dict(checkout, project="ods-dev"), [MYSQL, API], existing_volumes=[])
    assert found["values"]["COMPOSE_PROJECT_NAME"] == "ods-dev"
    (Path(checkout["working_dir"]) / ".env").write_text(
        "MYSQL_ROOT_PASSWORD=x\nREDIS_PASSWORD=y\nDATA_API_SECRET_KEY=z\n"
    )
    found = env_file.plan(dict(checkout, project="ods-dev"), [MYSQL, API], existing_volumes=[])
    assert "COMPOSE_PROJECT_NAME" not in found["values"]  # a file without it: started with -p, as always
    Path(checkout["config_files"][0]).write_text("services:\n  web:\n    image: nginx\n")
    assert env_file.problems(env_file.plan(checkout, [], existing_volumes=[])) == []
