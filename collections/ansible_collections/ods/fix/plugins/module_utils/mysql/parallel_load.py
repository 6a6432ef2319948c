# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Cut a dump into one part per table and load the parts into the shadow schema while the dump is read.

The split and the load run side by side: a table's part goes to the loaders as
soon as the dump moves on to the next table. A part is
- its SQL: the load settings, the dump's session header, CREATE TABLE and every
  statement of the table that is not one of its plain INSERTs;
- its rows, where the values allow it: the VALUES lists of its INSERTs joined
  into one LOAD DATA LOCAL INFILE stream, which the server parses about twice
  as fast as the INSERTs (measured: bench/mysql_restore.py);
- what runs after its rows: its secondary keys, built once and sorted, and its
  statistics option put back and the statistics computed once.
A loader then counts the table's rows and checksums it while other tables load.

Where the values do not allow LOAD DATA (binary, bit, spatial, generated or
invisible columns, another engine, a dump of unknown make, LOAD DATA LOCAL off
on the server), the table gets its own INSERTs, as the manual would. The same
happens when LOAD DATA gives a warning or another row count than the dump's
(LOCAL turns errors into warnings and skips duplicate keys): the table is
emptied and loaded again from the same VALUES lists as INSERTs.
"""

import array
import contextlib
import hashlib
import os
import queue
import re
import shutil
import threading
import time
import traceback

from ansible_collections.ods.fix.plugins.module_utils.mysql import dump_policy, dump_reader, root_access
from ansible_collections.ods.fix.plugins.module_utils.mysql.restore import RestoreError
from ansible_collections.ods.fix.plugins.module_utils.mysql.root_access import SessionError, q

# Seconds a statement of the load may wait for a table's lock before it fails (the server's default is a day).
LOCK_WAIT = 600
LOAD_SETTINGS = b"SET SESSION sql_log_bin = 0;\nSET foreign_key_checks = 0;\nSET unique_checks = 0;\n"
# mysqldump and mariadb-dump write every INSERT of a table alike: the table, maybe a column list
# (--complete-insert), and VALUES followed by a space or, in mariadb-dump 10.11, a line break before each row.
ROWS_INSERT = re.compile(rb"INSERT INTO `((?:[^`]|``)+)`( \([^()]*\))? VALUES(\s?)\(")
# Columns whose values mysqldump writes as something LOAD DATA would read as text (0x.., b'..', _binary '..'),
# or which an INSERT without a column list does not fill (generated, invisible).
NOT_AS_TEXT = re.compile(
    rb"^\s+`(?:[^`]|``)+` (?:tinyblob|blob|mediumblob|longblob|binary|varbinary|bit|geometry|point|linestring|polygon"
    rb"|multipoint|multilinestring|multipolygon|geometrycollection|vector)\b"
    rb"|CHARACTER SET binary|GENERATED ALWAYS|\) (?:VIRTUAL|STORED|PERSISTENT)\b|\bINVISIBLE\b|WITH SYSTEM VERSIONING",
    re.IGNORECASE | re.MULTILINE,
)
INNODB_CLOSE = re.compile(rb"^\) ENGINE=InnoDB\b", re.IGNORECASE | re.MULTILINE)
STATS_RECALC = re.compile(rb"\bSTATS_AUTO_RECALC\s*=", re.IGNORECASE)
NAMES = re.compile(rb"SET NAMES (\w+)", re.IGNORECASE)
LOAD_RESULT = re.compile(r"^(\d+)\t(\d+)$", re.MULTILINE)  # SELECT ROW_COUNT(), @@warning_count after the load


def loadable(create, kind, preamble):
    """Can this table's rows go through LOAD DATA? Its CREATE TABLE (bytes), the dump's make and header say."""
    if kind not in ("mysqldump", "mariadb-dump"):  # the value formats LOAD DATA is given here are theirs
        return False
    if b"NO_BACKSLASH_ESCAPES" in preamble.upper():
        return False
    return bool(INNODB_CLOSE.search(create)) and not NOT_AS_TEXT.search(create)


def without_stats_recalc(lines):
    """(CREATE TABLE lines with STATS_AUTO_RECALC=0, True), or (the lines, False) when not InnoDB or already set.

    InnoDB recalculates a table's statistics each time a tenth of it changed: during a load, all the time,
    on a background thread that took half the CPU in the bench. The option is put back after the rows
    (ALTER TABLE ... STATS_AUTO_RECALC=DEFAULT, which changes no data), then the statistics are computed once.
    """
    text = b"".join(lines)
    if STATS_RECALC.search(text) or not INNODB_CLOSE.search(text):
        return lines, False
    out = list(lines)
    for i in range(len(out) - 1, -1, -1):
        if INNODB_CLOSE.match(out[i]):
            out[i] = b") STATS_AUTO_RECALC=0" + out[i][1:]
            return out, True
    return lines, False


# mysqldump's SETs that open a table's definition (or a trigger's): they save the client's character set and set
# the dump's; the one that puts it back (SET character_set_client = @saved_cs_client) closes it.
OPENING_CONTEXT = re.compile(
    rb"^/\*!\d{5} SET (?:@saved_cs_client\s*=|character_set_client\s*=\s*(?!@saved_cs_client)\w)", re.IGNORECASE
)


class Part:
    """One table's files: its SQL, where its LOAD DATA rows are, what runs after its rows.

    The rows are segments: a big INSERT's VALUES lists read straight from the dump where they are (an
    uncompressed dump), else runs of small ones copied into the part's spool file, joined by the separator.
    """

    DUMP, SPOOL = 0, 1
    BIG = 1 << 16  # an INSERT's rows worth a segment of their own

    def __init__(self, name, number, directory, header):
        self.name = name
        base = os.path.join(directory, "table-%04d" % number)
        self.sql_path, self.spool_path = base + ".sql", base + ".rows"
        self._sql = open(self.sql_path, "wb")
        self._sql.write(header)
        self._spool = None
        self.segments = array.array("Q")  # (DUMP or SPOOL, start, end), flat
        self.created = False  # it has a CREATE TABLE (a view's stand-in may have only its DROP TABLE)
        self.loadable = False  # decided at its CREATE TABLE
        self.insert_head = None  # b"INSERT INTO `t` (cols) VALUES" of its LOAD rows
        self.separator = b"),("
        self.columns = b""
        self.counted = 0  # the dump's rows of this table
        self.load_rows = 0  # of which in the segments
        self.after = []  # statements after its rows, the table as %(table)s
        self.stats_off = False  # created with STATS_AUTO_RECALC=0, to be put back once every table is in
        self.size = 0

    def write_sql(self, lines):
        self._sql.writelines(lines)
        self.size += sum(len(line) for line in lines)

    def add_rows(self, body, rows, where=None):
        """An INSERT's VALUES lists: where=(start, end) in the dump when they can be read there, else copied."""
        self.load_rows += rows
        self.size += len(body)
        if where is not None and len(body) >= self.BIG:
            self.segments.extend((self.DUMP, where[0], where[1]))
            return
        if self._spool is None:
            self._spool = open(self.spool_path, "wb")
        if self.segments and self.segments[-3] == self.SPOOL:
            self._spool.write(self.separator)
            self._spool.write(body)
            self.segments[-1] = self._spool.tell()
        else:
            start = self._spool.tell()
            self._spool.write(body)
            self.segments.extend((self.SPOOL, start, self._spool.tell()))

    def close(self):
        self._sql.close()
        if self._spool is not None:
            self._spool.close()

    def runs(self):
        """(DUMP or SPOOL, start, end) of each segment, in order."""
        for i in range(0, len(self.segments), 3):
            yield self.segments[i], self.segments[i + 1], self.segments[i + 2]


