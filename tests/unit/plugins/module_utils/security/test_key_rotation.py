"""Key rotation's logic (module_utils/security/key_rotation.py): the secrets catalog, the selection, the SQL per
server, generated and supplied values, the audit log, and which secrets another server reads."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.security import (
    key_rotation,
)

CATALOG = [
    {"name": "ALLDATA_SECRET_KEY", "kind": "generated", "services": ["alldata-api"]},
    {"name": "MYSQL_PASSWORD", "kind": "database", "user_key": "MYSQL_USER", "services": ["alldata-api"]},
    {"name": "OPENAI_API_KEY", "kind": "provider", "services": ["bisheng-api"]},
]


def test_default_selection_leaves_provider_keys_out() -> None:
    chosen, left_out = key_rotation.select(key_rotation.normalize_catalog(CATALOG), [])
    assert [e["name"] for e in chosen] == ["ALLDATA_SECRET_KEY", "MYSQL_PASSWORD"]
    assert [e["name"] for e in left_out] == ["OPENAI_API_KEY"]


def test_named_keys_are_taken_once_in_the_order_given() -> None:
    chosen, left_out = key_rotation.select(
        key_rotation.normalize_catalog(CATALOG), ["OPENAI_API_KEY", "MYSQL_PASSWORD", "OPENAI_API_KEY"]
    )
    assert [e["name"] for e in chosen] == ["OPENAI_API_KEY", "MYSQL_PASSWORD"] and left_out == []


def test_unknown_key_names_the_catalog() -> None:
    with pytest.raises(key_rotation.CatalogError, match="unknown key NOPE: the secrets catalog has ALLDATA_SECRET_KEY"):
        key_rotation.select(key_rotation.normalize_catalog(CATALOG), ["NOPE"])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "X", "kind": "magic"}, "kind 'magic' is not one of"),
        ({"name": "X", "kind": "database"}, "needs user or user_key"),
        ({"name": "X", "bytes": 4}, "bytes must be between 8 and 512"),
        ({"kind": "generated"}, "needs a name"),
    ],
)
def test_bad_catalog_entries_are_refused(entry: dict[str, object], message: str) -> None:
    with pytest.raises(key_rotation.CatalogError, match=message):
        key_rotation.normalize_catalog([entry])


@pytest.mark.parametrize(
    ("version", "flavor", "dual"),
    [
        ("10.11.18-MariaDB-0+deb12u1-log", "mariadb", False),
        ("8.0.13", "mysql", False),
        ("8.0.14", "mysql", True),
        ("8.4.3", "mysql", True),
        ("5.7.44-log", "mysql", False),
    ],
)
def test_dual_passwords_only_on_mysql_8_0_14_and_later(version: str, flavor: str, dual: bool) -> None:
    info = key_rotation.server_info(version)
    assert (info["flavor"], info["dual_password"]) == (flavor, dual)


def test_password_sql_per_server() -> None:
    mariadb = key_rotation.server_info("10.11.6-MariaDB")
    mysql8 = key_rotation.server_info("8.0.36")
    assert key_rotation.set_password_sql(mariadb, "root", "localhost", "n'ew\\") == (
        "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('n''ew\\\\');"
    )
    assert key_rotation.set_password_sql(mariadb, "ods", "%", "x", retain=True) == (
        "SET PASSWORD FOR 'ods'@'%' = PASSWORD('x');"
    )  # MariaDB has no RETAIN CURRENT PASSWORD
    assert key_rotation.set_password_sql(mysql8, "ods", "%", "x", retain=True) == (
        "ALTER USER 'ods'@'%' IDENTIFIED BY 'x' RETAIN CURRENT PASSWORD;"
    )
    assert key_rotation.set_password_sql(mysql8, "ods", "%", "x") == "ALTER USER 'ods'@'%' IDENTIFIED BY 'x';"
    assert key_rotation.discard_old_sql("ods", "%") == "ALTER USER 'ods'@'%' DISCARD OLD PASSWORD;"


def test_generated_values_are_hex_of_the_size_asked() -> None:
    first, second = key_rotation.generate(32), key_rotation.generate(32)
    assert len(first) == 64 and int(first, 16) >= 0 and first != second


@pytest.mark.parametrize(("raw", "value"), [("abc\n", "abc"), ("abc\r\n", "abc"), ("abc", "abc"), ("a b\n\n", "a b\n")])
def test_a_supplied_value_loses_one_trailing_newline(raw: str, value: str) -> None:
    assert key_rotation.strip_value(raw) == value


def test_audit_log_is_private_and_holds_names_only(tmp_path: Path) -> None:
    log = tmp_path / "audit" / "key-rotation.log"
    key_rotation.audit(str(log), {"event": "rotated", "keys": ["MYSQL_PASSWORD"], "actor": "me@host"})
    key_rotation.audit(str(log), {"event": "verified", "keys": ["MYSQL_PASSWORD"], "actor": "me@host"})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["rotated", "verified"] and "time" in lines[0]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_action_plugin_scrubs_supplied_values_from_results() -> None:
    result = {"msg": "set sk-secret-1 in place", "actions": ["kept sk-secret-1"], "nested": {"x": ["sk-secret-1"]}}
    assert "sk-secret-1" not in json.dumps(key_rotation.scrub(result, ["sk-secret-1"]))


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
    assert key_rotation.classify(name, readers, roles, database_reads) == expected


def test_a_secret_another_server_reads_is_left_for_a_person() -> None:
    """Redis reads REDIS_PASSWORD on its command line: restarting the APIs cannot change it there."""
    kind, why = key_rotation.classify(
        "REDIS_PASSWORD", ["agent-api", "redis"], {"redis": "cache", "agent-api": "api"}, {}
    )
    assert kind is None and why.startswith("redis reads it too")
