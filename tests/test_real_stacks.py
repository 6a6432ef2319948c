"""How ods-fix meets stacks it did not build: MySQL 8's documented behaviour, slim images, nginx:alpine.

No MySQL 8 server exists in these registries, so the official mysql:8.0 image's behaviour is written down here
from its documentation (hub.docker.com/_/mysql, the MySQL 8.0 reference manual) and checked against the code:
- MYSQL_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD_FILE) is root's password, asked for even over the socket;
  MYSQL_ALLOW_EMPTY_PASSWORD=yes leaves it empty;
- the image has `mysql`, `mysqldump` and `mysqladmin`, and no `mariadb*` programs;
- a wrong password is `ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)`;
- ALTER USER ... RETAIN CURRENT PASSWORD exists from 8.0.14 (tests/test_security_logic.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils import (
    credentials,
    diagnosis,
    keyrotation,
    mysqldb,
    nginxconf,
    probes,
    services,
)
from ansible_collections.ods.fix.plugins.module_utils.dockerexec import ExecResult

DENIED_8 = b"ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)\n"
NOT_FOUND = b'OCI runtime exec failed: exec failed: unable to start container process: exec: "mariadb": not found\n'


class Mysql8Container:
    """A mysql:8.0 container as its documentation describes it, seen through `docker exec`."""

    name = "one-data-mysql"

    programs = ("mysql", "mysqldump", "mysqladmin")

    def __init__(self, env: list[str], root_password: str, files: dict[str, str] | None = None) -> None:
        self.attrs: dict[str, Any] = {"Config": {"Env": env, "Cmd": ["mysqld"], "Entrypoint": None}}
        self.root_password = root_password
        self.files = files or {}
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def run(self, cmd: list[str], environment: dict[str, str]) -> ExecResult:
        self.calls.append((cmd, dict(environment)))
        if cmd[0] not in self.programs:
            return ExecResult(127, b"", NOT_FOUND)
        if environment.get("MYSQL_PWD", "") != self.root_password:
            return ExecResult(1, b"", DENIED_8)
        return ExecResult(0, b"1\n", b"")


class MariadbContainer(Mysql8Container):
    """mariadb:10.11 and Debian's MariaDB: both client names."""

    programs = ("mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump", "mariadb-admin")


