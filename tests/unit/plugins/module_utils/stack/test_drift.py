"""Config drift (module_utils/stack/drift.py): Compose's hash against the label, the settings named (never their
values), and the files a recreate would lose."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.stack import drift

COMPOSE = """\
services:
  data-api:
    image: api
    environment:
      APP_NAME: data-api
      LOG_LEVEL: ${LOG_LEVEL:-INFO}
      SECRET_KEY: ${DATA_API_SECRET_KEY:?must be set}
      FROM_SHELL:
  mysql:
    image: mysql
"""


class FakeApi:
    """The engine's stat of a path (HEAD .../archive), as the docker SDK's APIClient gives it."""

    def __init__(self, stats: dict[str, dict[str, int]]) -> None:
        self.stats = stats

    def _url(self, template: str, *args: str) -> str:
        return template.format(*args)

    def _raise_for_status(self, answer: Any) -> None:
        pass

    def head(self, url: str, params: dict[str, str]) -> Any:
        stat = self.stats[params["path"]]
        header = base64.b64encode(json.dumps(dict(stat, name="x")).encode()).decode()
        return type("Answer", (), {"headers": {"X-Docker-Container-Path-Stat": header}})()


class FakeContainer:
    def __init__(
        self,
        name: str,
        env: dict[str, str],
        label: str,
        *,
        changes: list[dict[str, Any]] | None = None,
        stats: dict[str, dict[str, int]] | None = None,
        mounts: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.id = name
        self.labels = {drift.HASH_LABEL: label} if label else {}
        self.attrs = {
            "Config": {"Env": [f"{k}={v}" for k, v in env.items()] + ["PATH=/usr/bin"]},
            "Mounts": [{"Destination": m} for m in mounts],
        }
        self.changes = changes or []
        self.client = type("Client", (), {"api": FakeApi(stats or {})})()

    def diff(self) -> list[dict[str, Any]]:
        return self.changes


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    (tmp_path / ".env").write_text("LOG_LEVEL=WARNING\nDATA_API_SECRET_KEY=new-secret-value\n")
    return {
        "project": "ods",
        "working_dir": str(tmp_path),
        "config_files": [str(tmp_path / "docker-compose.yml")],
        "dotenv": str(tmp_path / ".env"),
        "profiles": [],
    }


def fake_cli(tmp_path: Path, output: str, code: int = 0) -> list[str]:
    asked = tmp_path / "asked"
    cli = tmp_path / "compose"
    cli.write_text(f'#!/bin/sh\necho "$@" > {asked}\nprintf "%s" "{output}"\nexit {code}\n')
    cli.chmod(0o755)
    return [str(cli)]


def test_hashes_are_read_from_compose_one_line_each() -> None:
    assert drift.parse_hashes("data-api 1a2b\nmysql 3c4d\n\nnoise here too\n") == {"data-api": "1a2b", "mysql": "3c4d"}


def test_a_container_whose_label_is_not_composes_hash_is_drift_named_by_its_settings_not_their_values(
    tmp_path: Path, project: dict[str, Any]
) -> None:
    cli = fake_cli(tmp_path, "data-api newhash\nmysql samehash\n")
    containers = {
        "data-api": FakeContainer(
            "one-data-api", {"APP_NAME": "data-api", "LOG_LEVEL": "INFO", "SECRET_KEY": "old-secret-value"}, "oldhash"
        ),
        "mysql": FakeContainer("one-mysql", {}, "samehash"),
    }
    drifted, note = drift.find(project, containers, cli)
    assert note == ""
    assert [item["service"] for item in drifted] == ["data-api"]
    # FROM_SHELL (a bare name: the shell's, unknown here) is not counted; the .env variables behind them are named
    assert drifted[0]["settings"] == ["DATA_API_SECRET_KEY", "LOG_LEVEL", "SECRET_KEY"]
    assert drifted[0]["held"] == []
    assert "secret-value" not in json.dumps(drifted) and "WARNING" not in json.dumps(drifted)
    assert "ods-fix" not in drifted[0]["summary"]
    asked = (tmp_path / "asked").read_text().split()
    assert asked[:4] == ["-p", "ods", "--project-directory", str(tmp_path)]
    assert asked[-3:] == ["config", "--hash", "*"]


def test_a_container_compose_did_not_make_or_the_files_no_longer_have_is_not_drift(
    tmp_path: Path, project: dict[str, Any]
) -> None:
    cli = fake_cli(tmp_path, "data-api newhash\n")
    containers = {
        "data-api": FakeContainer("one-data-api", {}, ""),
        "gone": FakeContainer("one-gone", {}, "oldhash"),
    }
    assert drift.find(project, containers, cli) == ([], "")


def test_without_the_compose_of_the_projects_flavor_nothing_is_compared(project: dict[str, Any]) -> None:
    assert drift.find(project, {"data-api": FakeContainer("a", {}, "x")}, None) == (
        [],
        "no Compose CLI of the flavor that made the project is installed",
    )


def test_a_compose_that_refuses_the_files_says_why(tmp_path: Path, project: dict[str, Any]) -> None:
    cli = fake_cli(tmp_path, "required variable X is missing a value", code=15)
    drifted, note = drift.find(project, {"data-api": FakeContainer("a", {}, "x")}, cli)
    assert drifted == [] and note.endswith("config --hash failed: required variable X is missing a value")


def test_files_in_the_containers_own_layer_hold_it_back_but_caches_logs_mounts_and_empty_ones_do_not() -> None:
    changes = [
        {"Path": "/app", "Kind": 0},
        {"Path": "/app/deploy", "Kind": 1},  # a bind mount's mount point
        {"Path": "/app/data", "Kind": 1},
        {"Path": "/app/data/uploads.db", "Kind": 1},
        {"Path": "/app/empty", "Kind": 1},
        {"Path": "/app/src/__pycache__/x.pyc", "Kind": 1},
        {"Path": "/var/lib/nginx/body", "Kind": 1},  # an empty directory
        {"Path": "/var/log/nginx/access.log", "Kind": 1},
        {"Path": "/run/mysqld/mysqld.pid", "Kind": 1},
        {"Path": "/tmp/x", "Kind": 1},
        {"Path": "/etc/old.conf", "Kind": 2},  # deleted: nothing to lose
    ]
    stats = {
        "/app/data/uploads.db": {"mode": 0o644, "size": 5},
        "/app/empty": {"mode": 0o644, "size": 0},
        "/var/lib/nginx/body": {"mode": (1 << 31) | 0o700, "size": 4096},
    }
    container = FakeContainer("one-data-api", {}, "h", changes=changes, stats=stats, mounts=("/app/deploy",))
    assert drift.held_files(container) == ["/app/data/uploads.db"]


def test_a_held_container_is_described_with_its_files_and_the_command_that_recreates_it() -> None:
    item = {
        "service": "data-api",
        "container": "one-data-api",
        "settings": [],
        "held": ["/a", "/b", "/c", "/d"],
        "recreate": "docker compose -p p up -d --no-deps --force-recreate data-api",
    }
    line = drift.describe(item)
    assert "its definition in the compose files changed" in line
    assert "holds 4 file(s) no volume keeps (/a, /b, /c, ...; docker diff one-data-api)" in line
    assert line.endswith("then: docker compose -p p up -d --no-deps --force-recreate data-api")


SHELL_COMPOSE = """\
services:
  data-api:
    image: api
    container_name: ${PREFIX:-one}-api
    ports:
      - "127.0.0.1:${API_PORT:-18001}:8001"
    volumes:
      - ${DATA_DIR:-./data}:/app/data
    environment:
      LOG_LEVEL: ${LOG_LEVEL:-INFO}
      MODE: ${MODE:-dev}
      ADDED: ${ADDED:-x}
