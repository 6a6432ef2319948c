# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Read a mysqldump / mariadb-dump file as a stream: validate it, count its rows, split it.

Works on bytes (a dump without --hex-blob holds raw BLOB bytes) and line by
line: mysqldump escapes newlines inside strings, so a line break is never
inside a value, and a statement ends on a line that ends with the current
delimiter (DELIMITER ;; blocks hold triggers and routines).

Statements are sorted into:
- preamble: the session SETs before the first table;
- table statements (CREATE/DROP TABLE, LOCK/UNLOCK, INSERT, ALTER ... KEYS,
  and the character-set SETs around them), each for one table, which can be
  loaded in parallel, one session per table;
- objects: everything else, views, triggers, routines, events, the closing
  SETs, in the dump's order, run once the tables are in place;
- dropped: CREATE DATABASE and USE, because the restore chooses the schema.
"""

import gzip
import hashlib
import os
import re
import stat
import zlib

from ansible_collections.ods.fix.plugins.module_utils.mysql import dump_policy

GZIP_MAGIC = b"\x1f\x8b"
STRING = re.compile(rb"'(?:[^'\\]|\\.)*'")
VALUES = re.compile(rb"\bVALUES\b", re.IGNORECASE)
IDENT = rb"`((?:[^`]|``)+)`"
TABLE_STATEMENT = re.compile(
    rb"^(?:DROP TABLE IF EXISTS "
    + IDENT
    + rb"|CREATE TABLE (?:IF NOT EXISTS )?"
    + IDENT
    + rb"|LOCK TABLES "
    + IDENT
    + rb"|(?:INSERT|REPLACE)(?: IGNORE)? INTO "
    + IDENT
    + rb"|/\*!40000 ALTER TABLE "
    + IDENT
    + rb")",
    re.IGNORECASE,
)
# Case matters: mysqldump writes these lower-case around CREATE TABLE, and the
# closing /*!40101 SET CHARACTER_SET_CLIENT=@OLD_... */ upper-case.
TABLE_CONTEXT = re.compile(rb"^(?:UNLOCK TABLES|/\*!\d{5} SET (?:@saved_cs_client|character_set_client))")
TABLE_LOCKING = re.compile(rb"^(?:UNLOCK TABLES|LOCK TABLES )", re.IGNORECASE)
# An INSERT of values into one of the dump's tables: unqualified, an optional column list, then VALUES.
INSERT = re.compile(rb"^(?:INSERT|REPLACE)(?: IGNORE)? INTO " + IDENT + rb"(?: \([^()]*\))? VALUES\b", re.IGNORECASE)
INSERT_START = re.compile(rb"(?:INSERT|REPLACE)(?: IGNORE)? INTO `")
CREATE_TABLE = re.compile(rb"^CREATE TABLE (?:IF NOT EXISTS )?" + IDENT, re.IGNORECASE)
DATABASE = re.compile(rb"^(?:CREATE DATABASE (?:/\*!32312 IF NOT EXISTS\*/ |IF NOT EXISTS )?|USE )" + IDENT, re.I)
HEADER_DB = re.compile(rb"^-- Host: .*Database: (\S+)")
VIEW = re.compile(rb"(?:/\*!50001 )?VIEW " + IDENT + rb" AS", re.IGNORECASE)
TRIGGER = re.compile(rb"\bTRIGGER\s+`?([\w$]+)`?\s+(?:BEFORE|AFTER)\b", re.IGNORECASE)
ROUTINE = re.compile(rb"^CREATE\b.*?\b(PROCEDURE|FUNCTION)\s+" + IDENT, re.IGNORECASE | re.DOTALL)
DEFINER = re.compile(rb"DEFINER\s*=\s*`((?:[^`]|``)*)`@`((?:[^`]|``)*)`", re.IGNORECASE)
EVENT = re.compile(rb"\bEVENT\s+" + IDENT, re.IGNORECASE)
DELIMITER = re.compile(rb"^DELIMITER\s+(\S+)\s*$", re.IGNORECASE)
SQL_START = re.compile(rb"^(?:--|/\*|SET |CREATE |DROP |INSERT |USE |LOCK |ALTER |DELIMITER )", re.IGNORECASE)
TRAILER = b"-- Dump completed"
# SQL text gzips 3 to 20 times smaller; gzip cannot do better than about 1000. A .gz that inflates more than
# this many times its size is refused (a gzip bomb), and it is never inflated more than a chunk at a time.
MAX_RATIO = 500


class DumpError(Exception):
    """The file cannot be restored as it is; the message says why, in one line."""


def unquote(name):
    return name.replace(b"``", b"`").decode("utf-8", "replace")


def count_rows(statement, family=False):
    """Rows of a whole INSERT: the top-level '(' after VALUES, outside the string literals.

    mysqldump writes strings in single quotes with \\ and \' escaped, so once
    those escapes are gone every other quote opens or closes a string: the
    even pieces of a split on "'" are outside. bytes.replace/split/count run
    at memory speed, several times faster than a regex over the statement.
    family: the dump is mysqldump's or mariadb-dump's, whose extended INSERTs
    put each row on a line of its own when VALUES ends its line (mariadb-dump
    10.11): a line break is never inside a value, so the rows are the line
    breaks between them, counted at the speed of bytes.count.
    """
    match = VALUES.search(statement)
    if not match:
        return 0
    body = statement[match.end() :]
    if b"'" not in body:
        return body.count(b"(")
    if family and body.startswith(b"\n("):
        return body.count(b"),\n(") + 1
    body = body.replace(b"\\\\", b"").replace(b"\\'", b"")
    return sum(piece.count(b"(") for piece in body.split(b"'")[::2])


def count_tuples(line, first):
    """Rows a line of an INSERT adds: its top-level '(' once the string literals are taken out."""
    if first:
        match = VALUES.search(line)
        if not match:
            return 0
        line = line[match.end() :]
    if b"'" in line:
        line = STRING.sub(b"''", line)
    return line.count(b"(")


class Reader:
    """The dump's lines (bytes), decompressing .gz, hashing the file and counting bytes as it goes."""

    def __init__(self, path, chunk=4 << 20):
        self.path = path
        self.chunk = chunk
        self.sha256 = hashlib.sha256()
        self.file_bytes = 0
        self.sql_bytes = 0
        with open(path, "rb") as probe:
            self.compressed = probe.read(2) == GZIP_MAGIC

    def _raw_chunks(self):
        with open(self.path, "rb") as raw:
            while True:
                block = raw.read(self.chunk)
                if not block:
                    return
                self.sha256.update(block)
                self.file_bytes += len(block)
                yield block

    def _sql_chunks(self):
        if not self.compressed:
            yield from self._raw_chunks()
            return
        # Inflated a chunk at a time (never a block's whole output at once), and refused past MAX_RATIO.
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        inflated = 0
        for block in self._raw_chunks():
            pending = block
            while pending:
                try:
                    out = inflate.decompress(pending, self.chunk)
                except zlib.error as exc:
                    raise DumpError(f"the gzip file is corrupt ({exc})") from exc
                if inflate.eof:  # a member ends; concatenated members go on
                    pending = inflate.unused_data
                    if pending:
                        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    pending = inflate.unconsumed_tail
                if out:
                    inflated += len(out)
                    if inflated > MAX_RATIO * self.file_bytes + (64 << 20):
                        raise DumpError(
                            "it inflates to more than %d times its size: not a dump (a gzip bomb?); real dumps "
                            "inflate 3 to 20 times" % MAX_RATIO
                        )
                    yield out
        if not inflate.eof:
            raise DumpError("the gzip file is truncated: it does not decompress completely")

    def info(self):
        """What was read: sha256, file_bytes, sql_bytes, compressed."""
        return {
            "sha256": self.sha256.hexdigest(),
            "file_bytes": self.file_bytes,
            "sql_bytes": self.sql_bytes,
            "compressed": self.compressed,
        }

    def units(self):
        """("insert", whole INSERT statement) or ("line", one line), in file order.

        An INSERT ends at the first ";" before a line break: values never hold a
        raw line break (mysqldump escapes them), so that is the statement's end.
        Taking an INSERT whole lets the row counting run in C (regex, count)
        instead of line by line in Python, the difference on a 1 GB dump.
        """
        buffer, pos = b"", 0
        chunks = self._sql_chunks()
        eof = False
        self.unit_start = 0  # where the unit last given starts, in the SQL text (the file, when not compressed)

        def more():
            nonlocal buffer, pos, eof
            block = next(chunks, None)
            if block is None:
                eof = True
                return False
            self.sql_bytes += len(block)
            buffer = buffer[pos:] + block
            pos = 0
            return True

        def end_of(start):
            """Just past the next ";\n" (a statement) from start, or -1. A ";" alone is found with memchr,
            ten times faster than the two bytes; the ones inside values are few."""
            semicolon = buffer.find(b";", start)
            while semicolon >= 0 and semicolon + 1 < len(buffer) and buffer[semicolon + 1] != 10:
                semicolon = buffer.find(b";", semicolon + 1)
            return semicolon + 2 if 0 <= semicolon < len(buffer) - 1 else -1

        def find(insert):
            """The end of the unit at pos (past its ";\n", or its "\n"), reading on as needed; each byte once."""
            seen = pos
            while True:
                end = end_of(seen) if insert else buffer.find(b"\n", seen)
                if end >= 0:
                    return end if insert else end + 1
                seen = max(len(buffer) - 1 - pos, 0)  # searched already, relative to pos
                if eof or not more():
                    return len(buffer)
                seen += pos

        while True:
            if pos >= len(buffer) and (eof or not more()):
                return
            while len(buffer) - pos < 32 and not eof and more():
                pass  # enough to tell an INSERT
            insert = INSERT_START.match(buffer, pos)
            stop = find(insert)
            self.unit_start = self.sql_bytes - len(buffer) + pos
            yield "insert" if insert else "line", buffer[pos:stop]
            pos = stop

    def lines(self):
        pending = b""
        for block in self._sql_chunks():
            self.sql_bytes += len(block)
            data = pending + block
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            pending = data[cut + 1 :]
            yield from data[: cut + 1].splitlines(True)
        if pending:
            yield pending


