"""Discovery: the stack profile from containers' labels and compose files (a fake engine, real files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.stack import compose_files, discovery

from pyrunner import paths
from tests import DATA
from tests.fakes import FakeApi, FakeContainer, compose_labels

STACKS = DATA / "stacks"
SANDBOX = paths.sandbox_source()
CANARIES = ("canary-root-secret", "canary-app-secret", "canary-redis-secret", "canary-minio-secret")


@pytest.fixture
def root_stack(tmp_path: Path) -> Path:
    shutil.copy(STACKS / "root" / "docker-compose.yml", tmp_path / "docker-compose.yml")
    return tmp_path


@pytest.fixture
def local_stack(tmp_path: Path) -> Path:
    """The second sandbox layout's files, as `ods-fix sandbox up --layout local` writes them."""
    deploy = tmp_path / "deploy" / "local"
    deploy.mkdir(parents=True)
    for name in ("docker-compose.yml", "docker-compose.llmops.yml"):
        shutil.copy(SANDBOX / "local" / name, deploy / name)
    (deploy / ".env").write_text(
        "MYSQL_ROOT_PASSWORD=canary-root-secret\nMYSQL_PASSWORD=canary-app-secret\nREDIS_PASSWORD=canary-redis-secret\n"
        "MINIO_ROOT_USER=onedata\nMINIO_ROOT_PASSWORD=canary-minio-secret\nDATA_API_SECRET_KEY=k1\n"
        "AGENT_API_JWT_SECRET=k2\nOPENAI_API_KEY=sk-x\n"
    )
    return tmp_path


def running(stack: Path, project: str, files: list[Path], services: dict[str, dict[str, Any]]) -> FakeApi:
    labels = compose_labels(project, files, files[0].parent)
    return FakeApi(
        [
            FakeContainer(service=service, labels=labels, **{"name": f"{project}-{service}-1", **spec})
            for service, spec in services.items()
        ]
    )


def test_root_layout_from_its_labels(root_stack: Path) -> None:
    compose = root_stack / "docker-compose.yml"
    api = running(
        root_stack,
        "root",
        [compose],
        {
            "mysql": {"name": "one-data-mysql", "env": ["MYSQL_MAJOR=8.0", "MYSQL_VERSION=8.0.36-1.el8"]},
            "redis": {"name": "one-data-redis", "cmd": ["redis-server", "--requirepass", "canary-redis-secret"]},
            "minio": {},
            "etcd": {},
            "milvus": {},
            "alldata-api": {},
            "bisheng-api": {},
            "web": {"name": "one-data-web"},
        },
    )
    profile = discovery.discover(api, str(root_stack))
    assert profile["project"] == "root" and profile["source"] == "labels"
    assert profile["roles"] == {
        "database": "mysql",
        "cache": "redis",
        "vector_store": "milvus",
        "vector_meta": "etcd",
        "vector_object": "minio",
        "web": "web",
        "data_api": "alldata-api",
        "agent_api": "bisheng-api",
        "apis": ["alldata-api", "bisheng-api"],
    }
    services = profile["services"]
    assert "alldata-init" not in profile["roles"]["apis"] and services["alldata-init"]["role"] == "other"
    assert "prometheus" not in services, "a service of a profile that was not used is not part of the stack"
    assert set(profile["profiles"]) == {"dev", "milvus"}
    assert (services["mysql"]["flavor"], services["mysql"]["version"]) == ("mysql", "8.0.36")
    assert services["mysql"]["credentials"] == ["environment MYSQL_ROOT_PASSWORD"]
    assert services["redis"]["credentials"] == ["command line --requirepass"]
    assert services["web"]["flavor"] == "vite" and services["web"]["port"] == 5173
    # bisheng-api's healthcheck asks 8081, but it listens on 8080 (ports: 8081:8080): the port wins.
    assert services["bisheng-api"]["health_url"] == "http://127.0.0.1:8080/api/v1/health"
    assert services["mysql"]["container"] == "one-data-mysql"
    origin = services["alldata-api"]["settings"]["MYSQL_PASSWORD"]
    assert (origin["kind"], origin["file"], origin["line"]) == ("inline", str(compose), 58)
    text = json.dumps(profile)
    assert not [c for c in CANARIES if c in text], "values never enter the profile"