"""


def shell_made(env: dict[str, str], name: str = "one-api", port: str = "18001") -> FakeContainer:
    container = FakeContainer(name, env, "oldhash")
    container.attrs["HostConfig"] = {"PortBindings": {"8001/tcp": [{"HostIp": "127.0.0.1", "HostPort": port}]}}
    return container


@pytest.fixture
def shell_project(tmp_path: Path, project: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    (tmp_path / "docker-compose.yml").write_text(SHELL_COMPOSE)
    (tmp_path / ".env").write_text("MODE=prod\nDATA_DIR=./data\n")
    for var in ("PREFIX", "API_PORT", "DATA_DIR", "LOG_LEVEL", "MODE", "ADDED"):
        monkeypatch.delenv(var, raising=False)
    return project


def test_a_setting_the_container_has_from_a_variable_nothing_sets_now_holds_it_back(
    tmp_path: Path, shell_project: dict[str, Any]
) -> None:
    # Made by `LOG_LEVEL=DEBUG docker compose up`; .env's MODE edited since. A recreate from here would make it INFO.
    containers = {"data-api": shell_made({"LOG_LEVEL": "DEBUG", "MODE": "dev"})}
    [item] = drift.find(shell_project, containers, fake_cli(tmp_path, "data-api newhash\n"))[0]
    assert item["settings"] == ["ADDED", "LOG_LEVEL", "MODE"]
    assert item["unset"] == ["LOG_LEVEL"]  # ADDED: the container never had it, so nothing of it is lost
    assert "not recreated: the files take LOG_LEVEL from a variable set neither in .env" in item["summary"]
    assert item["summary"].endswith("--force-recreate data-api") and "DEBUG" not in item["summary"]


def test_a_variable_this_environment_sets_is_what_compose_hashed_with(
    tmp_path: Path, shell_project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    containers = {"data-api": shell_made({"LOG_LEVEL": "DEBUG", "MODE": "dev", "ADDED": "x"})}
    [item] = drift.find(shell_project, containers, fake_cli(tmp_path, "data-api newhash\n"))[0]
    assert item["settings"] == ["MODE"] and item["unset"] == []


def test_a_name_and_port_the_container_shows_are_known_but_a_mount_it_may_have_had_from_the_shell_is_not(
    tmp_path: Path, shell_project: dict[str, Any]
) -> None:
    same = {"LOG_LEVEL": "INFO", "MODE": "dev", "ADDED": "x"}
    containers = {"data-api": shell_made(same)}
    [item] = drift.find(shell_project, containers, fake_cli(tmp_path, "data-api newhash\n"))[0]
    assert item["unset"] == []  # PREFIX and API_PORT gave what the container shows; DATA_DIR is in .env
    (tmp_path / ".env").write_text("MODE=prod\n")
    containers = {"data-api": shell_made(same, name="two-api", port="28001")}
    [item] = drift.find(shell_project, containers, fake_cli(tmp_path, "data-api newhash\n"))[0]
    assert item["unset"] == ["API_PORT", "DATA_DIR", "PREFIX"]