class Scan:
    """What a pass over the dump found."""

    def __init__(self):
        self.kind = None  # "mysqldump" | "mariadb-dump" | "sql"
        self.header_db = None
        self.databases = []
        self.tables = []  # created, in order
        self.rows = {}  # table -> rows counted in its INSERTs
        self.views, self.triggers, self.routines, self.events = [], [], [], []
        self.complete = False
        self.statements = 0
        self.skipped = []  # statements not run, and why
        self.definers = []  # "user@host" named by DEFINER clauses, in order

    @property
    def database(self):
        return self.databases[0] if self.databases else self.header_db

    def summary(self):
        """What the dump holds, in one line."""
        return (
            f"a SQL dump ({self.kind}): {len(self.tables)} tables, {sum(self.rows.values())} rows, "
            f"{len(self.views)} views, {len(self.triggers)} triggers, {len(self.routines)} routines, "
            f"{len(self.events)} events"
        )

    def as_dict(self):
        return {
            "kind": self.kind,
            "database": self.database,
            "databases": self.databases,
            "tables": self.tables,
            "rows": self.rows,
            "total_rows": sum(self.rows.values()),
            "views": self.views,
            "triggers": self.triggers,
            "routines": self.routines,
            "events": self.events,
            "complete": self.complete,
            "skipped": self.skipped,
            "definers": self.definers,
        }


