# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Root's access to the stack's MySQL or MariaDB, inside the database's container, as the manual does it
(`docker-compose exec mysql mysql -e ...`): the one MySQL layer of the modules.

- Root: how root logs in. The first of its password candidates that works (credentials.root_passwords: the
  container's MYSQL_ROOT_PASSWORD, the settings files', a file the user names, then none, over the socket),
  passed as MYSQL_PWD in the exec's environment, never on a command line; with whichever client the image has
  (mysql, or mariadb in MariaDB 11 images). Found once per module run.
- run_sql and login_as: one statement through a new exec (probes, checks).
- Session: a client fed a stream on stdin (a dump, a script). The client handles DELIMITER and stops at the
  first error; its stderr is collected on a thread so that a full pipe never blocks the sender. With
  interactive=True it flushes after each statement, and query() waits for a statement's rows: a transaction
  can then stay open across other work.
- Database: root SQL through a session kept open per thread, and what a restore asks of a schema.
"""

import contextlib
import os
import re
import socket
import threading
import time

from ansible_collections.ods.fix.plugins.module_utils.stack import credentials, docker_exec
from ansible_collections.ods.fix.plugins.module_utils.stack.docker_exec import exec_stdin

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


class SessionError(Exception):
    pass


class Session:
    def __init__(self, api, container, database=None, root=None, buffer_size=1 << 20, interactive=False, args=()):
        """root: a Root (its client and password, found with a SELECT 1 first); None: mysql, no password.

        args: more client arguments (["--local-infile=1", "-e", statement] reads the stream as the statement's file).
        """
        program = root.program("sql") if root is not None else "mysql"
        # --binary-mode: the client parses none of its own commands (\\!, system, source) in what it is fed, only
        # DELIMITER: a dump's text is SQL for the server, never a shell command in the database's container.
        cmd = [program, "--default-character-set=utf8mb4", "--max-allowed-packet=1G", "--binary-mode", "-u", "root"]
        if interactive:
            cmd += ["--unbuffered", "--batch", "--skip-column-names"]
        cmd += list(args)
        if database:
            cmd.append(database)
        env = root.env if root is not None else {}
        low = api.api
        self._low = low
        self._exec = low.exec_create(container.id, cmd, stdin=True, stdout=True, stderr=True, environment=env)["Id"]
        self._raw, self._read_output = docker_exec.attach(low, self._exec)
        self._raw.settimeout(None)
        self._buffer = []
        self._buffered = 0
        self._buffer_size = buffer_size
        self._out, self._err = bytearray(), bytearray()
        self._closing = False
        self._arrived = threading.Condition()
        self._marks = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.sent = 0
        self.broken = False

    def _read(self):
        try:
            for stream, data in docker_exec._frames(self._read_output):
                with self._arrived:
                    (self._err if stream == docker_exec.STDERR else self._out).extend(data)
                    self._arrived.notify_all()
        except OSError:
            pass
        with self._arrived:
            self._arrived.notify_all()
        if not self._closing:
            # The client stopped before its input ended (an error): dockerd keeps taking input for minutes,
            # so a blocked sendall is woken here rather than left to hang the load.
            with contextlib.suppress(OSError):
                self._raw.shutdown(socket.SHUT_RDWR)

    def send(self, data):
        if self.broken:
            return
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= self._buffer_size:
            self.flush()

    def send_file(self, handle, offset, count):
        """Send count bytes of an open file from offset: by the kernel (sendfile) when they are many."""
        if count < (1 << 18):
            self.send(os.pread(handle.fileno(), count, offset))
            return
        self.flush()
        if self.broken:
            return
        try:
            sent = self._raw.sendfile(handle, offset, count)
        except OSError:
            self.broken = True  # the client stopped, on an error; close() reports it
            return
        self.sent += sent
        if sent < count:
            raise SessionError(f"{handle.name} is shorter than when it was read: it changed during the restore")

    def flush(self):
        if not self._buffer or self.broken:
            return
        payload = b"".join(self._buffer)
        self._buffer, self._buffered = [], 0
        try:
            self._raw.sendall(payload)
            self.sent += len(payload)
        except OSError:
            self.broken = True  # the client stopped, on an error; close() reports it

    def query(self, statements, timeout=3600):
        """Run statements (interactive sessions only) and return the rows they print, as lists of columns.

        A marker selected after them tells where their output ends; SessionError when the client stopped (an
        error: it exits at the first) or took longer than timeout seconds.
        """
        self._marks += 1
        mark = b"ods-fix-mark-%d\n" % self._marks
        with self._arrived:
            start = len(self._out)
        self.send(statements.encode("utf-8") + b"\nSELECT '" + mark.strip() + b"';\n")
        self.flush()
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                end = self._out.find(mark, start)
                if end >= 0:
                    text = bytes(self._out[start:end]).decode("utf-8", "replace")
                    del self._out[:]
                    return [line.split("\t") for line in text.splitlines()]
                if self.broken or not self._reader.is_alive():
                    lines = [line for line in self._err.decode("utf-8", "replace").splitlines() if line.strip()]
                    raise SessionError(lines[-1] if lines else "the mysql client stopped")
                if time.monotonic() > deadline:
                    raise SessionError("no answer from the mysql client in %d s" % timeout)
                self._arrived.wait(1)

    def abandon(self):
        """Let the session go without waiting for the client (it may be stuck in a statement)."""
        self._closing = True
        with contextlib.suppress(OSError):
            self._raw.close()

    def close(self):
        """Finish the stream; SessionError with the client's error when it failed."""
        self.flush()
        self._closing = True
        with contextlib.suppress(OSError):  # the client may have gone already, on an error
            self._raw.shutdown(socket.SHUT_WR)
        self._reader.join()
        self._raw.close()
        code = self._low.exec_inspect(self._exec).get("ExitCode")
        if code != 0 or self.broken:
            lines = [line for line in self._err.decode("utf-8", "replace").splitlines() if line.strip()]
            raise SessionError(lines[-1] if lines else f"mysql exited with {code}")
        return self._out.decode("utf-8", "replace")


def q(name):
    return "`{}`".format(name.replace("`", "``"))


class Database:
    """Root SQL in the mysql container, each thread through a client session of its own kept open.

    A session is one `docker exec` of the mysql client; a statement through an open one costs about a
    millisecond instead of the 50 ms of a new exec (a restore runs a few hundred, most while the APIs are down).
    The client stops at the first error: its session is then dropped, and the next statement opens another.
    """

    def __init__(self, api, container, root):
        self.api, self.container, self.root = api, container, root  # root: a Root
        self._local = threading.local()

    def sql(self, statement, timeout=3600):
        """Rows (lists of str; NULL as None) of the statements' result sets; MysqlError as the server said it."""
        session = getattr(self._local, "session", None)
        if session is None:
            self.root.resolve()  # the client and the password that work, found once with a SELECT 1
            session = self._local.session = self.session(interactive=True)
        try:
            rows = session.query(statement, timeout=timeout)
        except SessionError as exc:
            self._local.session = None
            session.abandon()
            raise parse_error(str(exc)) from exc
        return [[None if cell == "NULL" else unescape(cell) for cell in row] for row in rows]

    def session(self, database=None, args=(), interactive=False):
        return Session(self.api, self.container, database, root=self.root, args=args, interactive=interactive)

    def script(self, database, text):
        """Run a script (DELIMITER-aware) in one session."""
        session = self.session(database)
        session.send(text if isinstance(text, bytes) else text.encode("utf-8"))
        try:
            return session.close()
        except SessionError as exc:
            raise MysqlError(f"in {database}: {exc}") from exc

    def schemas(self):
        return [r[0] for r in self.sql("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA;")]

    def exists(self, schema):
        return bool(self.sql(f"SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {quote(schema)};"))

    def tables(self, schema, kind="BASE TABLE"):
        rows = self.sql(
            f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = {quote(schema)} "
            f"AND TABLE_TYPE = {quote(kind)} ORDER BY TABLE_NAME;"
        )
        return [r[0] for r in rows]

    def objects(self, schema):
        """{views, triggers, routines, events}: names in the schema."""
        s = quote(schema)
        return {
            "views": self.tables(schema, "VIEW"),
            "triggers": [
                r[0]
                for r in self.sql(
                    f"SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {s} ORDER BY 1;"
                )
            ],
            "routines": [
                f"{r[0]} {r[1]}"
                for r in self.sql(
                    f"SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {s} "
                    "ORDER BY 1, 2;"
                )
            ],
            "events": [
                r[0]
                for r in self.sql(
                    f"SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = {s} ORDER BY 1;"
                )
            ],
        }

    def row_counts(self, schema, tables):
        if not tables:
            return {}
        union = " UNION ALL ".join(f"SELECT {quote(t)}, COUNT(*) FROM {q(schema)}.{q(t)}" for t in tables)
        return dict((r[0], int(r[1])) for r in self.sql(union + ";"))

    def checksums(self, schema, tables):
        if not tables:
            return {}
        rows = self.sql("CHECKSUM TABLE {};".format(", ".join(f"{q(schema)}.{q(t)}" for t in tables)))
        return dict((r[0].split(".", 1)[1], r[1]) for r in rows)

    def datadir_free_mb(self):
        """MB free in MySQL's data directory, or None when df cannot tell (the restore then goes on unchecked)."""
        rows = self.sql("SELECT @@datadir;")
        if not rows or not rows[0][0]:
            return None
        code, output = self.container.exec_run(["df", "-P", "-m", rows[0][0]])
        lines = (output or b"").decode("utf-8", "replace").strip().splitlines()
        fields = lines[-1].split() if code == 0 and lines else []
        return int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None


def for_service(api, profile, service, container, user_file=""):
    """A Root for the database's container: its password candidates (stack/credentials.py) and client programs."""
    candidates = (
        credentials.root_passwords(api, profile, service, container, user_file) if container is not None else []
    )
    return Root(api, container, candidates, (profile["services"].get(service) or {}).get("clients"))


def select_one(root):
    """The manual's SELECT 1 as root, with the login a Root found: diagnose's direct probe."""
    try:
        rows = run_sql(root.api, root.container, "SELECT 1;", root=root, timeout=30)
    except MysqlError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": rows == [["1"]], "output": "1", "login": root.origin}
