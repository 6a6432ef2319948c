# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""SQL run inside the database's container, as the manual does (`docker-compose exec mysql mysql -e ...`).

The SQL goes in on stdin. Root logs in with the first of its password
candidates that works (credentials.root_passwords: the container's
MYSQL_ROOT_PASSWORD, the settings files', a file the user names, then none,
over the socket), passed as MYSQL_PWD in the exec's environment, never on a
command line; and with whichever client the image has (mysql, or mariadb in
MariaDB 11 images). A Root finds both once per module run.
"""

import re

from ansible_collections.ods.fix.plugins.module_utils.dockerexec import exec_stdin

# --batch without --raw: newlines, tabs and backslashes in values come escaped, so
# a multi-line value (SHOW CREATE PROCEDURE) stays on its row.
CLIENT_ARGS = ["--batch", "--skip-column-names", "--default-character-set=utf8mb4", "-u", "root"]
CLIENT = ["mysql", *CLIENT_ARGS]
ESCAPES = {"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}
ERROR = re.compile(r"ERROR (\d+) \(([0-9A-Z]+)\)(?: at line \d+)?: (.*)")


class MysqlError(Exception):
    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


AUTH_ERRORS = (1045, 1698)  # Access denied (with a password; for the socket's unix_socket plugin)
DEFAULT_CLIENTS = (
    {"sql": "mysql", "dump": "mysqldump", "admin": "mysqladmin"},
    {"sql": "mariadb", "dump": "mariadb-dump", "admin": "mariadb-admin"},
)


def missing_program(result):
    """True when the exec failed because the image has no such program."""
    text = (result.stdout + result.stderr).decode("utf-8", "replace")
    return result.code in (126, 127) and ("not found" in text or "no such file" in text.lower())


class Root:
    """How root logs in to one server: the client program and the password that work, found on first use."""

    def __init__(self, api, container, candidates, clients=None):
        self.api, self.container = api, container
        self.candidates = list(candidates) or [("no password (the socket)", None)]
        self.clients = list(clients or DEFAULT_CLIENTS)
        self.names, self.password, self.origin = None, None, None

    @property
    def env(self):
        return {"MYSQL_PWD": self.password} if self.password is not None else {}

    def program(self, kind="sql"):
        if self.names is None:
            self.resolve()
        return self.names[kind]

    def resolve(self):
        """Find the working client and password with a SELECT 1 (once); MysqlError naming what was tried."""
        if self.names is None:
            self.run(CLIENT_ARGS, b"SELECT 1;\n", timeout=30)

    def run(self, args, data, timeout=120):
        """(ExecResult) of `<client> args` as root with data on stdin; tries the candidates while access is denied."""
        if self.names is not None:
            return exec_stdin(
                self.api, self.container, [self.names["sql"], *args], data, environment=self.env, timeout=timeout
            )
        denied = []
        for names in self.clients:
            for origin, password in self.candidates:
                env = {"MYSQL_PWD": password} if password is not None else {}
                result = exec_stdin(
                    self.api, self.container, [names["sql"], *args], data, environment=env, timeout=timeout
                )
                if missing_program(result):
                    break
                error = parse_error(result.stderr.decode("utf-8", "replace")) if result.code != 0 else None
                if error is not None and error.code in AUTH_ERRORS:
                    denied.append(origin)
                    continue
                self.names, self.password, self.origin = names, password, origin
                return result
            if denied:  # this client ran and the server refused each password: another client fares no better
                break
        if not denied:
            raise MysqlError(f"no mysql or mariadb client in {self.container.name}")
        raise MysqlError(
            "root cannot log in to {} (tried {}): put root's password in a file on the target and set "
            "ods_db_root_password_file to its path".format(self.container.name, ", ".join(denied)),
            1045,
        )


def quote(value):
    """A MySQL string literal (backslash and quote escaped)."""
    return "'{}'".format(value.replace("\\", "\\\\").replace("'", "''"))


def parse_error(text):
    match = ERROR.search(text)
    if match:
        return MysqlError(f"ERROR {match.group(1)}: {match.group(3).strip()}", int(match.group(1)))
    lines = [line for line in text.splitlines() if line.strip()]
    return MysqlError(lines[-1] if lines else "mysql failed")


TCP = ["--protocol=tcp", "-h", "127.0.0.1"]


def run_sql(api, container, sql, root_password=None, timeout=120, password_only=False, root=None):
    """Rows (lists of str; NULL as None) of the last result set of `sql`.

    With root (a Root), as it logs in. Otherwise root logs in through the
    socket, then with root_password; with password_only, only with the
    password, over TCP (to check that a password itself works).
    """
    data = sql.encode("utf-8")
    if root is not None:
        result = root.run(CLIENT_ARGS, data, timeout=timeout)
    elif password_only:
        result = exec_stdin(
            api, container, CLIENT + TCP, data, environment={"MYSQL_PWD": root_password or ""}, timeout=timeout
        )
    else:
        result = exec_stdin(api, container, CLIENT, data, timeout=timeout)
        if result.code != 0 and root_password and b"Access denied" in result.stderr:
            result = exec_stdin(api, container, CLIENT, data, environment={"MYSQL_PWD": root_password}, timeout=timeout)
    if result.code != 0:
        raise parse_error(result.stderr.decode("utf-8", "replace") or result.stdout.decode("utf-8", "replace"))
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


def login_as(api, container, user, password, timeout=30, client=None):
    """None if `user` can log in over TCP with `password`, else the MysqlError (1045 for a wrong password).

    The client is `client`, else whichever of mysql and mariadb the image has.
    """
    programs = [client] if client else [names["sql"] for names in DEFAULT_CLIENTS]
    for program in programs:
        cmd = [program, "--batch", "--skip-column-names", "--protocol=tcp", "-h", "127.0.0.1", "-u", user]
        result = exec_stdin(api, container, cmd, b"SELECT 1;\n", environment={"MYSQL_PWD": password}, timeout=timeout)
        if missing_program(result):
            continue
        if result.code == 0:
            return None
        return parse_error(result.stderr.decode("utf-8", "replace"))
    return MysqlError(f"no mysql or mariadb client in {container.name}")