def test_root_layout_from_its_file_alone(root_stack: Path) -> None:
    profile = discovery.discover(FakeApi([]), str(root_stack))
    assert profile["source"] == "files" and profile["project"] == discovery.normalize_project_name(root_stack.name)
    assert profile["roles"]["vector_store"] is None, "milvus is under a profile nobody started"
    assert "vector_store" in profile["unmapped"] and "web" in profile["unmapped"]
    assert profile["roles"]["database"] == "mysql"


def test_local_layout_with_its_overlay_and_profile(local_stack: Path) -> None:
    deploy = local_stack / "deploy" / "local"
    files = [deploy / "docker-compose.yml", deploy / "docker-compose.llmops.yml"]
    api = running(
        local_stack,
        "local",
        files,
        {
            name: {"name": f"one-data-{name}"}
            for name in ("mysql", "redis", "etcd", "minio", "milvus", "data-api", "agent-api", "web-frontend")
        },
    )
    profile = discovery.discover(api, str(local_stack))  # ods_project_dir is the checkout, not deploy/local
    assert profile["working_dir"] == str(deploy) and profile["config_files"] == [str(f) for f in files]
    assert profile["profiles"] == ["ai"]
    roles = profile["roles"]
    assert (roles["data_api"], roles["agent_api"], roles["web"]) == ("data-api", "agent-api", "web-frontend")
    assert (roles["vector_store"], roles["vector_meta"], roles["vector_object"]) == ("milvus", "etcd", "minio")
    services = profile["services"]
    assert services["agent-api"]["health_url"] == "http://127.0.0.1:8000/api/v1/health"
    assert services["data-api"]["health_url"] == "http://127.0.0.1:8001/api/v1/health"
    assert services["web-frontend"]["flavor"] == "nginx" and services["web-frontend"]["port"] == 80
    password = services["agent-api"]["settings"]["DATABASE_URL"]
    assert password["kind"] == "interpolated" and password["vars"] == ["MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE"]
    secret = services["data-api"]["settings"]["SECRET_KEY"]
    assert (secret["vars"], secret["file"], secret["whole"]) == (["DATA_API_SECRET_KEY"], str(deploy / ".env"), True)
    assert services["data-api"]["settings"]["LOG_LEVEL"]["line"] is None, "LOG_LEVEL is unset: the default applies"
    assert not [c for c in CANARIES if c in json.dumps(profile)]


def test_the_manual_layout_reads_the_settings_file_it_mounts(tmp_path: Path) -> None:
    shutil.copy(SANDBOX / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / ".env").write_text("MYSQL_USER=ods\nMYSQL_PASSWORD=canary-app-secret\n")
    profile = discovery.discover(FakeApi([]), str(tmp_path))
    assert profile["roles"]["vector_store"] == "milvus-standalone"
    assert profile["roles"]["apis"] == ["alldata-api", "bisheng-api"]
    origin = profile["services"]["alldata-api"]["settings"]["MYSQL_PASSWORD"]
    assert (origin["kind"], origin["line"], origin["apply"]) == ("mounted", 2, "restart")


def test_an_override_wins_and_must_name_a_service(root_stack: Path) -> None:
    profile = discovery.discover(FakeApi([]), str(root_stack), overrides={"apis": ["alldata-api"], "web": None})
    assert profile["roles"]["apis"] == ["alldata-api"] and profile["roles"]["web"] is None
    with pytest.raises(discovery.ProfileError, match=r"ods_roles.database names service 'db2'"):
        discovery.discover(FakeApi([]), str(root_stack), overrides={"database": "db2"})
    with pytest.raises(discovery.ProfileError, match=r"unknown role\(s\) databse"):
        discovery.discover(FakeApi([]), str(root_stack), overrides={"databse": "mysql"})


