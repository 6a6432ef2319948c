"""The database login an API is configured with (module_utils/stack/credentials.py), from settings people write."""

from __future__ import annotations

import pytest
from ansible_collections.ods.fix.plugins.module_utils.stack import credentials


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql+pymysql://app:pw@mysql:33o6/onedata", "DATABASE_URL's port `33o6` is not a number"),
        ("mysql://app:pw@mysql:99999/onedata", "DATABASE_URL's port 99999 is out of range (1-65535)"),
        ("mysql://app:p:w@mysql:3306x/onedata", "DATABASE_URL's port `3306x` is not a number"),
        ("mysql://app:pw@[::1/onedata", "DATABASE_URL is not a URL (Invalid IPv6 URL)"),
    ],
)
def test_a_malformed_database_url_is_a_finding_naming_its_port_never_a_traceback(url: str, problem: str) -> None:
    login = credentials.app_database({"DATABASE_URL": url})
    assert login is not None and login["problem"] == problem and "pw" not in problem
    assert login["database"] in ("onedata", None)  # the backup and the restore still find the database's name


def test_a_good_database_url_has_no_problem_and_its_parts() -> None:
    login = credentials.app_database({"DATABASE_URL": "mysql+pymysql://app:p%40ss@mysql:3307/onedata?charset=utf8mb4"})
    assert login is not None and "problem" not in login
    assert (login["user"], login["password"], login["host"], login["port"], login["database"]) == (
        "app",
        "p@ss",
        "mysql",
        3307,
        "onedata",
    )


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