class Split:
    """What the split found and wrote: the scan, the file's hash and sizes, the header, the parts, the objects."""

    def __init__(self, directory):
        self.directory = directory
        self.scan = dump_reader.Scan()
        self.info = {}
        self.preamble = b""
        self.parts = {}
        self.objects = os.path.join(directory, "objects.sql")
        self.late = os.path.join(directory, "late.sql")


class Splitter:
    """Reads the dump once: counts and checks it, writes each table's part, hands finished parts to on_part."""

    def __init__(
        self, dump_path, directory, load_data=False, bulk=False, on_part=None, progress=None, pick=None, policy=None
    ):
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.makedirs(directory, mode=0o700)
        self.dump_path, self.split = dump_path, Split(directory)
        # bulk: one LOAD DATA into an empty table takes InnoDB's bulk insert, which builds every index sorted
        # (MariaDB 10.6+). Otherwise the plain secondary keys are built after the rows (myloader's
        # --innodb-optimize-keys), instead of being updated row by row.
        self.load_data, self.bulk = load_data, bulk
        self.on_part, self.progress = on_part, progress
        self.pick = pick  # the database to take from a dump of several
        self.policy = (
            policy  # dump_policy.Policy: what of the dump may run (dump_reader.statements checks each statement)
        )
        self.stopped = None  # set by stop(): the reason to stop reading
        self.reader = None
        self._current = None
        self._late = None
        self._finished = set()
        self._opening = []  # context statements that open what comes next, held for it

    def stop(self, reason):
        self.stopped = reason

    def run(self, allow_incomplete=False):
        split, scan = self.split, self.split.scan
        reader = self.reader = dump_reader.Reader(self.dump_path)
        preamble = []
        objects = open(split.objects + ".body", "wb")
        started = False
        try:
            for kind, table, lines in dump_reader.statements(reader.units(), scan, self.pick, reader, self.policy):
                if self.stopped:
                    raise RestoreError(self.stopped)
                if kind == "drop":
                    if self.pick is None:
                        dump_reader.several(self.dump_path, scan)  # at once, not after loading the first one
                    continue
                if kind == "table":
                    if not started:
                        started, split.preamble = True, b"".join(preamble)
                    self.table_statement(table, lines)
                elif not started:
                    preamble.append(b"".join(lines))
                else:
                    objects.writelines(lines)
                if self.progress is not None and scan.statements % 500 == 0:
                    self.progress("reading the dump and loading it", reader.sql_bytes, sum(scan.rows.values()))
        except (OSError, EOFError) as exc:
            raise dump_reader.DumpError(f"cannot read it: {exc}") from exc
        finally:
            objects.close()
            if self._late is not None:
                self._late.close()
        self.finish_current()
        scan.kind = scan.kind or "sql"
        dump_reader.check_complete(self.dump_path, scan, allow_incomplete, self.pick)
        if not scan.tables:
            raise dump_reader.DumpError(f"{self.dump_path} holds no table: not a dump of a database")
        split.info = reader.info()
        # The objects run in a session of their own: they need the dump's opening SETs too.
        with open(split.objects, "wb") as out, open(objects.name, "rb") as body:
            out.write(split.preamble)
            shutil.copyfileobj(body, out)
        os.unlink(objects.name)
        return split

    def table_statement(self, table, lines):
        current = self._current
        if table is None and OPENING_CONTEXT.match(lines[0].lstrip()):
            # It opens the next table's definition (or a trigger's): it goes with the statement it comes before,
            # the next table's own (without --add-drop-table there is no DROP TABLE to start that table's part).
            self._opening.extend(lines)
            return
        if table is None or (current is not None and table == current.name):
            if current is not None:  # a statement of the table being read (or of its context)
                current.write_sql(self.opened())
                self.write(current, lines)
            return
        if table in self._finished:  # a table's statement after other tables': run once every table is in
            if dump_reader.CREATE_TABLE.match(lines[0].lstrip()):
                raise dump_reader.DumpError(f"table {table} is created twice in the dump")
            self.write_late(lines, self.opened())
            return
        self.finish_current()
        number = len(self.split.parts)
        part = self.split.parts[table] = Part(table, number, self.split.directory, LOAD_SETTINGS + self.split.preamble)
        self._current = part
        part.write_sql(self.opened())
        self.write(part, lines)

    def opened(self):
        """The opening context statements held for the statement that comes now (taken: they go once)."""
        held, self._opening = self._opening, []
        return held

    def write(self, part, lines):
        head = lines[0].lstrip()
        if dump_reader.TABLE_LOCKING.match(head):
            # The shadow schema is the load's own; and a table that another session creates while this one holds
            # its lock, with a foreign key to it, makes the next INSERT fail (ERROR 1100, not locked).
            return
        if dump_reader.CREATE_TABLE.match(head):
            part.created = True
            create = b"".join(lines)
            part.loadable = self.load_data and loadable(create, self.split.scan.kind, self.split.preamble)
            lines, stats_off = without_stats_recalc(lines)
            if not (part.loadable and self.bulk):
                lines, deferred = dump_reader.defer_secondary_keys(lines, part.name)
                if deferred:  # b"ALTER TABLE `t` ADD KEY ...;\n", for the shadow schema's table
                    keys = deferred[len(b"ALTER TABLE " + q(part.name).encode("utf-8")) :].decode("utf-8")
                    part.after.append("ALTER TABLE %(table)s" + keys.rstrip(";\n"))
            part.stats_off = stats_off
        elif part.loadable and len(lines) == 1 and head.endswith(b");\n"):
            match = ROWS_INSERT.match(head)
            insert_head = head[: match.end() - 1].rstrip() if match else None
            if insert_head is not None and part.insert_head is None:
                part.insert_head, part.columns = insert_head, match.group(2) or b""
                part.separator = b"),\n(" if match.group(3) == b"\n" else b"),("
            if insert_head is not None and insert_head == part.insert_head:
                counted = self.split.scan.rows.get(part.name, 0)  # statements() counted this INSERT's rows
                where = None
                if not self.reader.compressed:
                    start = self.reader.unit_start
                    where = (start + match.end(), start + len(head) - 3)
                part.add_rows(head[match.end() : -3], counted - part.counted, where)
                part.counted = counted
                return
        if dump_reader.INSERT.match(head):
            run_as_is(lines)  # not LOAD DATA's: the server runs this INSERT as it is
        part.write_sql(lines)
        part.counted = self.split.scan.rows.get(part.name, 0)

    def write_late(self, lines, held=()):
        if dump_reader.INSERT.match(lines[0].lstrip()):
            run_as_is(lines)
        if self._late is None:
            self._late = open(self.split.late, "wb")
            self._late.write(LOAD_SETTINGS + self.split.preamble)
        self._late.writelines(held)
        self._late.writelines(lines)

    def finish_current(self):
        part, self._current = self._current, None
        if part is None:
            return
        part.counted = self.split.scan.rows.get(part.name, 0)
        part.close()
        self._finished.add(part.name)
        if self.on_part is not None:
            self.on_part(part)


