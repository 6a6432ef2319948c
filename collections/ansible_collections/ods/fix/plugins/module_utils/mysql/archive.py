# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Archive old rows before deleting them: lock, dump, count, fsync, then delete, chunk by chunk.

The rows of a chunk stay locked from before their dump until their delete commits, so the archive holds every
deleted row as it was (see Archiver.archive). The archive is a plain mysqldump (one INSERT per row), so
restoring is `gunzip -c FILE | docker-compose exec -T mysql mysql SCHEMA`.
"""

import gzip
import json
import os
import re
import time

from ansible_collections.ods.fix.plugins.module_utils.file_hash import sha256_file
from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.mysql.root_access import Session, SessionError
from ansible_collections.ods.fix.plugins.module_utils.stack.docker_exec import exec_stdin

SPEC = re.compile(r"^(?P<schema>\w+)\.(?P<table>\w+):(?P<column>\w+):(?P<days>\d+)$")
IDENT = re.compile(r"^\w+$")
CHUNK_ROWS = 2000  # locked at once: short transactions, as pt-archiver keeps them; a mysqldump each


class ArchiveError(Exception):
    """Archiving stopped; `rows` were archived in `path` and deleted before it did (0 and None: nothing was)."""

    def __init__(self, message, rows=0, path=None):
        super().__init__(message)
        self.rows, self.path = rows, path


def parse_spec(spec):
    """'schema.table:column:days' -> dict; ArchiveError with the expected form otherwise."""
    match = SPEC.match(spec.strip())
    if not match:
        raise ArchiveError(
            f"archive rule {spec!r}: expected SCHEMA.TABLE:DATE_COLUMN:DAYS, e.g. "
            "one_data_alldata.job_log:create_time:90"
        )
    rule = match.groupdict()
    rule["days"] = int(rule["days"])
    return rule


def count_inserts(path):
    """Rows in a --skip-extended-insert dump, and whether it ends with mysqldump's trailer."""
    rows, complete = 0, False
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as dump:
        for line in dump:
            if line.startswith("INSERT INTO "):
                rows += 1
            elif line.startswith("-- Dump completed"):
                complete = True
    return rows, complete


