"""api-slow's processlist (modules/mysql_processlist.py): only read-only statements may be killed."""

from __future__ import annotations

import pytest
from ansible_collections.ods.fix.plugins.modules.mysql_processlist import is_read_only


@pytest.mark.parametrize(
    ("statement", "read_only"),
    [
        ("SELECT SLEEP(600)", True),
        ("  select * from flow where id = 1", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("SHOW PROCESSLIST", True),
        ("(SELECT 1) UNION (SELECT 2)", True),
        ("SELECT * FROM flow FOR UPDATE", False),
        ("SELECT * FROM flow LOCK IN SHARE MODE", False),
        ("SELECT * INTO OUTFILE '/tmp/x' FROM flow", False),
        ("UPDATE job_log SET status = status WHERE id = 1 AND SLEEP(600) = 0", False),
        ("INSERT INTO t SELECT * FROM flow", False),
        ("DO SLEEP(600)", False),
        ("", False),
    ],
)
def test_only_read_only_statements_may_be_killed(statement: str, read_only: bool) -> None:
    assert is_read_only(statement) is read_only