@pytest.fixture
def exec_mysql8(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(api: Any, container: Mysql8Container, cmd: list[str], data: bytes = b"", **kw: Any) -> ExecResult:
        return container.run(cmd, kw.get("environment") or {})

    monkeypatch.setattr(mysqldb, "exec_stdin", fake)


def candidates(container: Mysql8Container, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    monkeypatch.setattr(credentials, "read_container_file", lambda api, c, path: container.files.get(path))
    profile: dict[str, Any] = {"services": {"mysql": {"settings": {}}}, "dotenv": None}
    monkeypatch.setattr(credentials.settings, "project", lambda profile: {"services": {}})
    return credentials.root_passwords(None, profile, "mysql", container)


def test_mysql8_root_password_comes_from_the_container_and_travels_in_mysql_pwd(
    exec_mysql8: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = Mysql8Container(["MYSQL_ROOT_PASSWORD=s3cret", "MYSQL_MAJOR=8.0"], root_password="s3cret")
    found = candidates(container, monkeypatch)
    assert found[0] == ("the container's MYSQL_ROOT_PASSWORD", "s3cret")
    assert found[-1] == ("no password (the socket)", None)
    root = mysqldb.Root(None, container, found)
    root.resolve()
    assert root.program("dump") == "mysqldump" and root.origin == "the container's MYSQL_ROOT_PASSWORD"
    for cmd, env in container.calls:
        assert "s3cret" not in " ".join(cmd) and env == {"MYSQL_PWD": "s3cret"}


def test_mysql8_root_password_file(exec_mysql8: None, monkeypatch: pytest.MonkeyPatch) -> None:
    container = Mysql8Container(
        ["MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root"],
        root_password="from-file",
        files={"/run/secrets/db_root": "from-file"},
    )
    found = candidates(container, monkeypatch)
    assert found[0] == ("the file /run/secrets/db_root names (MYSQL_ROOT_PASSWORD_FILE)", "from-file")
    root = mysqldb.Root(None, container, found)
    root.resolve()
    assert root.password == "from-file"


def test_mysql8_empty_root_password_is_tried_as_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    container = Mysql8Container(["MYSQL_ALLOW_EMPTY_PASSWORD=yes"], root_password="")
    assert ("an empty password (MYSQL_ALLOW_EMPTY_PASSWORD)", "") in candidates(container, monkeypatch)


@pytest.mark.parametrize("image", [Mysql8Container, MariadbContainer])
def test_a_refused_root_is_one_line_naming_each_source_once(
    exec_mysql8: None, monkeypatch: pytest.MonkeyPatch, image: type[Mysql8Container]
) -> None:
    """The other client is tried for a missing program, not again for a refused password: the server is the same."""
    container = image(["MYSQL_ROOT_PASSWORD=stale"], root_password="changed-by-hand")
    root = mysqldb.Root(None, container, candidates(container, monkeypatch))
    with pytest.raises(mysqldb.MysqlError) as error:
        root.resolve()
    message = str(error.value)
    assert message.count("the container's MYSQL_ROOT_PASSWORD") == 1 and "ods_db_root_password_file" in message
    assert "\n" not in message and "stale" not in message
    assert {cmd[0] for cmd, _ in container.calls} == {"mysql"}


def test_database_url_gives_the_app_login() -> None:
    login = credentials.app_database(
        {"DATABASE_URL": "mysql+pymysql://onedata:p%40ss@mysql:3306/onedata?charset=utf8mb4"}
    )
    assert login is not None
    assert (login["user"], login["password"], login["host"], login["port"], login["database"]) == (
        "onedata",
        "p@ss",
        "mysql",
        3306,
        "onedata",
    )


@pytest.mark.parametrize(
    ("name", "readers", "expected"),
    [
        ("MYSQL_ROOT_PASSWORD", ["mysql"], ("database", "root")),
        ("MYSQL_PASSWORD", ["mysql", "data-api"], ("database", "user")),
        ("DATA_API_SECRET_KEY", ["data-api"], ("generated", "")),
        ("OPENAI_API_KEY", ["agent-api"], ("provider", "")),
        ("UNUSED_SECRET", [], (None, "no service reads it")),
        ("OPENAI_API_KEY", [], ("provider", "")),  # in the file, so it may have leaked: listed for its provider
    ],
)
def test_secrets_are_classified_by_what_reads_them(name: str, readers: list[str], expected: tuple[Any, str]) -> None:
    roles = {"mysql": "database", "data-api": "api", "agent-api": "api", "redis": "cache"}
    database_reads = {"MYSQL_ROOT_PASSWORD": "MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD": "MYSQL_PASSWORD"}
    assert keyrotation.classify(name, readers, roles, database_reads) == expected


def test_a_secret_another_server_reads_is_left_for_a_person() -> None:
    """Redis reads REDIS_PASSWORD on its command line: restarting the APIs cannot change it there."""
    kind, why = keyrotation.classify(
        "REDIS_PASSWORD", ["agent-api", "redis"], {"redis": "cache", "agent-api": "api"}, {}
    )
    assert kind is None and why.startswith("redis reads it too")


class NginxContainer:
    def __init__(self, code: int, output: str) -> None:
        self.code, self.output = code, output

    def exec_run(self, cmd: list[str], environment: dict[str, str] | None = None) -> tuple[int, bytes]:
        return self.code, self.output.encode()


def test_nginx_t_names_the_upstream_it_cannot_resolve() -> None:
    output = (
        '2026/12/02 06:00:22 [emerg] 1#1: host not found in upstream "data-api:8001" in '
        "/etc/nginx/conf.d/default.conf:2\nnginx: configuration file /etc/nginx/nginx.conf test failed\n"
    )
    result = probes.probe_nginx(NginxContainer(1, output))
    assert not result["ok"] and result["unresolved"] == "data-api"
    assert result["output"].startswith('host not found in upstream "data-api:8001" in /etc/nginx/conf.d/default.conf:2')


def test_a_down_upstream_is_its_service_not_the_config() -> None:
    down = {"ok": False, "output": "host not found in upstream", "unresolved": "data-api", "upstream_down": "data-api"}
    typo = {"ok": False, "output": 'unknown directive "servr_name" in /etc/nginx/nginx.conf:12', "unresolved": None}
    assert diagnosis.probe_findings({"web": {"config": down}, "web_service": "web-frontend"}, 90, 90) == []
    found = diagnosis.probe_findings({"web": {"config": typo}, "web_service": "web-frontend"}, 90, 90)
    assert [f["code"] for f in found] == ["nginx_config"] and "servr_name" in found[0]["summary"]


class NginxAlpineContainer:
    """nginx:alpine's layout; `nginx -T` prints the dump on stdout and "syntax is ok" on stderr."""

    status = "running"
    name = "one-data-web"
    IMAGE = Path(__file__).resolve().parents[1] / "sandbox" / "images" / "web-frontend"

    def exec_run(self, cmd: list[str], environment: Any = None, demux: bool = False) -> tuple[int, Any]:
        assert cmd == ["nginx", "-T"] and demux, "the dump is read from stdout alone"
        files = {
            "/etc/nginx/nginx.conf": (self.IMAGE / "nginx.conf").read_text(),
            "/etc/nginx/conf.d/default.conf": (self.IMAGE / "default.conf").read_text(),
        }
        out = "".join(f"# configuration file {path}:\n{text}\n" for path, text in files.items())
        err = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
        return 0, (out.encode(), err.encode())


def test_nginx_alpine_layout_comes_from_nginx_t() -> None:
    layout = nginxconf.read(NginxAlpineContainer(), probes.exec_in)
    assert layout["source"] == "nginx -T"
    assert layout["site"] == "/etc/nginx/conf.d/default.conf" and layout["root"] == "/usr/share/nginx/html"
    assert layout["files"] == ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/default.conf"]


class Box:
    """A container as services.addresses and reload_front_end see it."""

    def __init__(self, name: str, ip: str, status: str = "running") -> None:
        self.name, self.status, self.reloads = name, status, 0
        self.attrs: dict[str, Any] = {"NetworkSettings": {"Networks": {"one-data-network": {"IPAddress": ip}}}}

    def exec_run(self, cmd: list[str]) -> tuple[int, bytes]:
        assert cmd == ["nginx", "-s", "reload"]
        self.reloads += 1
        return 0, b""


PROFILE: dict[str, Any] = {
    "project": "p",
    "roles": {"web": "web-frontend", "data_api": "data-api", "apis": ["data-api"]},
    "services": {"web-frontend": {"role": "web", "flavor": "nginx"}, "data-api": {"role": "api"}},
}


@pytest.mark.parametrize(("after_ip", "reloads"), [("192.168.0.9", 1), ("192.168.0.4", 0)])
def test_nginx_is_reloaded_only_when_an_api_came_back_elsewhere(
    monkeypatch: pytest.MonkeyPatch, after_ip: str, reloads: int
) -> None:
    web, api = Box("web", "192.168.0.2"), Box("api", "192.168.0.4")
    monkeypatch.setattr(services.compose, "project_containers", lambda _api, _p: {"web-frontend": web, "data-api": api})
    before = services.addresses(None, PROFILE, ["data-api"])
    api.attrs["NetworkSettings"]["Networks"]["one-data-network"]["IPAddress"] = after_ip
    actions = services.reload_front_end(None, PROFILE, before)
    assert web.reloads == reloads and len(actions) == reloads
    assert not actions or actions[0].startswith("reloaded web-frontend's nginx: data-api came back")