PLAIN_KEY = re.compile(rb"^\s+(?:KEY|INDEX) `")
FOREIGN_KEY = re.compile(rb"^\s+CONSTRAINT .* FOREIGN KEY ", re.IGNORECASE)


def defer_secondary_keys(lines, table):
    """(CREATE TABLE lines without their plain secondary KEYs, "ALTER TABLE ... ADD KEY ..." or b"").

    The usual load setting (myloader's --innodb-optimize-keys): rows go in
    with the primary key only, and each index is then built once, sorted,
    instead of being updated row by row. UNIQUE, FULLTEXT and SPATIAL keys
    stay, and so does every key of a table with foreign keys (they may need it).
    """
    if any(FOREIGN_KEY.match(line) for line in lines):
        return lines, b""
    kept, keys = [], []
    for line in lines:
        if PLAIN_KEY.match(line):
            keys.append(line.strip().rstrip(b","))
        else:
            kept.append(line)
    if not keys:
        return lines, b""
    # The line before the closing ")" lost its follower: drop its comma.
    for i in range(len(kept) - 1, 0, -1):
        if kept[i].lstrip().startswith(b")"):
            body = kept[i - 1].rstrip(b"\r\n")
            if body.endswith(b","):
                kept[i - 1] = body[:-1] + kept[i - 1][len(body) :]
            break
    name = b"`" + table.encode("utf-8").replace(b"`", b"``") + b"`"
    return kept, b"ALTER TABLE " + name + b" " + b", ".join(b"ADD " + key for key in keys) + b";\n"


