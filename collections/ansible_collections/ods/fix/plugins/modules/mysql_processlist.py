#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: mysql_processlist
short_description: The manual's SHOW PROCESSLIST without Sleep, and killing slow read-only queries on request
version_added: 0.1.0
description:
  - Lists what MySQL is busy with (the manual's C(SHOW PROCESSLIST | grep -v Sleep)), from
    C(information_schema.PROCESSLIST), run as root inside the database's container, with each query's id, user,
    host, database, time, state and statement (secrets redacted, long statements cut).
  - Flags a query as slow when it has been busy for at least O(slow_after) seconds.
  - Kills nothing unless O(kill_after) is set. Then it kills (C(KILL QUERY), the connection stays) only
    queries busy for at least O(kill_after) seconds B(and) read-only (SELECT, SHOW, EXPLAIN, DESCRIBE,
    WITH ... SELECT, without FOR UPDATE, LOCK IN SHARE MODE or INTO). The criteria combine with AND, unlike
    pt-kill's, which combine with OR and so kill a fast write that matches one of them.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  slow_after:
    description: Seconds after which a running query is reported as slow.
    type: int
    default: 10
  kill_after:
    description: Kill read-only queries busy for at least this many seconds; 0 kills nothing.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    details: Lists the queries it would kill; kills nothing.
  idempotent:
    support: none
    details: Killing depends on what runs at the time.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: List slow queries and kill read-only ones busy for 60 s or more
  ods.fix.mysql_processlist:
    project_dir: /home/dev/one-data-studio
    kill_after: 60
"""

RETURN = r"""
queries:
  description: Non-idle threads, C(id), C(user), C(host), C(db), C(command), C(time), C(state), C(info), C(read_only), C(slow).
  returned: always
  type: list
  elements: dict
slow:
  description: The slow queries, one line each.
  returned: always
  type: list
  elements: str
killed:
  description: The queries killed (in check mode, that would be), one line each.
  returned: always
  type: list
  elements: str
"""

import re

from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials

PROCESSLIST = (
    "SELECT ID, USER, HOST, IFNULL(DB, ''), COMMAND, TIME, IFNULL(STATE, ''), "
    "IFNULL(REPLACE(REPLACE(LEFT(INFO, 400), '\\n', ' '), '\\t', ' '), '') "
    "FROM information_schema.PROCESSLIST "
    "WHERE COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Slave_IO', 'Slave_SQL') "
    "AND ID <> CONNECTION_ID() AND USER <> 'system user' ORDER BY TIME DESC;"
)
READ_ONLY = re.compile(r"^\s*(\(\s*)*(SELECT|SHOW|EXPLAIN|DESCRIBE|DESC|WITH)\b", re.IGNORECASE)
NOT_READ_ONLY = re.compile(
    r"\bFOR\s+UPDATE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b|\bINTO\s+(OUTFILE|DUMPFILE|@)|"
    r"\b(INSERT|UPDATE|DELETE|REPLACE|ALTER|DROP|CREATE|TRUNCATE)\b",
    re.IGNORECASE,
)


def is_read_only(statement):
    return bool(statement) and bool(READ_ONLY.match(statement)) and not NOT_READ_ONLY.search(statement)


def describe(query):
    return "id {}, {}s, user {}@{}, db {}, {}: {}".format(
        query["id"],
        query["time"],
        query["user"],
        query["host"].split(":")[0],
        query["db"] or "-",
        query["state"] or query["command"],
        query["info"][:160] or "(no statement)",
    )


def main():
    argument_spec = dict(
        slow_after=dict(type="int", default=10),
        kill_after=dict(type="int", default=0),
    )
    module = compose.stack_module(argument_spec)
    compose.require_docker(module)
    params = module.params
    if params["kill_after"] < 0 or params["slow_after"] < 0:
        module.fail_json(msg="slow_after and kill_after are seconds, 0 or more", ods_failure="input")
    api, profile, name, containers = compose.open_role(module, "database")
    db = containers.get(name)
    if db is None or db.status != "running":
        module.fail_json(msg=f"{name} is not running: ods-fix mysql-connect brings it back")
    root = root_access.for_service(api, profile, name, db, params["db_root_password_file"])
    redactor = credentials.redactor(profile, containers)
    try:
        rows = root_access.run_sql(api, db, PROCESSLIST, root=root)
    except root_access.MysqlError as exc:
        module.fail_json(msg=f"cannot read the process list: {exc}")
    queries = []
    for row in rows:
        query = dict(zip(("id", "user", "host", "db", "command", "time", "state", "info"), row, strict=False))
        query["id"], query["time"] = int(query["id"]), int(query["time"])
        query["info"] = redactor.redact(query["info"] or "")
        query["read_only"] = is_read_only(query["info"])
        query["slow"] = query["time"] >= params["slow_after"]
        queries.append(query)
    victims = [q for q in queries if params["kill_after"] and q["time"] >= params["kill_after"] and q["read_only"]]
    verb = "would kill" if module.check_mode else "killed"
    killed = [f"{verb} query {describe(q)}" for q in victims]
    if victims and not module.check_mode:
        try:
            root_access.run_sql(api, db, "".join("KILL QUERY %d;\n" % q["id"] for q in victims), root=root)
        except root_access.MysqlError as exc:
            if exc.code != 1094:  # 1094: the query ended by itself meanwhile
                module.fail_json(msg=f"KILL QUERY failed: {exc}", queries=queries)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=bool(victims),
        queries=queries,
        killed=killed,
        slow=[describe(q) for q in queries if q["slow"]],
    )


if __name__ == "__main__":
    main()