class Archiver:
    def __init__(self, api, container, root, archive_dir):
        self.api, self.container, self.root, self.archive_dir = api, container, root, archive_dir  # a root_access.Root

    def sql(self, statement):
        return root_access.run_sql(self.api, self.container, statement, root=self.root)

    def plan(self, rule):
        """Rows to archive: the cutoff, the primary key, their count and the highest key."""
        schema, table, column = rule["schema"], rule["table"], rule["column"]
        columns = self.sql(
            f"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
            f"{root_access.quote(schema)} AND TABLE_NAME = {root_access.quote(table)};"
        )
        if not columns:
            raise ArchiveError(f"{schema}.{table}: no such table on the server")
        if column not in [c[0] for c in columns]:
            raise ArchiveError(f"{schema}.{table} has no column {column} to date its rows by")
        keys = self.sql(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.KEY_COLUMN_USAGE JOIN "
            "information_schema.COLUMNS USING (TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME) "
            f"WHERE TABLE_SCHEMA = {root_access.quote(schema)} AND TABLE_NAME = "
            f"{root_access.quote(table)} AND CONSTRAINT_NAME = 'PRIMARY';"
        )
        if len(keys) != 1 or "int" not in keys[0][1]:
            raise ArchiveError(f"{schema}.{table}: archiving needs a single integer primary key")
        key = keys[0][0]
        cutoff = self.sql("SELECT DATE_FORMAT(NOW() - INTERVAL %d DAY, '%%Y-%%m-%%d %%H:%%i:%%s');" % rule["days"])[0][
            0
        ]
        count, highest = self.sql(
            f"SELECT COUNT(*), IFNULL(MAX(`{key}`), 0) FROM `{schema}`.`{table}` WHERE `{column}` < "
            f"{root_access.quote(cutoff)};"
        )[0]
        where = f"`{column}` < '{cutoff}' AND `{key}` <= {highest}"
        return dict(rule, key=key, cutoff=cutoff, rows=int(count), where=where, highest=int(highest))

    def archive(self, plan, chunk=CHUNK_ROWS):
        """Archive the plan's rows to a gzip file on the target, then delete them, chunk by chunk; the manifest.

        Each chunk is pt-archiver's way: its rows are locked (SELECT ... FOR UPDATE, READ COMMITTED so that only
        they are), dumped by a mysqldump whose snapshot starts after the lock, counted, appended to the archive
        and fsynced; only then are they deleted in the same transaction, which commits only when the DELETE took
        exactly the locked rows. No row can change between its dump and its delete, so the archive holds every
        deleted row as it was. The deletes are not written to the binary log: under ROW format a DELETE logs every
        row, and on a full disk the server then waits for space forever. The verified archive restores them.
        """
        if not os.path.isdir(self.archive_dir):
            os.makedirs(self.archive_dir, mode=0o700)
        schema, table = plan["schema"], plan["table"]
        base = os.path.join(self.archive_dir, "{}.{}-{}".format(schema, table, time.strftime("%Y%m%d-%H%M%S")))
        path = base + ".sql.gz"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        session = Session(self.api, self.container, schema, root=self.root, interactive=True)
        deleted, failure, last = 0, None, None
        try:
            session.query("SET SESSION sql_log_bin = 0; SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;")
            session.query("SET autocommit = 0;")
            while True:
                took, last = self._chunk(session, fd, plan, last, chunk)
                if not took:
                    break
                deleted += took
        except (SessionError, ArchiveError, OSError) as exc:  # OSError: the archive's disk is full
            failure = exc
        finally:
            os.close(fd)
            try:
                session.close()
            except SessionError as exc:
                failure = failure or exc
        if not deleted:
            os.unlink(path)
            if failure:
                raise ArchiveError(f"archiving {schema}.{table} failed, nothing was deleted: {why(failure)}")
            return None
        try:
            manifest = write_manifest(base, path, plan, deleted)
        except OSError as exc:
            raise ArchiveError(
                "archiving %s.%s: %d rows are archived in %s and deleted, but its manifest could not be written (%s)"
                % (schema, table, deleted, path, why(exc)),
                deleted,
                path,
            ) from exc
        if failure:
            raise ArchiveError(
                "archiving %s.%s stopped after %d rows, which are archived in %s and deleted: %s"
                % (schema, table, deleted, path, why(failure)),
                deleted,
                path,
            )
        return manifest

    def _chunk(self, session, fd, plan, last, chunk):
        """Lock, dump, append and delete the next chunk of rows after key `last`; (rows deleted, its last key)."""
        schema, table, key = plan["schema"], plan["table"], plan["key"]
        after = "" if last is None else " AND `%s` > %d" % (key, last)
        keys = session.query(
            "SELECT `%s` FROM `%s`.`%s` WHERE %s%s ORDER BY `%s` LIMIT %d FOR UPDATE;"
            % (key, schema, table, plan["where"], after, key, chunk)
        )
        if not keys:
            session.query("ROLLBACK;")
            return 0, last
        low, high = int(keys[0][0]), int(keys[-1][0])
        where = "%s AND `%s` BETWEEN %d AND %d" % (plan["where"], key, low, high)
        end = os.lseek(fd, 0, os.SEEK_END)
        try:
            self._append_chunk(fd, plan, where, len(keys))
        except OSError:  # no room for the chunk: it is cut off the archive, and its rows are not deleted
            os.ftruncate(fd, end)
            raise
        try:
            took = int(session.query(f"DELETE FROM `{schema}`.`{table}` WHERE {where}; SELECT ROW_COUNT();")[-1][0])
            if took != len(keys):
                raise ArchiveError(
                    "%d rows of %s.%s came into keys %d-%d while they were archived; that chunk was put back, "
                    "run it again" % (took - len(keys), schema, table, low, high)
                )
        except (SessionError, ArchiveError):
            os.ftruncate(fd, end)  # the chunk's delete does not commit (the client rolls back as it exits)
            os.fsync(fd)
            raise
        session.query("COMMIT;")  # one that fails half-way may have deleted: the chunk stays archived
        return took, high

    def _append_chunk(self, fd, plan, where, rows):
        """Dump the chunk's rows to a part file, check it holds them all, append it to the archive, fsync."""
        cmd = [
            self.root.program("dump"),
            "-u",
            "root",
            "--single-transaction",
            "--no-create-info",
            "--skip-extended-insert",
            "--complete-insert",
            "--skip-triggers",
            "--where",
            where,
            plan["schema"],
            plan["table"],
        ]
        part = "%s.part-%d" % (os.path.join(self.archive_dir, plan["table"]), os.getpid())
        try:
            raw = open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
            with raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
                result = exec_stdin(
                    self.api, self.container, cmd, environment=self.root.env, timeout=3600, sink=out.write
                )
            if result.code != 0:
                raise ArchiveError("mysqldump failed: {}".format(result.stderr.decode("utf-8", "replace").strip()))
            found, complete = count_inserts(part)
            if found != rows or not complete:
                raise ArchiveError(
                    "the dump of %s holds %d rows, not %d (complete: %s)" % (where, found, rows, complete)
                )
            with open(part, "rb") as dump:
                for block in iter(lambda: dump.read(1 << 20), b""):
                    os.write(fd, block)  # gzip members one after the other are one gzip file
            os.fsync(fd)  # on disk before a row is deleted, not in the page cache of a host that may crash
        finally:
            if os.path.exists(part):
                os.unlink(part)


def why(failure):
    """A failure in words: an OSError by its message (ENOSPC: No space left on device), others as they say."""
    return failure.strerror or str(failure) if isinstance(failure, OSError) else str(failure)


def write_manifest(base, path, plan, rows):
    """The archive's manifest beside it (0600, fsynced): what it holds and how to restore it."""
    manifest = {
        "table": "{}.{}".format(plan["schema"], plan["table"]),
        "where": plan["where"],
        "rows": rows,
        "file": path,
        "sha256": sha256_file(path),
        "bytes": os.path.getsize(path),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "restore": "gunzip -c {} | docker-compose exec -T mysql mysql {}".format(path, plan["schema"]),
    }
    fd = os.open(base + ".manifest.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(manifest, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(os.path.dirname(path))
    return manifest


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
