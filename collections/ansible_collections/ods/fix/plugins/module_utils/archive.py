# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Archive old rows before deleting them: dump, compress, fsync, checksum, verify, then delete.

Only rows that are in the archive, exactly as they are now, are deleted: the archive is loaded back into a
scratch copy of the table and the DELETE joins it on the primary key and every column (NULL-safe). A row
changed between the dump and the delete stays, so the archive holds every deleted row by construction, and
the archive has been shown to load. The archive is a plain mysqldump (one INSERT per row), so restoring is
`gunzip -c FILE | docker-compose exec -T mysql mysql SCHEMA`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import json
import os
import re
import time

from ansible_collections.ods.fix.plugins.module_utils import mysqlexec
from ansible_collections.ods.fix.plugins.module_utils.dockerexec import exec_stdin
from ansible_collections.ods.fix.plugins.module_utils.mysqlsession import Session, SessionError

SPEC = re.compile(r"^(?P<schema>\w+)\.(?P<table>\w+):(?P<column>\w+):(?P<days>\d+)$")
IDENT = re.compile(r"^\w+$")


class ArchiveError(Exception):
    pass


def parse_spec(spec):
    """'schema.table:column:days' -> dict; ArchiveError with the expected form otherwise."""
    match = SPEC.match(spec.strip())
    if not match:
        raise ArchiveError(
            "archive rule %r: expected SCHEMA.TABLE:DATE_COLUMN:DAYS, e.g. "
            "one_data_alldata.job_log:create_time:90" % spec
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


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Archiver(object):
    def __init__(self, api, container, root, archive_dir):
        self.api, self.container, self.root, self.archive_dir = api, container, root, archive_dir  # a mysqlexec.Root

    def sql(self, statement):
        return mysqlexec.run_sql(self.api, self.container, statement, root=self.root)

    def plan(self, rule):
        """Rows to archive: the cutoff, the primary key, their count and the highest key."""
        schema, table, column = rule["schema"], rule["table"], rule["column"]
        keys = self.sql(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.KEY_COLUMN_USAGE JOIN "
            "information_schema.COLUMNS USING (TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME) "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY';"
            % (mysqlexec.quote(schema), mysqlexec.quote(table))
        )
        if len(keys) != 1 or "int" not in keys[0][1]:
            raise ArchiveError("%s.%s: archiving needs a single integer primary key" % (schema, table))
        key = keys[0][0]
        cutoff = self.sql("SELECT DATE_FORMAT(NOW() - INTERVAL %d DAY, '%%Y-%%m-%%d %%H:%%i:%%s');" % rule["days"])[0][
            0
        ]
        count, highest = self.sql(
            "SELECT COUNT(*), IFNULL(MAX(`%s`), 0) FROM `%s`.`%s` WHERE `%s` < %s;"
            % (key, schema, table, column, mysqlexec.quote(cutoff))
        )[0]
        where = "`%s` < '%s' AND `%s` <= %s" % (column, cutoff, key, highest)
        return dict(rule, key=key, cutoff=cutoff, rows=int(count), where=where, highest=int(highest))

    def dump(self, plan):
        """Write the rows to a gzip file on the target; returns its manifest (verified)."""
        if not os.path.isdir(self.archive_dir):
            os.makedirs(self.archive_dir, mode=0o700)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = os.path.join(self.archive_dir, "%s.%s-%s" % (plan["schema"], plan["table"], stamp))
        path = base + ".sql.gz"
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
            plan["where"],
            plan["schema"],
            plan["table"],
        ]
        env = self.root.env
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb") as out:
                result = exec_stdin(self.api, self.container, cmd, environment=env, timeout=3600, sink=out.write)
            raw.flush()
            os.fsync(raw.fileno())  # on disk before a row is deleted, not in the page cache of a host that may crash
        fsync_dir(self.archive_dir)
        if result.code != 0:
            os.unlink(path)
            raise ArchiveError("mysqldump failed: %s" % result.stderr.decode("utf-8", "replace").strip())
        rows, complete = count_inserts(path)
        if rows != plan["rows"] or not complete:
            raise ArchiveError(
                "the archive %s holds %d rows (expected %d, complete: %s); nothing was deleted"
                % (path, rows, plan["rows"], complete)
            )
        manifest = {
            "table": "%s.%s" % (plan["schema"], plan["table"]),
            "where": plan["where"],
            "rows": rows,
            "file": path,
            "sha256": sha256(path),
            "bytes": os.path.getsize(path),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "restore": "gunzip -c %s | docker-compose exec -T mysql mysql %s" % (path, plan["schema"]),
        }
        fd = os.open(base + ".manifest.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(manifest, handle, indent=2)
        return manifest

    def delete(self, plan, manifest, batch=1000):
        """Delete the rows the archive holds, unchanged since, in batches, without writing the binary log.

        Returns (deleted, changed): rows deleted, and archived rows left because they changed (or went) since
        the dump. Under ROW binlog format a DELETE logs every deleted row: on a full disk the server then waits
        for space forever. The rows are in the verified archive, which is what restores them.
        """
        schema, table, key = plan["schema"], plan["table"], plan["key"]
        columns = [
            r[0]
            for r in self.sql(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
                "AND EXTRA NOT LIKE '%%GENERATED%%' ORDER BY ORDINAL_POSITION;"
                % (mysqlexec.quote(schema), mysqlexec.quote(table))
            )
        ]
        scratch = "archive_check_%d" % os.getpid()  # a name within 64 characters, whatever the table's
        self.sql(
            "CREATE DATABASE IF NOT EXISTS ods_fix; DROP TABLE IF EXISTS `ods_fix`.`%s`; "
            "CREATE TABLE `ods_fix`.`%s` LIKE `%s`.`%s`;" % (scratch, scratch, schema, table)
        )
        try:
            self._load_into(manifest["file"], table, scratch)
            same = " AND ".join("t.`%s` <=> a.`%s`" % (c, c) for c in columns)
            cutoff = mysqlexec.quote(plan["cutoff"])
            where = "t.`%s` < %s AND t.`%s` <= %d" % (plan["column"], cutoff, key, plan["highest"])
            deleted, last = 0, None
            while True:
                keys = self.sql(
                    "SELECT `%s` FROM `ods_fix`.`%s` %s ORDER BY `%s` LIMIT %d;"
                    % (key, scratch, "" if last is None else "WHERE `%s` > %d" % (key, last), key, batch)
                )
                if not keys:
                    break
                low, last = int(keys[0][0]), int(keys[-1][0])
                rows = self.sql(
                    # USE: MariaDB resolves a multi-table DELETE's alias against the default database (ERROR 1046)
                    "SET SESSION sql_log_bin = 0; USE `%s`; DELETE t FROM `%s`.`%s` t JOIN `ods_fix`.`%s` a "
                    "ON t.`%s` = a.`%s` WHERE a.`%s` BETWEEN %d AND %d AND %s AND %s; SELECT ROW_COUNT();"
                    % (schema, schema, table, scratch, key, key, key, low, last, where, same)
                )
                deleted += int(rows[-1][0])
        finally:
            self.sql("DROP TABLE IF EXISTS `ods_fix`.`%s`;" % scratch)
        return deleted, manifest["rows"] - deleted

    def _load_into(self, path, table, scratch):
        """The archive, loaded into the scratch table: its header (time zone, names), its INSERTs renamed."""
        prefix = ("INSERT INTO `%s` " % table).encode("utf-8")
        renamed = ("INSERT INTO `%s` " % scratch).encode("utf-8")
        session = Session(self.api, self.container, "ods_fix", root=self.root)
        with gzip.open(path, "rb") as dump:
            session.send(b"SET SESSION sql_log_bin = 0;\n")
            for line in dump:
                if line.startswith(prefix):
                    session.send(renamed + line[len(prefix):])
                elif line.startswith((b"/*!40101 SET", b"/*!40103 SET", b"/*!40014 SET")):
                    session.send(line)
        try:
            session.close()
        except SessionError as exc:
            raise ArchiveError("the archive %s does not load back, nothing was deleted: %s" % (path, exc)) from exc


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