def run_as_is(lines):
    """DumpError unless an INSERT that the server will run as written holds values only, no expression."""
    try:
        dump_policy.values_only(b"".join(lines))
    except dump_policy.Unsafe as exc:
        raise dump_reader.DumpError(str(exc)) from exc


class ServerLoad:
    """How this server is loaded: LOAD DATA LOCAL allowed, and InnoDB's bulk insert into an empty table safe."""

    def __init__(self, local_infile, version):
        self.local_infile = local_infile
        self.version = version
        self.mariadb = "mariadb" in version.lower()
        self.bulk_unsafe = self.mariadb and _in_bulk_bug(version)
        self.bulk = self.mariadb and _version(version) >= 100600 and not self.bulk_unsafe

    @classmethod
    def of(cls, db):
        row = db.sql("SELECT @@local_infile, VERSION();")[0]
        return cls(str(row[0]) in ("1", "ON"), row[1])

    def settings(self):
        # MariaDB 10.6 to 10.11.10 (and 11.x before its fix) can abort a LOAD DATA that takes InnoDB's bulk insert
        # path (MDEV-34703); mariadb-import keeps unique checks on there, and so does this load.
        return b"SET unique_checks = 1;\n" if self.bulk_unsafe else b""


def _version(version):
    numbers = [int(n) for n in re.findall(r"\d+", version.split("-")[0])[:3]]
    return numbers[0] * 10000 + numbers[1] * 100 + numbers[2] if len(numbers) == 3 else 0