def test_two_databases_are_refused_naming_both(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db-a:\n    image: mysql:8.0\n  db-b:\n    image: mariadb:11\n  core-api:\n    image: x\n"
    )
    with pytest.raises(
        discovery.ProfileError, match=r"2 services could be the database .*: db-a, db-b; set ods_roles.database"
    ):
        discovery.discover(FakeApi([]), str(tmp_path))


def test_a_stack_without_a_database_or_an_api_names_the_role_and_its_variable(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  cache:\n    image: redis:7.0-alpine\n")
    profile = discovery.discover(FakeApi([]), str(tmp_path))
    assert {"database", "apis"} <= set(profile["unmapped"]) and profile["roles"]["cache"] == "cache"
    missing = r"no service of project .* is the database .*ods_roles.database"
    with pytest.raises(discovery.ProfileError, match=missing):
        discovery.service_for(profile, "database", True)
    with pytest.raises(discovery.ProfileError, match=r"is an API \(its services: cache\): set ods_roles.apis"):
        discovery.apis(profile, True)


def test_the_apis_point_at_the_database_they_use(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db-a:\n    image: mysql:8.0\n  db-b:\n    image: mysql:8.0\n"
        "  core-api:\n    environment:\n      DATABASE_URL: mysql+pymysql://u:p@db-b:3306/x\n"
    )
    assert discovery.discover(FakeApi([]), str(tmp_path))["roles"]["database"] == "db-b"


def test_a_required_variable_unset_names_the_file_and_variable(local_stack: Path) -> None:
    env = local_stack / "deploy" / "local" / ".env"
    env.write_text(env.read_text().replace("MYSQL_PASSWORD=canary-app-secret\n", ""))
    with pytest.raises(
        discovery.ProfileError, match=r"docker-compose.yml: required variable MYSQL_PASSWORD is missing"
    ):
        discovery.discover(FakeApi([]), str(local_stack))


def test_a_file_compose_refuses_is_refused_in_composes_words(
    local_stack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_stack / "deploy" / "local" / ".env"
    env.write_text(env.read_text().replace("MYSQL_PASSWORD=canary-app-secret\n", ""))
    asked = tmp_path / "asked"
    cli = tmp_path / "compose"
    cli.write_text(
        f'#!/bin/sh\necho "$@" > {asked}\n'
        'echo "error while interpolating services.mysql.environment.MYSQL_PASSWORD: required variable '
        'MYSQL_PASSWORD is missing a value" >&2\nexit 15\n'
    )
    cli.chmod(0o755)
    monkeypatch.setattr(discovery.compose_lookup, "installed_clis", lambda: {"v2": ([str(cli)], "2.40.3")})
    with pytest.raises(
        discovery.ProfileError,
        match=r"^Compose refuses the project's files \(.*compose config\): error while interpolating .*MYSQL_PASSWORD",
    ):
        discovery.discover(FakeApi([]), str(local_stack))
    local = local_stack / "deploy" / "local"
    assert asked.read_text().split() == [
        "--project-directory", str(local), "-f", str(local / "docker-compose.yml"), "config", "-q"
    ]  # fmt: skip


def test_what_compose_takes_but_ods_fix_cannot_read_is_worded_by_ods_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery.compose_lookup, "installed_clis", lambda: {"v2": (["true"], "2.40.3")})
    (tmp_path / "docker-compose.yml").write_text("services:\n  mysql:\n    image: [mysql\n")
    with pytest.raises(discovery.ProfileError, match=r"docker-compose.yml is not valid YAML"):
        discovery.discover(FakeApi([]), str(tmp_path))


def test_an_invalid_compose_file_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  mysql:\n    image: [mysql\n")
    with pytest.raises(discovery.ProfileError, match=r"docker-compose.yml is not valid YAML"):
        discovery.discover(FakeApi([]), str(tmp_path))


def test_no_container_and_no_compose_file_says_how_to_point_at_it(tmp_path: Path) -> None:
    with pytest.raises(
        discovery.ProfileError, match=r"set ods_project_dir to the directory of the ODS docker-compose.yml"
    ):
        discovery.discover(FakeApi([]), str(tmp_path))


def test_a_written_profile_that_no_longer_matches_is_refused(root_stack: Path) -> None:
    with pytest.raises(discovery.ProfileError, match=r"no longer matches it: data-api is gone"):
        discovery.discover(
            FakeApi([]), str(root_stack), overrides={"apis": ["data-api"]}, written_services=["mysql", "data-api"]
        )


def test_two_projects_in_one_directory_need_a_name(root_stack: Path) -> None:
    compose = root_stack / "docker-compose.yml"
    api = FakeApi(
        [
            FakeContainer(name="a", service="mysql", labels=compose_labels("one", [compose], root_stack)),
            FakeContainer(name="b", service="mysql", labels=compose_labels("two", [compose], root_stack)),
        ]
    )
    with pytest.raises(
        discovery.ProfileError, match=r"2 Compose projects run from .*\(one, two\): set ods_compose_project"
    ):
        discovery.discover(api, str(root_stack))
    assert discovery.discover(api, str(root_stack), explicit_name="two")["project"] == "two"


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A:-${B}}", {"B": "b"}, "b"),
        ("$$A and $A", {"A": "1"}, "$A and 1"),
        ("${A:+set}", {"A": "1"}, "set"),
    ],
)
def test_interpolation_follows_compose(text: str, variables: dict[str, str], expected: str) -> None:
    assert compose_files.Interpolator(variables, "f").substitute(text) == expected


