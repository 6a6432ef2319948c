# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The restore journal, ods_fix.restores on the server itself: what was restored where, with which checksums,
and the phase an unfinished load or swap reached, so that the next run finishes or undoes it (restore.resume).

It lives in the database it describes: a restore is journalled in the same server, by the same root, and
survives the controller, the target's disk and the module's process being lost.
"""

import json
import os
import time

from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access

STATE_SCHEMA = "ods_fix"
STATE_DDL = (
    "CREATE DATABASE IF NOT EXISTS ods_fix; "
    "CREATE TABLE IF NOT EXISTS ods_fix.restores ("
    " id INT AUTO_INCREMENT PRIMARY KEY, target VARCHAR(64) NOT NULL, backup_sha256 CHAR(64) NOT NULL,"
    " backup_name VARCHAR(255), kept_schema VARCHAR(64), status VARCHAR(16) NOT NULL,"
    " checksums LONGTEXT, row_counts LONGTEXT, old_objects LONGTEXT, new_objects LONGTEXT,"
    " started_at DATETIME NOT NULL, finished_at DATETIME, KEY target_status (target, status)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"
)
# Added after the first release: a journal made by it gets them on first use.
STATE_COLUMNS = {
    "source_schema": "VARCHAR(64)",
    "old_tables": "LONGTEXT",
    "new_tables": "LONGTEXT",
    "project": "VARCHAR(255)",  # the Compose project whose restore it is: several may share one server
}
# A swap's phases, in order. `swapping`: the old objects are being dropped and the RENAME may or may not have
# run (it is atomic: the tables tell). `renamed`: the RENAME ran. `objects`: the dump's views, triggers and
# routines are being created. `swapping_back`: a failed check is putting the old database back.
UNFINISHED = ("swapping", "renamed", "objects", "swapping_back")
# A load's: `loading` while the shadow schema fills, `loaded` once verified and waiting for the swap.
LOADS = ("loading", "loaded")


class Journal:
    """ods_fix.restores: what was restored where, and the phase an unfinished load or swap reached."""

    def __init__(self, db, project=""):
        self.db = db
        self.project = project or ""

    def ensure(self):
        self.db.sql(STATE_DDL)
        have = self._columns()
        missing = [f"ADD COLUMN {c} {t}" for c, t in sorted(STATE_COLUMNS.items()) if c not in have]
        if missing:  # ADD COLUMN IF NOT EXISTS is MariaDB's; MySQL 8 has no such clause
            self.db.sql("ALTER TABLE ods_fix.restores {};".format(", ".join(missing)))

    def _columns(self):
        return {
            r[0]
            for r in self.db.sql(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = 'ods_fix' AND TABLE_NAME = 'restores';"
            )
        }

    TEXT = ("backup_name", "checksums", "row_counts", "old_objects", "new_objects", "old_tables", "new_tables")

    def _table(self):
        return bool(
            self.db.sql(
                "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ods_fix' AND TABLE_NAME = 'restores';"
            )
        )

    def last_target(self):
        """The database this project's last restore or rollback went into, whatever became of it; else None."""
        if not self._table():
            return None
        mine = (
            f" WHERE project = {root_access.quote(self.project)}"
            if self.project and "project" in self._columns()
            else ""
        )
        rows = self.db.sql(f"SELECT target FROM ods_fix.restores{mine} ORDER BY id DESC LIMIT 1;")
        return rows[0][0] if rows else None

    def kept_copies(self, target):
        """The schemas this target's swaps kept (what they replaced), newest first, by the journal's order."""
        if not self._table():
            return []
        rows = self.db.sql(
            f"SELECT kept_schema FROM ods_fix.restores WHERE target = {root_access.quote(target)} "
            "AND kept_schema <> '' ORDER BY id DESC;"
        )
        names = []
        for row in rows:
            if row[0] and row[0] not in names:
                names.append(row[0])
        return names

    def latest(self, target, statuses=("done",)):
        if not self._table():
            return None
        # Read-only (check mode plans too): a journal from before STATE_COLUMNS is read as if they were empty.
        have = self._columns()

        def column(name):
            return name if name in have or name not in STATE_COLUMNS else "NULL"

        # Text columns hold scripts with newlines: read them as hex, one row per line.
        rows = self.db.sql(
            "SELECT id, backup_sha256, kept_schema, status, started_at, IFNULL({}, ''), {} "
            "FROM ods_fix.restores WHERE target = {} AND status IN ({}) ORDER BY id DESC LIMIT 1;".format(
                column("source_schema"),
                ", ".join(f"HEX(IFNULL({column(c)}, ''))" for c in self.TEXT),
                root_access.quote(target),
                ", ".join(root_access.quote(s) for s in statuses),
            )
        )
        if not rows:
            return None
        keys = ("id", "backup_sha256", "kept_schema", "status", "started_at", "source_schema", *self.TEXT)
        entry = dict(zip(keys, rows[0], strict=True))
        entry["id"] = int(entry["id"])
        for column in self.TEXT:
            entry[column] = bytes.fromhex(entry[column] or "").decode("utf-8", "replace")
        for column in ("old_tables", "new_tables"):
            entry[column] = json.loads(entry[column] or "[]")
        return entry

    def start(
        self,
        target,
        sha256,
        name,
        kept,
        old_objects,
        new_objects,
        status="swapping",
        source="",
        old_tables=(),
        new_tables=(),
        checksums=None,
        counts=None,
    ):
        self.ensure()
        values = (
            target,
            sha256,
            name,
            kept,
            status,
            old_objects,
            new_objects,
            source,
            json.dumps(list(old_tables)),
            json.dumps(list(new_tables)),
            json.dumps(checksums or {}),
            json.dumps(counts or {}),
            self.project,
        )
        # LAST_INSERT_ID() in the same statement's session: this row's id, whatever other projects on the server add.
        rows = self.db.sql(
            "INSERT INTO ods_fix.restores (target, backup_sha256, backup_name, kept_schema, status, old_objects, "
            "new_objects, source_schema, old_tables, new_tables, checksums, row_counts, project, started_at) "
            "VALUES ({}, NOW()); SELECT LAST_INSERT_ID();".format(", ".join(root_access.quote(v) for v in values))
        )
        return int(rows[-1][0])

    def phase(self, entry_id, status):
        self.db.sql("UPDATE ods_fix.restores SET status = %s WHERE id = %d;" % (root_access.quote(status), entry_id))
        test_pause(status)

    def finish(self, entry_id, status, checksums=None, counts=None):
        sets = [f"status = {root_access.quote(status)}", "finished_at = NOW()"]
        if checksums is not None:
            sets.append(f"checksums = {root_access.quote(json.dumps(checksums))}")
        if counts is not None:
            sets.append(f"row_counts = {root_access.quote(json.dumps(counts))}")
        self.db.sql("UPDATE ods_fix.restores SET %s WHERE id = %d;" % (", ".join(sets), entry_id))


def test_pause(phase):
    """For the kill tests only: stop at a phase (ODS_FIX_TEST_PAUSE_AT) so that the process can be killed there;
    the phase is written to ODS_FIX_TEST_PAUSED_FILE, when set, once it is held."""
    if os.environ.get("ODS_FIX_TEST_PAUSE_AT") == phase:
        if os.environ.get("ODS_FIX_TEST_PAUSED_FILE"):
            with open(os.environ["ODS_FIX_TEST_PAUSED_FILE"], "w") as handle:
                handle.write(phase + "\n")
        time.sleep(3600)