def classify(statement, scan, first_line):
    """('table'|'objects', table or None) for one statement (its lines) that the policy allowed, updating scan."""
    head = first_line.lstrip()
    match = TABLE_STATEMENT.match(head)
    if match:
        table = unquote(next(g for g in match.groups() if g is not None))
        created = CREATE_TABLE.match(head)
        if created and table not in scan.tables:
            scan.tables.append(table)
            scan.rows.setdefault(table, 0)
        if INSERT.match(head):
            rows = sum(count_tuples(line, i == 0) for i, line in enumerate(statement))
            scan.rows[table] = scan.rows.get(table, 0) + rows
        return "table", table
    if TABLE_CONTEXT.match(head):
        return "table", None  # belongs to the table being loaded
    text = b"".join(statement)
    for user, host in DEFINER.findall(text):
        definer = "{}@{}".format(user.decode("utf-8", "replace"), host.decode("utf-8", "replace"))
        if definer not in scan.definers:
            scan.definers.append(definer)
    view = VIEW.search(text)
    if view and b"CREATE" in text.upper() and not text.lstrip().upper().startswith(b"DROP"):
        name = unquote(view.group(1))
        if name not in scan.views:
            scan.views.append(name)
    trigger = TRIGGER.search(text)
    if trigger and b"CREATE" in text.upper():
        name = trigger.group(1).decode("utf-8", "replace")
        if name not in scan.triggers:
            scan.triggers.append(name)
    routine = ROUTINE.match(text.lstrip())
    if routine:
        name = f"{routine.group(1).decode().upper()} {unquote(routine.group(2))}"
        if name not in scan.routines:
            scan.routines.append(name)
    event = EVENT.search(text)
    if event and b"CREATE" in text.upper() and b"DROP EVENT" not in text.upper():
        name = unquote(event.group(1))
        if name not in scan.events:
            scan.events.append(name)
    return "objects", None


def comment(line, scan):
    """What a comment line tells: the dump's make, its database, that it is complete."""
    if line.startswith(TRAILER):
        scan.complete = True
    elif scan.kind is None and b" dump " in line[:40].lower():
        scan.kind = "mariadb-dump" if b"MariaDB" in line else "mysqldump"
    match = HEADER_DB.match(line)
    if match:
        scan.header_db = match.group(1).decode("utf-8", "replace")