def test_overlays_merge_by_key_and_concatenate_ports(tmp_path: Path) -> None:
    base, overlay = tmp_path / "a.yml", tmp_path / "b.yml"
    base.write_text("services:\n  api:\n    image: x\n    environment: [A=1, B=2]\n    ports: ['1:1']\n")
    overlay.write_text("services:\n  api:\n    environment:\n      B: 3\n    ports: ['2:2']\n")
    service = compose_files.load_project([str(base), str(overlay)], str(tmp_path))["services"]["api"]
    assert service["env"]["A"]["value"] == "1" and service["env"]["B"]["value"] == "3"
    assert (service["env"]["B"]["file"], service["env"]["B"]["line"]) == (str(overlay), 4)
    assert service["ports"] == ["1:1", "2:2"]


def test_an_external_network_is_named_as_compose_looks_it_up_with_the_line_that_declares_it(tmp_path: Path) -> None:
    base, overlay = tmp_path / "docker-compose.yml", tmp_path / "monitoring.yml"
    base.write_text(
        "services:\n  api:\n    image: x\n    networks: [one-data-network]\n  db:\n    image: y\n"
        "  side:\n    image: z\n    network_mode: host\n"
        "networks:\n  one-data-network:\n    driver: bridge\n"
    )
    overlay.write_text("networks:\n  one-data-network:\n    external: true\n")
    project = compose_files.load_project([str(base), str(overlay)], str(tmp_path))
    assert project["network_lines"]["one-data-network"] == (str(overlay), 2)
    found = discovery.external_networks(project, ["api", "db", "side"], "local")
    # Not prefixed with the project: Compose looks an external network up by its own name.
    assert found == {
        "one-data-network": {"key": "one-data-network", "declared_in": "monitoring.yml:2", "services": ["api"]}
    }
    assert discovery.service_networks(project["services"]["api"], project["networks"], "local") == ["one-data-network"]


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ({}, "p_net"),
        ({"name": "given"}, "given"),
        ({"external": True}, "net"),
        ({"external": True, "name": "shared"}, "shared"),
        ({"external": {"name": "old-style"}}, "old-style"),
        ({"external": False}, "p_net"),
    ],
)
def test_network_names_follow_compose(network: dict[str, Any], expected: str) -> None:
    assert discovery.network_name("net", network, "p") == expected


def test_the_default_network_declared_external_is_every_plain_service_s(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api:\n    image: x\nnetworks:\n  default:\n    external: true\n    name: ${NET:-shared}\n"
    )
    project = compose_files.load_project([str(tmp_path / "docker-compose.yml")], str(tmp_path))
    found = discovery.external_networks(project, ["api"], "p")
    assert found == {"shared": {"key": "default", "declared_in": "docker-compose.yml:5", "services": ["api"]}}
