"""Root's access to MySQL (module_utils/mysql/root_access.py), on stacks it did not build: MySQL 8's documented
behaviour (root's password required, MYSQL_PWD, a password file, the refusal in one line), from fixtures written
from MySQL 8's documentation; no MySQL 8 server exists in these registries."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.stack import credentials
from ansible_collections.ods.fix.plugins.module_utils.stack.docker_exec import ExecResult

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

    monkeypatch.setattr(root_access, "exec_stdin", fake)


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
    root = root_access.Root(None, container, found)
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
    root = root_access.Root(None, container, found)
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
    root = root_access.Root(None, container, candidates(container, monkeypatch))
    with pytest.raises(root_access.MysqlError) as error:
        root.resolve()
    message = str(error.value)
    assert message.count("the container's MYSQL_ROOT_PASSWORD") == 1 and "ods_db_root_password_file" in message
    assert "\n" not in message and "stale" not in message
    assert {cmd[0] for cmd, _ in container.calls} == {"mysql"}