def statements(units, scan, pick=None, reader=None, policy=None):
    """(kind, table, lines) for each statement the restore may run; DELIMITER lines go with the objects.

    units: Reader.units() (whole INSERTs taken in one piece) or plain lines.
    pick: in a dump of several databases (--all-databases, --databases a b), the one whose statements are
    given; the others' are read past (their DELIMITERs followed) and neither counted, checked nor given.
    reader: the Reader the units come from, to tell a refused statement's line.
    policy: dump_policy.Policy (which schemas are the restore's own, which others the server has).

    Every statement but a table's INSERT is checked by the policy before it is given, and an INSERT must be one
    of values into an unqualified table: DumpError names the first that is not, with its line. CREATE DATABASE,
    USE and a DROP DATABASE just before its CREATE DATABASE are given as ("drop", None, lines): never run.
    """
    return Walk(scan, pick, reader, policy).run(units)


class Walk:
    """One pass of statements(): the delimiter, the database section and the statement being read."""

    def __init__(self, scan, pick, reader, policy):
        self.scan, self.pick, self.reader = scan, pick, reader
        self.policy = policy if policy is not None else dump_policy.Policy()
        self.policy.also_own(pick)
        self.delimiter = b";"
        self.current, self.start = [], None
        self.database = None  # the one the last CREATE DATABASE or USE named
        self.created = []  # by the dump's CREATE DATABASE statements
        self.pending = None  # (name, start) of a DROP DATABASE: allowed only just before its CREATE DATABASE

    def elsewhere(self):
        return self.pick is not None and self.database is not None and self.database != self.pick

    def refuse(self, reason, at):
        reader = self.reader
        where = f"line {line_at(reader.path, at)}" if reader is not None and at is not None else "a statement"
        raise DumpError(f"{where}: {reason}")

    def refuse_pending(self):
        name, at = self.pending
        self.refuse(f"DROP DATABASE `{name}` is not followed by its CREATE DATABASE: it would drop a database", at)

    def run(self, units):
        scan = self.scan
        for unit in units:
            kind, line = unit if isinstance(unit, tuple) else ("line", unit)
            if kind == "insert" and not self.current and self.delimiter == b";":
                if not self.elsewhere():
                    yield self.insert(line)
                continue
            stripped = line.strip()
            if not self.current:
                if not stripped:
                    continue
                if stripped.startswith(b"--"):
                    comment(stripped, scan)
                    if self.pick is None:  # a dump of several databases names its first in its header
                        self.policy.also_own(scan.header_db)
                    continue
                if stripped.startswith((b"/*M!999999", b"/*!999999")):  # the "sandbox mode" marker, a client command
                    continue
                match = DELIMITER.match(stripped)
                if match:
                    self.delimiter = match.group(1)
                    if not self.elsewhere():
                        yield "objects", None, [line]
                    continue
                self.start = self.reader.unit_start if self.reader is not None else None
            self.current.append(line)
            if stripped.endswith(self.delimiter):
                statement, self.current = self.current, []
                given = self.statement(statement)
                if given is not None:
                    yield given
        if self.pending:
            self.refuse_pending()
        if self.current and not self.elsewhere():  # no delimiter ends it: a dump cut short (check_complete says so)
            where = f" at line {line_at(self.reader.path, self.start)}" if self.reader is not None else ""
            scan.skipped.append(f"a statement cut short{where}, at the dump's end: not run")
        others = [name for name in scan.databases if self.pick is not None and name != self.pick]
        if others:
            scan.skipped.append("the sections of {} (only {} is restored)".format(", ".join(others), self.pick))

    def insert(self, line):
        """A whole INSERT (the fast path: no policy pass over its values, which LOAD DATA reads as data)."""
        if self.pending:
            self.refuse_pending()
        match = INSERT.match(line)
        if not match:
            self.refuse(dump_policy.insert_refusal(line), self.reader.unit_start if self.reader is not None else None)
        scan = self.scan
        scan.statements += 1
        table = unquote(match.group(1))
        scan.rows[table] = scan.rows.get(table, 0) + count_rows(line, scan.kind in ("mysqldump", "mariadb-dump"))
        return "table", table, [line]

    def statement(self, lines):
        """(kind, table, lines) to give for a whole statement, or None; DumpError when it is refused."""
        text = dump_policy.normalize(lines, self.delimiter)
        named = dump_policy.database_statement(text)
        if named is not None:
            return self.database_statement(*named, lines)
        if self.pending:
            self.refuse_pending()
        if self.elsewhere():
            return None
        self.scan.statements += 1
        try:
            verdict = self.policy.check(text, self.scan.databases)
        except dump_policy.Unsafe as exc:
            self.refuse(str(exc), self.start)
        if verdict is not None and verdict[0] == "skip":
            self.scan.skipped.append(verdict[1])
            return None
        if verdict is not None:  # ("rewrite", what runs instead)
            lines = [verdict[1] + self.delimiter + b"\n"]
        kind, table = classify(lines, self.scan, lines[0])
        return kind, table, lines

    def database_statement(self, what, name, lines):
        """CREATE DATABASE, USE, DROP DATABASE: a new section of the dump, never run."""
        scan = self.scan
        if what == "drop":
            if self.pending:
                self.refuse_pending()
            self.pending = (name, self.start)
            return None
        if self.pending and (what != "create" or name != self.pending[0]):
            self.refuse_pending()
        self.pending = None
        if self.pick is None and name.lower() in dump_policy.SYSTEM_SCHEMAS[:4]:
            self.refuse(
                f"it is a dump of the whole server (--all-databases: `{name}` and others): name the database to "
                "restore with --database NAME",
                self.start,
            )
        if what == "create":
            self.created.append(name)
        elif self.pick is None and scan.header_db not in (None, name) and not self.created and not scan.databases:
            self.refuse(f"USE `{name}` names another database than the dump's own ({scan.header_db})", self.start)
        self.database = name
        if name not in scan.databases:
            scan.databases.append(name)
            if self.pick is None and len(scan.databases) == 1:
                self.policy.also_own(name)
        if self.elsewhere():
            return None
        scan.statements += 1
        return "drop", None, lines