def _in_bulk_bug(version):
    v = _version(version)
    fixed = v >= 110702 or 110405 <= v < 110500 or 101111 <= v < 101200
    return v >= 100600 and not fixed


def load_statement(part, charset, infile="/dev/stdin"):
    """The LOAD DATA statement for a part's rows, as mysqldump wrote them (fields quoted with ', escaped with \\)."""
    lines = "'),\\n('" if part.separator == b"),\n(" else "'),('"
    return (
        "LOAD DATA LOCAL INFILE "
        + root_access.quote(infile)
        + " INTO TABLE {} CHARACTER SET {} "
        "FIELDS TERMINATED BY ',' ENCLOSED BY '''' ESCAPED BY '\\\\' LINES TERMINATED BY {}{}".format(
            q(part.name), charset, lines, (" " + part.columns.decode("utf-8").strip()) if part.columns else ""
        )
    )


LEGACY_ROWS = re.compile(r"^ods-fix-rows-\d+-(?:\d+|probe)$")  # named before the project's tag was in the name


class RowsDir:
    """A directory that this machine and the database's client both see: the mount of the data directory.

    A part's rows are copied there (copy_file_range, in the kernel) and LOAD DATA LOCAL INFILE reads them by
    name, instead of through `docker exec`'s stdin, which copies every byte through dockerd and the
    container's shim: 12% of a 2-core machine during a load, measured (bench/mysql_restore.py). A file
    at the top of the data directory is no database to the server; each goes once its table is loaded.
    """

    PREFIX = "ods-fix-rows-"

    def __init__(self, here, there, owner, project=""):
        self.here, self.there, self.owner = here, there, owner
        # A project's own files: several projects may share one server, and one's load must not lose its rows
        # to another's clean-up.
        self.prefix = self.PREFIX + hashlib.sha256(project.encode("utf-8")).hexdigest()[:8] + "-"
        self._number = 0
        self._lock = threading.Lock()

    @classmethod
    def locate(cls, db, project=""):
        """The data directory's mount on this machine, when this process may write there; None otherwise."""
        datadir = (db.sql("SELECT @@datadir;")[0][0] or "").rstrip("/")
        found = None
        for mount in db.container.attrs.get("Mounts") or []:
            there = (mount.get("Destination") or "").rstrip("/")
            inside = there and (datadir == there or datadir.startswith(there + "/")) and mount.get("RW", True)
            if inside and (found is None or len(there) > len(found[1])):
                found = (mount.get("Source") or "", there)
        if not found or not datadir:
            return None
        here = os.path.normpath(os.path.join(found[0], os.path.relpath(datadir, found[1])))
        if not os.path.isdir(here) or not os.access(here, os.W_OK):
            return None  # the engine is elsewhere, or this is not root
        return cls(here, datadir, os.stat(here), project)

    @classmethod
    def find(cls, db, project=""):
        """locate(), checked from inside the container: the server reads what is written here; None otherwise."""
        rows_dir = cls.locate(db, project)
        if rows_dir is None:
            return None
        rows_dir.clean()
        probe = rows_dir.path("probe")
        try:
            # O_EXCL | O_NOFOLLOW: the database's container can write this directory too, and a link it planted
            # here must not make root on this machine create or truncate what the link points at.
            os.close(os.open(probe[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        except OSError:
            return None  # any failure only means that the rows go through stdin
        try:
            seen = db.container.exec_run(["test", "-f", probe[1]])
        except Exception:  # any failure only means that the rows go through stdin
            return None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(probe[0])
        return rows_dir if getattr(seen, "exit_code", 1) == 0 else None

    def path(self, name):
        file = self.prefix + "%d-%s" % (os.getpid(), name)
        return os.path.join(self.here, file), self.there + "/" + file

    def clean(self):
        """Remove what an interrupted load of this project left (its lock says no other load of it runs):
        (files, bytes) removed. A link is removed, never followed."""
        files, size = 0, 0
        for name in os.listdir(self.here):
            if name.startswith(self.prefix) or LEGACY_ROWS.match(name):
                path = os.path.join(self.here, name)
                with contextlib.suppress(OSError):
                    size += os.lstat(path).st_size
                    os.unlink(path)
                    files += 1
        return files, size

    def write(self, part, dump_path):
        """(path here, path in the container) of a file holding the part's rows; None when there is no room."""
        if shutil.disk_usage(self.here).free < 2 * part.size + (256 << 20):
            return None
        with self._lock:
            self._number += 1
            here, there = self.path("%d" % self._number)
        sources = {Part.DUMP: dump_path, Part.SPOOL: part.spool_path}
        fd = os.open(here, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.fchown(fd, self.owner.st_uid, self.owner.st_gid)  # the container's root may not be this one's
            handles = {}
            for i, (kind, start, end) in enumerate(part.runs()):
                if i:
                    os.write(fd, part.separator)
                if kind not in handles:
                    handles[kind] = os.open(sources[kind], os.O_RDONLY)
                _copy(handles[kind], fd, start, end - start)
            for handle in handles.values():
                os.close(handle)
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(here)
            return None
        os.close(fd)
        return here, there


def _copy(source, target, offset, count):
    """count bytes of source from offset, appended to target, in the kernel."""
    while count > 0:
        done = os.copy_file_range(source, target, count, offset)
        if done <= 0:
            raise OSError("the dump is shorter than when it was read: it changed during the restore")
        offset += done
        count -= done


class Loader:
    """Worker threads that load finished parts into the shadow schema, largest first, then count and checksum them."""

    def __init__(self, db, shadow, workers, preamble_of, server, dump_path, pick=None, rows_dir=None, policy=None):
        self.db, self.shadow, self.server, self.dump_path, self.pick = db, shadow, server, dump_path, pick
        self.policy = policy
        self.rows_dir = rows_dir
        self.preamble_of = preamble_of  # callable: the dump's header, known once the first table starts
        self._ready = queue.PriorityQueue()
        self._number = 0
        self.sent = 0
        self._alter = threading.Lock()
        self.counts, self.checksums, self.notes, self.errors = {}, {}, [], []
        self.methods = {}  # table -> "LOAD DATA" or "INSERT": how its rows went in
        self.started = time.monotonic()
        self.timeline = []  # per table: when its load started, and the seconds of each step
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _unused in range(max(1, workers))]

    def start(self):
        self.db.sql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4;" % ((q(self.shadow),) * 2))
        for thread in self._threads:
            thread.start()

    def put(self, part):
        with self._lock:
            self._number += 1
            number = self._number
        self._ready.put((-part.size, number, part))

    def failed(self):
        with self._lock:
            return self.errors[0] if self.errors else None

    def finish(self, report=None):
        """Wait for every part, calling report() each second; RestoreError with the first failure."""
        for _unused in self._threads:
            self._ready.put((float("inf"), 0, None))
        while any(thread.is_alive() for thread in self._threads):
            for thread in self._threads:
                thread.join(1.0)
            if report is not None:
                report()
        if self.errors:
            raise RestoreError(self.errors[0])

    def stop(self, reason):
        with self._lock:
            self.errors.append(reason)

    def _work(self):
        while True:
            _size, _n, part = self._ready.get()
            if part is None or self.failed():
                return
            try:
                self.load(part)
            except (SessionError, root_access.MysqlError, RestoreError, dump_reader.DumpError, OSError) as exc:
                with self._lock:
                    self.errors.append(f"loading table {part.name}: {exc}")
                return
            except Exception as exc:  # a defect: never a table silently left out, always the load's failure
                where = traceback.extract_tb(exc.__traceback__)[-1]
                with self._lock:
                    self.errors.append(
                        f"loading table {part.name}: {type(exc).__name__}: {exc} "
                        f"({os.path.basename(where.filename)}:{where.lineno})"
                    )
                return

    def _stream(self, session, chunks):
        for block in chunks:
            session.send(block)
            with self._lock:
                self.sent += len(block)
            if session.broken or self.errors:
                break
        return session.close()

    def load(self, part):
        steps, mark = {"table": part.name, "at": round(time.monotonic() - self.started, 1)}, time.monotonic()

        def step(name):
            nonlocal mark
            now = time.monotonic()
            steps[name] = round(now - mark, 2)
            mark = now

        session = self.db.session(self.shadow)
        self._stream(session, _blocks(part.sql_path))
        step("sql")
        method, count = self.load_rows(part) if part.load_rows else ("INSERT", None)
        step("rows")
        if not part.created:
            return
        table = f"{q(self.shadow)}.{q(part.name)}"
        if part.after:
            # One ALTER at a time: two at once on tables a foreign key links can wait for each other inside
            # InnoDB, where no deadlock is detected (seen on MariaDB 10.11). The loads go on meanwhile.
            with self._alter:
                self.db.sql(
                    "SET SESSION lock_wait_timeout = %d;\n%s"
                    % (LOCK_WAIT, "".join("%s;\n" % (statement % {"table": table}) for statement in part.after))
                )
        step("after")
        if count is None:  # LOAD DATA said how many rows it put into the empty table
            count = int(self.db.sql(f"SELECT COUNT(*) FROM {table};")[0][0])
        checksum = self.db.sql(f"CHECKSUM TABLE {table};")
        step("check")
        with self._lock:
            self.timeline.append(steps)
            self.methods[part.name] = method
            self.counts[part.name] = count
            self.checksums[part.name] = checksum[0][1]

    def load_rows(self, part):
        charset = (NAMES.search(self.preamble_of()) or NAMES.search(b"SET NAMES utf8mb4")).group(1).decode()
        written = self.rows_dir.write(part, self.dump_path) if self.rows_dir is not None else None

        def script(infile):
            return b"".join(
                [
                    self.preamble_of(),
                    b"\n",
                    LOAD_SETTINGS,
                    self.server.settings(),
                    load_statement(part, charset, infile).encode("utf-8"),
                    b";\nSELECT ROW_COUNT(), @@warning_count;\n",
                ]
            ).decode("utf-8", "replace")

        try:
            if written is not None:
                session = self.db.session(self.shadow, args=["--local-infile=1", "-e", script(written[1])])
                output = session.close()
                with self._lock:
                    self.sent += part.size
            else:
                session = self.db.session(self.shadow, args=["--local-infile=1", "-e", script("/dev/stdin")])
                output = self._send_rows(session, part)
        finally:
            if written is not None:
                with contextlib.suppress(OSError):
                    os.unlink(written[0])
        if self.errors:
            return "stopped", None
        said = LOAD_RESULT.findall(output)
        loaded, warnings = (int(said[-1][0]), int(said[-1][1])) if said else (None, None)
        if loaded == part.load_rows and warnings == 0:
            return "LOAD DATA", loaded
        # LOCAL makes errors warnings and skips duplicate keys (and a count never said is no count): load this
        # table the manual's way instead.
        with self._lock:
            self.notes.append(
                "%s: LOAD DATA gave %s rows and %s warnings for the dump's %d; loaded from its INSERTs instead"
                % (part.name, loaded, warnings, part.load_rows)
            )
        self.db.sql(f"TRUNCATE TABLE {q(self.shadow)}.{q(part.name)};")
        session = self.db.session(self.shadow)
        self._stream(session, _chain([LOAD_SETTINGS + self.preamble_of()], self.inserts_of(part.name)))
        return "INSERT", None

    def _send_rows(self, session, part):
        """Stream a part's segments, separated, into a LOAD DATA session; the client's output."""
        sources = {Part.DUMP: self.dump_path, Part.SPOOL: part.spool_path}
        handles = {}
        try:
            for i, (kind, start, end) in enumerate(part.runs()):
                if session.broken or self.errors:
                    break
                if i:
                    session.send(part.separator)
                handle = handles.get(kind)
                if handle is None:
                    handle = handles[kind] = open(sources[kind], "rb")
                session.send_file(handle, start, end - start)
                with self._lock:
                    self.sent += end - start
        finally:
            for handle in handles.values():
                handle.close()
        return session.close()

    def inserts_of(self, table):
        """The dump's own INSERTs of a table, read from the dump again."""
        scan, reader = dump_reader.Scan(), dump_reader.Reader(self.dump_path)
        for kind, name, lines in dump_reader.statements(reader.units(), scan, self.pick, reader, self.policy):
            if kind == "table" and name == table and dump_reader.INSERT.match(lines[0]):
                run_as_is(lines)
                yield from lines


def _blocks(path, size=1 << 20):
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(size), b"")


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def put_back_statistics(db, shadow, split):
    """The tables' own statistics option, and their statistics computed once, now that every table is in.

    In one session, one table after the other: ALTER TABLE takes the tables a foreign key links, and two at once
    can wait for each other inside InnoDB without end. Each ALTER changes no data (no rebuild, no copy).
    """
    tables = [q(part.name) for part in split.parts.values() if part.stats_off and part.created]
    if tables:
        db.sql(
            "SET SESSION lock_wait_timeout = %d;\n" % LOCK_WAIT
            + "".join(
                f"ALTER TABLE {q(shadow)}.{table} STATS_AUTO_RECALC=DEFAULT;\nANALYZE "
                f"NO_WRITE_TO_BINLOG TABLE {q(shadow)}.{table};\n"
                for table in tables
            )
        )


def split_and_load(
    db,
    dump_path,
    directory,
    shadow,
    workers,
    allow_incomplete=False,
    progress=None,
    total=0,
    pick=None,
    policy=None,
    project="",
):
    """Split the dump into `directory` and load it into `shadow`, side by side: (Split, Loader).

    The Loader holds each table's row count and checksum, and notes on how tables were loaded. DumpError
    when the dump cannot be restored (policy, a dump_policy.Policy, says what of it may run), RestoreError when
    the load fails; either way the shadow schema is left for the caller to drop, and nothing else was changed.
    """
    server = ServerLoad.of(db)
    rows_dir = RowsDir.find(db, project) if server.local_infile else None
    splitter = Splitter(dump_path, directory, load_data=server.local_infile, bulk=server.bulk, pick=pick, policy=policy)
    loader = Loader(db, shadow, workers, lambda: splitter.split.preamble, server, dump_path, pick, rows_dir, policy)
    splitter.on_part = loader.put

    def rows():
        return sum(splitter.split.scan.rows.values())

    def report(*_read):
        if progress is not None:
            progress("loading the shadow schema", loader.sent, rows(), total)
        failure = loader.failed()
        if failure:
            splitter.stop(failure)

    splitter.progress = report
    loader.start()
    try:
        split = splitter.run(allow_incomplete)
    except BaseException as exc:
        loader.stop(str(exc) or type(exc).__name__)
        with contextlib.suppress(RestoreError):
            loader.finish()
        raise
    loader.finish(report)
    put_back_statistics(db, shadow, split)
    if os.path.exists(split.late):
        session = db.session(shadow)
        loader._stream(session, _blocks(split.late))
        for table in split.scan.tables:
            loader.counts[table] = int(db.sql(f"SELECT COUNT(*) FROM {q(shadow)}.{q(table)};")[0][0])
            loader.checksums[table] = db.sql(f"CHECKSUM TABLE {q(shadow)}.{q(table)};")[0][1]
    if not server.local_infile:
        loader.notes.append("LOAD DATA LOCAL is off on this server (local_infile): every table loaded from its INSERTs")
    return split, loader
