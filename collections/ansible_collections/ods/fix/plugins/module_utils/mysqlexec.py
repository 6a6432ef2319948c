# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""SQL run inside the mysql container, as the manual does (`docker-compose exec mysql mysql -e ...`).

The SQL goes in on stdin. Root logs in through the socket when the server
allows it (MariaDB, the sandbox); otherwise with the root password from
deploy/.env, passed as MYSQL_PWD in the exec's environment, never on a
command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.ods.fix.plugins.module_utils.dockerexec import exec_stdin

# --batch without --raw: newlines, tabs and backslashes in values come escaped, so
# a multi-line value (SHOW CREATE PROCEDURE) stays on its row.
CLIENT = ["mysql", "--batch", "--skip-column-names", "--default-character-set=utf8mb4", "-u", "root"]
ESCAPES = {"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}
ERROR = re.compile(r"ERROR (\d+) \(([0-9A-Z]+)\)(?: at line \d+)?: (.*)")


class MysqlError(Exception):
    def __init__(self, message, code=None):
        super(MysqlError, self).__init__(message)
        self.code = code


def quote(value):
    """A MySQL string literal (backslash and quote escaped)."""
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "''")


def _parse_error(text):
    match = ERROR.search(text)
    if match:
        return MysqlError("ERROR %s: %s" % (match.group(1), match.group(3).strip()), int(match.group(1)))
    lines = [line for line in text.splitlines() if line.strip()]
    return MysqlError(lines[-1] if lines else "mysql failed")


TCP = ["--protocol=tcp", "-h", "127.0.0.1"]


def run_sql(api, container, sql, root_password=None, timeout=120, password_only=False):
    """Rows (lists of str; NULL as None) of the last result set of `sql`.

    Root logs in through the socket, then with root_password; with
    password_only, only with the password, over TCP (as with MySQL images
    that give root no socket authentication).
    """
    data = sql.encode("utf-8")
    if password_only:
        result = exec_stdin(
            api, container, CLIENT + TCP, data, environment={"MYSQL_PWD": root_password or ""}, timeout=timeout
        )
    else:
        result = exec_stdin(api, container, CLIENT, data, timeout=timeout)
        if result.code != 0 and root_password and b"Access denied" in result.stderr:
            result = exec_stdin(api, container, CLIENT, data, environment={"MYSQL_PWD": root_password}, timeout=timeout)
    if result.code != 0:
        raise _parse_error(result.stderr.decode("utf-8", "replace") or result.stdout.decode("utf-8", "replace"))
    rows = []
    for line in result.stdout.decode("utf-8", "replace").split("\n"):
        if line:
            rows.append([None if cell == "NULL" else unescape(cell) for cell in line.split("\t")])
    return rows


def unescape(cell):
    """Undo the mysql client's batch escaping (\\n, \\t, \\0, \\\\)."""
    if "\\" not in cell:
        return cell
    out, i = [], 0
    while i < len(cell):
        if cell[i] == "\\" and i + 1 < len(cell):
            out.append(ESCAPES.get(cell[i + 1], cell[i + 1]))
            i += 2
        else:
            out.append(cell[i])
            i += 1
    return "".join(out)


def login_as(api, container, user, password, timeout=30):
    """None if `user` can log in over TCP with `password`, else the MysqlError (1045 for a wrong password)."""
    cmd = ["mysql", "--batch", "--skip-column-names", "--protocol=tcp", "-h", "127.0.0.1", "-u", user]
    result = exec_stdin(api, container, cmd, b"SELECT 1;\n", environment={"MYSQL_PWD": password}, timeout=timeout)
    if result.code == 0:
        return None
    return _parse_error(result.stderr.decode("utf-8", "replace"))