def line_at(path, offset):
    """The line number of a byte offset in the dump's SQL text (read again: only a refusal asks)."""
    line, seen = 1, 0
    for block in Reader(path)._sql_chunks():
        if seen + len(block) >= offset:
            return line + block.count(b"\n", 0, offset - seen)
        line += block.count(b"\n")
        seen += len(block)
    return line


def databases_in(path):
    """The databases a dump's USE statements name, in order (a pass at the speed of bytes.find)."""
    names, carry = [], b"\n"
    for block in Reader(path)._sql_chunks():
        data = carry + block
        at = data.find(b"\nUSE `")
        while at >= 0:
            end = data.find(b"`;", at + 6)
            if end < 0:
                break
            name = unquote(data[at + 6 : end])
            if name not in names:
                names.append(name)
            at = data.find(b"\nUSE `", end)
        carry = data[-512:]
    return names


def looks_like_sql(path):
    """Does the file start like SQL text (after decompression)? Refuses PNGs, random bytes, archives."""
    reader = Reader(path)
    head = b""
    try:
        for line in reader.lines():
            head += line
            if len(head) > 4096:
                break
    except (OSError, EOFError) as exc:
        raise DumpError(f"cannot read it: {exc}") from exc
    text = head.lstrip()
    if not text:
        return False
    if b"\0" in text[:512]:
        return False
    try:
        text[:1024].decode("utf-8")
    except UnicodeDecodeError:
        return False
    first = next((line.strip() for line in text.splitlines() if line.strip()), b"")
    return bool(SQL_START.match(first))


def scan_file(path, progress=None, policy=None):
    """A full pass: a Scan plus the file's sha256 and sizes. DumpError for an unreadable or corrupt file, or for a
    statement the restore would not run."""
    reader = Reader(path)
    scan = Scan()
    try:
        for _kind, _table, _lines in statements(reader.units(), scan, reader=reader, policy=policy):
            if progress is not None and scan.statements % 2000 == 0:
                progress(reader.file_bytes, sum(scan.rows.values()))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DumpError(f"cannot read it: {exc}") from exc
    if scan.kind is None:
        scan.kind = "sql"
    return scan, reader.info()


def check_opening(path):
    """DumpError unless the file can be read, is not empty and starts like SQL."""
    try:
        # O_NONBLOCK: a FIFO or a tty would block the open itself; it is refused just below
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise DumpError(f"cannot open {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DumpError(f"{path} is not a regular file")
    with open(fd, "rb") as handle:
        empty = not handle.read(1)
    if empty:
        raise DumpError(f"{path} is empty")
    if not looks_like_sql(path):
        raise DumpError(f"{path} does not look like a SQL dump (no SQL text at its start)")


def check_complete(path, scan, allow_incomplete=False, pick=None):
    """DumpError for a dump without the trailer (unless allowed), or of several databases when none is picked."""
    if not scan.complete and not allow_incomplete:
        raise DumpError(
            f"{path} is incomplete: it lacks the dump tools' '-- Dump completed' trailer (truncated? --compact and "
            "--skip-comments leave it out too); --allow-incomplete restores it anyway"
        )
    several(path, scan, pick)


def several(path, scan, pick=None):
    """DumpError when the dump holds several databases and none of them is picked (or another one is)."""
    if len(scan.databases) < 2 or pick in scan.databases:
        return
    if pick is None:
        raise DumpError(
            "{} holds several databases ({}): restore one of them with --database NAME".format(
                path, ", ".join(scan.databases)
            )
        )
    raise DumpError("{} holds the databases {}, not {}".format(path, ", ".join(scan.databases), pick))


def validate(path, allow_incomplete=False, policy=None):
    """(scan, file_info) of a dump that can be restored, else DumpError with the reason."""
    check_opening(path)
    scan, info = scan_file(path, policy=policy)
    if not scan.tables and not scan.views and not scan.routines:
        raise DumpError(f"{path} holds no table, view or routine: not a dump of a database")
    check_complete(path, scan, allow_incomplete)
    return scan, info


def quick_check(path, allow_incomplete=False, digest=True):
    """The checks before anything changes, at the speed of C: (summary dict, file info).

    Readable, not empty, SQL at its start, decompresses completely (.gz), the
    trailer at its end, and its database from the first lines; the SHA-256 on
    the way. Rows are counted later, while the dump is split for the load.
    Without digest, an uncompressed dump is read at its start and its end only,
    and its SHA-256 (None here) is computed by the load, which reads it whole.
    """
    check_opening(path)
    reader = Reader(path)
    head, tail = b"", b""
    try:
        if digest or reader.compressed:
            for block in reader._sql_chunks():
                reader.sql_bytes += len(block)
                if len(head) < 65536:
                    head += block[: 65536 - len(head)]
                tail = (tail + block)[-4096:]
        else:
            with open(path, "rb") as handle:
                head = handle.read(65536)
                reader.file_bytes = reader.sql_bytes = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, reader.sql_bytes - 4096))
                tail = handle.read(4096)
    except (OSError, EOFError) as exc:
        raise DumpError(f"cannot read it: {exc}") from exc
    scan = Scan()
    for line in head.splitlines():
        stripped = line.strip()
        if scan.kind is None and stripped.startswith(b"--") and b" dump " in stripped[:40].lower():
            scan.kind = "mariadb-dump" if b"MariaDB" in stripped else "mysqldump"
        match = HEADER_DB.match(stripped) or DATABASE.match(stripped)
        if match:
            name = match.group(1)
            if HEADER_DB.match(stripped):
                scan.header_db = name.decode("utf-8", "replace")
            elif unquote(name) not in scan.databases:
                scan.databases.append(unquote(name))
        if CREATE_TABLE.match(stripped):
            break
    scan.kind = scan.kind or "sql"
    scan.complete = TRAILER in tail
    check_complete(path, scan, allow_incomplete)
    info = reader.info()
    if not (digest or reader.compressed):
        info["sha256"] = None
    return scan, info
