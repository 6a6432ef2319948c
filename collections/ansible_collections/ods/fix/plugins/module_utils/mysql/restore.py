# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Restore a dump into a shadow schema, verify it, swap it in atomically, keep what it replaced.

The database the APIs use is only ever touched by the swap: every table of
it moves to a dated "kept" schema and every shadow table moves in, in one
RENAME TABLE statement (all or nothing). Views, triggers, routines and events
cannot move between schemas: the old ones are saved (SHOW CREATE) in the
state store before they are dropped, and the dump's are created after the
rename. A journal row in ods_fix.restores records each step, so that an
interrupted swap is finished or undone by the next run.
"""

import hashlib
import json
import re
import threading
import time

from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.mysql.restore_journal import LOADS, UNFINISHED, test_pause
from ansible_collections.ods.fix.plugins.module_utils.mysql.root_access import q


class RestoreError(Exception):
    pass


class NothingToRollBack(Exception):
    """--rollback found no kept copy to put back: nothing was changed."""


def capture_objects(db, schema):
    """A script that recreates the schema's views, triggers, routines and events (SHOW CREATE)."""
    names = db.objects(schema)
    parts = ["SET NAMES utf8mb4;\n"]
    creates = dict((view, db.sql(f"SHOW CREATE VIEW {q(schema)}.{q(view)};")[0][1]) for view in names["views"])
    for view in views_in_order(creates):
        parts.append(f"DROP VIEW IF EXISTS {q(view)};\n{creates[view]};\n")
    for trigger in names["triggers"]:
        row = db.sql(f"SHOW CREATE TRIGGER {q(schema)}.{q(trigger)};")[0]
        parts.append(
            f"DROP TRIGGER IF EXISTS {q(trigger)};\nSET sql_mode = {root_access.quote(row[1])};\n"
            f"DELIMITER ;;\n{row[2]};;\nDELIMITER ;\n"
        )
    for routine in names["routines"]:
        kind, name = routine.split(" ", 1)
        row = db.sql(f"SHOW CREATE {kind} {q(schema)}.{q(name)};")[0]
        parts.append(
            f"DROP {kind} IF EXISTS {q(name)};\nSET sql_mode = {root_access.quote(row[1])};\n"
            f"DELIMITER ;;\n{row[2]};;\nDELIMITER ;\n"
        )
    for event in names["events"]:
        row = db.sql(f"SHOW CREATE EVENT {q(schema)}.{q(event)};")[0]
        parts.append(
            f"DROP EVENT IF EXISTS {q(event)};\nSET sql_mode = {root_access.quote(row[1])};\n"
            f"DELIMITER ;;\n{row[3]};;\nDELIMITER ;\n"
        )
    return "".join(parts), names


def views_in_order(creates):
    """View names, each after the views its definition names (views on views are created in that order)."""
    done, order = set(), []

    def visit(view, path):
        if view in done or view in path:
            return
        for other in creates:
            if other != view and q(other) in creates[view]:
                visit(other, path | {view})
        done.add(view)
        order.append(view)

    for view in sorted(creates):
        visit(view, frozenset())
    return order


def drop_objects(db, schema, names):
    statements = [f"DROP VIEW IF EXISTS {q(schema)}.{q(v)};" for v in names["views"]]
    statements += [f"DROP TRIGGER IF EXISTS {q(schema)}.{q(t)};" for t in names["triggers"]]
    statements += [
        "DROP {} IF EXISTS {}.{};".format(r.split(" ", 1)[0], q(schema), q(r.split(" ", 1)[1]))
        for r in names["routines"]
    ]
    statements += [f"DROP EVENT IF EXISTS {q(schema)}.{q(e)};" for e in names["events"]]
    if statements:
        db.sql("\n".join(statements))


def drop_shadow(db, shadow):
    """Drop a failed load's shadow schema; what became of it, for the report."""
    try:
        db.sql(f"DROP DATABASE IF EXISTS {q(shadow)};")
    except Exception as exc:  # the report must say what is left, whatever stopped the drop
        return f"the shadow schema {shadow} is left ({exc}); remove it with: DROP DATABASE {q(shadow)};"
    return f"the shadow schema {shadow} was dropped"


def per_table(tables, work, workers):
    """{table: work(table)}, `workers` sessions at a time (Database keeps one per thread), in the order given;
    None when any failed (the caller then does it in one session)."""
    queue = list(tables)
    lock, found, errors = threading.Lock(), {}, []

    def worker():
        while True:
            with lock:
                if not queue or errors:
                    return
                table = queue.pop(0)
            try:
                result = work(table)
            except Exception as exc:  # reported by the caller, which then works in one session
                errors.append(exc)
                return
            with lock:
                found[table] = result

    threads = [threading.Thread(target=worker, daemon=True) for _unused in range(max(1, min(workers, len(queue))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return None if errors else found


def checksums_parallel(db, schema, tables, rows, workers):
    """CHECKSUM TABLE of each table, `workers` sessions at a time, the largest tables first."""
    ordered = sorted(tables, key=lambda t: -rows.get(t, 0))
    return per_table(ordered, lambda table: db.checksums(schema, [table])[table], workers)


def counts_parallel(db, schema, tables, workers):
    """Exact row counts (COUNT(*)) of the tables, `workers` sessions at a time."""
    counts = per_table(tables, lambda table: db.row_counts(schema, [table])[table], workers)
    return counts if counts is not None else db.row_counts(schema, tables)


PLAIN_NAME = re.compile(r"^[A-Za-z0-9_]+$")  # InnoDB's file name of it is the name itself


class Holdings:
    """What a schema's tables hold just before a swap's RENAME, and whether the kept copy holds it after.

    A RENAME moves the tables themselves: the kept copy holds every row the schema held exactly when its tables
    are the same tables, which InnoDB's table ids tell (a RENAME keeps them; a DROP, a TRUNCATE or another
    table has others) from its dictionary, at no cost while the APIs are down. The tables it cannot tell that
    way (another engine, a name InnoDB writes encoded) are counted, COUNT(*) before and after.
    """

    def __init__(self, ids, counts):
        self.ids, self.counts = ids, counts

    @classmethod
    def of(cls, db, schema, tables, workers):
        ids = innodb_ids(db, schema, tables)
        counted = [t for t in tables if t not in ids]
        return cls(ids, counts_parallel(db, schema, counted, workers) if counted else {})

    def lost_in(self, db, kept, workers):
        """What the kept copy lacks, one line per table; [] when it holds all of it."""
        now = innodb_ids(db, kept, list(self.ids))
        lost = [f"{t} is not the table it was" for t in sorted(self.ids) if now.get(t) != self.ids[t]]
        counts = counts_parallel(db, kept, list(self.counts), workers) if self.counts else {}
        lost += [f"{t}: {counts.get(t)} rows of {n}" for t, n in sorted(self.counts.items()) if counts.get(t) != n]
        return lost


def innodb_ids(db, schema, tables):
    """{table: its InnoDB table ids (a partitioned table has one per partition)} for the tables InnoDB's dictionary
    names plainly; MariaDB's INNODB_SYS_TABLES, else MySQL 8's INNODB_TABLES; {} when neither answers."""
    wanted = [t for t in tables if PLAIN_NAME.match(t)] if PLAIN_NAME.match(schema) else []
    if not wanted:
        return {}
    prefix = schema + "/"
    for view in ("INNODB_SYS_TABLES", "INNODB_TABLES"):
        try:
            rows = db.sql(
                f"SELECT NAME, TABLE_ID FROM information_schema.{view} "
                f"WHERE LEFT(NAME, {len(prefix)}) = {root_access.quote(prefix)};"
            )
        except root_access.MysqlError:
            continue
        ids = {}
        for name, table_id in rows:
            table = re.split("#[pP]#", name[len(prefix) :], maxsplit=1)[0]
            if table in wanted:
                ids.setdefault(table, []).append(int(table_id))
        return {t: sorted(v) for t, v in ids.items()}
    return {}


def verify_objects(db, schema, scan):
    have = db.objects(schema)
    problems = []
    for kind in ("views", "triggers", "routines", "events"):
        missing = [name for name in getattr(scan, kind) if name not in have[kind]]
        if missing:
            problems.append("{} missing in {}: {}".format(kind, schema, ", ".join(missing)))
    return problems, have


def swap_in(
    db,
    journal,
    target,
    source,
    kept,
    new_objects_sql,
    sha256,
    name,
    check=None,
    checksums=None,
    counts=None,
    expected_tables=None,
    workers=1,
):
    """Move target's tables to `kept` and source's into target, in one RENAME; objects around it.

    Nothing is swapped when target's tables are not the ones the plan saw (expected_tables). Once the RENAME
    ran, the kept copy must hold every row target held just before it; when it does not, or creating the new
    objects fails, or `check` (a callable returning problems) finds any, everything is swapped back: the
    target is exactly the old database again, and RestoreError says so. Each phase is journalled first, so
    that resume() can finish what a kill interrupted.
    """
    old_sql, old_names = capture_objects(db, target)
    old_tables, new_tables = db.tables(target), db.tables(source)
    if expected_tables is not None and sorted(old_tables) != sorted(expected_tables):
        differ = sorted(set(old_tables) ^ set(expected_tables))
        raise RestoreError(
            "{} changed since the restore began: its tables {} are not the ones it had ({} now, {} then); nothing "
            "was swapped".format(target, ", ".join(differ), len(old_tables), len(expected_tables))
        )
    held = Holdings.of(db, target, old_tables, workers)
    entry = journal.start(
        target,
        sha256,
        name,
        kept,
        old_sql,
        new_objects_sql,
        source=source,
        old_tables=old_tables,
        new_tables=new_tables,
        checksums=checksums,
        counts=counts,
    )
    test_pause("swapping")
    db.sql(f"CREATE DATABASE {q(kept)} CHARACTER SET utf8mb4;")
    drop_objects(db, target, old_names)
    moves = [f"{q(target)}.{q(t)} TO {q(kept)}.{q(t)}" for t in old_tables]
    moves += [f"{q(source)}.{q(t)} TO {q(target)}.{q(t)}" for t in new_tables]
    try:
        db.sql("RENAME TABLE {};".format(", ".join(moves)))
    except root_access.MysqlError as exc:
        db.script(target, old_sql)  # nothing moved: put the old objects back
        db.sql(f"DROP DATABASE IF EXISTS {q(kept)};")
        journal.finish(entry, "aborted")
        raise RestoreError(f"RENAME TABLE failed, nothing was swapped: {exc}") from exc
    journal.phase(entry, "renamed")
    lost = held.lost_in(db, kept, workers)
    if lost:
        problems = ["the kept copy {} does not hold what {} held ({})".format(kept, target, "; ".join(lost))]
    else:
        problems = create_objects(db, journal, entry, target, new_objects_sql, check)
    if problems:
        journal.phase(entry, "swapping_back")
        swap_back(db, target, source, kept, old_tables, new_tables, old_sql)
        journal.finish(entry, "aborted")
        raise RestoreError(
            "{}; the old data and objects were put back, {} is as it was".format("; ".join(problems), target)
        )
    db.sql(f"DROP DATABASE IF EXISTS {q(source)};")
    return entry


def create_objects(db, journal, entry, target, objects_sql, check):
    """The dump's views, triggers and routines in target, after the RENAME; the problems found, if any."""
    journal.phase(entry, "objects")
    try:
        drop_objects(db, target, db.objects(target))  # a killed run's half-made ones
        db.script(target, objects_sql)
        return check() if check is not None else []
    except (RestoreError, root_access.MysqlError) as exc:
        return [f"creating the dump's views, triggers and routines failed: {exc}"]


def swap_back(db, target, source, kept, old_tables, new_tables, old_sql):
    drop_objects(db, target, db.objects(target))
    if not set(new_tables) or not set(new_tables) <= set(db.tables(source)):  # not yet moved back (resume)
        moves = [f"{q(target)}.{q(t)} TO {q(source)}.{q(t)}" for t in new_tables]
        moves += [f"{q(kept)}.{q(t)} TO {q(target)}.{q(t)}" for t in old_tables]
        db.sql(f"CREATE DATABASE IF NOT EXISTS {q(source)} CHARACTER SET utf8mb4;")
        db.sql("RENAME TABLE {};".format(", ".join(moves)))
    db.script(target, old_sql)
    db.sql(f"DROP DATABASE IF EXISTS {q(kept)};")


def renamed(db, entry, target):
    """Whether a swap's RENAME ran, from the journal's phase and the tables found (the RENAME is atomic: all
    of them moved, or none), not from whether the kept schema has tables: restoring into an empty database
    keeps none."""
    if entry["status"] != "swapping":
        return True
    new_tables, source = set(entry["new_tables"]), entry["source_schema"]
    if not new_tables:  # a journal row from before the table lists were recorded
        return db.exists(entry["kept_schema"]) and bool(db.tables(entry["kept_schema"]))
    left = new_tables & set(db.tables(source)) if source and db.exists(source) else set()
    return not left and new_tables <= set(db.tables(target))


def resume(db, journal, target, log):
    """Finish or undo a load or a swap that a killed run left half done. Returns what it did, or None."""
    load = journal.latest(target, statuses=LOADS)
    entry = journal.latest(target, statuses=UNFINISHED)
    done = []
    if load is not None and (entry is None or load["id"] > entry["id"]):
        # A load killed before its swap: its shadow schema is this project's (the lock says so), and stale.
        shadow = load["source_schema"] or shadow_name(target)
        db.sql(f"DROP DATABASE IF EXISTS {q(shadow)};")
        test_pause("resuming")  # a kill here: the next run drops it again (IF EXISTS) and closes the row
        journal.finish(load["id"], "aborted")
        done.append("dropped the shadow schema {} of an interrupted load ({})".format(shadow, load["status"]))
    if entry is None:
        return "; ".join(done) or None
    kept, source = entry["kept_schema"], entry["source_schema"] or shadow_name(target)
    try:
        if entry["status"] == "swapping_back":
            swap_back(db, target, source, kept, entry["old_tables"], entry["new_tables"], entry["old_objects"])
            db.sql(f"DROP DATABASE IF EXISTS {q(source)};")
            journal.finish(entry["id"], "aborted")
            done.append(f"finished putting back the old {target}, as an interrupted restore had begun to")
        elif renamed(db, entry, target):
            expected = json.loads(entry["row_counts"] or "{}")

            def check():
                counts = db.row_counts(target, [t for t in db.tables(target) if t in expected])
                return [f"{t}: {counts.get(t)} rows, the dump {n}" for t, n in expected.items() if counts.get(t) != n]

            problems = create_objects(db, journal, entry["id"], target, entry["new_objects"] or "", check)
            if problems:
                journal.phase(entry["id"], "swapping_back")
                swap_back(db, target, source, kept, entry["old_tables"], entry["new_tables"], entry["old_objects"])
                journal.finish(entry["id"], "aborted")
                done.append(
                    "undid an interrupted restore of {} ({}): the old data is back".format(target, "; ".join(problems))
                )
            else:
                db.sql(f"DROP DATABASE IF EXISTS {q(source)};")
                checksums = json.loads(entry["checksums"] or "{}") or db.checksums(target, db.tables(target))
                journal.finish(entry["id"], "done", checksums)
                done.append(
                    f"finished an interrupted restore of {target} with its views, triggers and routines "
                    f"(the replaced data is in {kept})"
                )
        else:
            db.script(target, entry["old_objects"] or "")
            db.sql(f"DROP DATABASE IF EXISTS {q(kept)};")
            journal.finish(entry["id"], "aborted")
            done.append(f"undid an interrupted restore of {target}: the old data was never moved, its objects are back")
    except (RestoreError, root_access.MysqlError) as exc:
        journal.finish(entry["id"], "needs_attention")
        raise RestoreError(
            "an interrupted restore of %s (ods_fix.restores id %d) could not be finished: %s; "
            "its tables are in %s, %s and %s" % (target, entry["id"], exc, target, kept, source)
        ) from exc
    return "; ".join(done)


def prune(db, journal, target, keep):
    """Drop all but the newest `keep` kept copies of target; returns the names dropped.

    The copies are the ones the journal says this target's swaps kept, newest first by its ids: not found by
    name (a LIKE on a name holding % or _ finds others' schemas; a name's time sorts wrong when the clock moves),
    and a schema the journal does not name is never dropped.
    """
    copies = [name for name in journal.kept_copies(target) if db.exists(name)]
    doomed = copies[keep:] if keep > 0 else copies
    for name in doomed:
        db.sql(f"DROP DATABASE {q(name)};")
    return doomed


def touched_since(db, schema, entry):
    """Has the schema visibly changed since the journal entry's restore? Other tables, or one that InnoDB saw
    change after it finished (information_schema's UPDATE_TIME, kept in memory since the server started).
    False means only that nothing shows: unchanged_since() tells for sure."""
    if sorted(json.loads(entry["checksums"] or "{}")) != sorted(db.tables(schema)):
        return True
    touched = db.sql(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND UPDATE_TIME > "
        "(SELECT finished_at FROM ods_fix.restores WHERE id = %d);" % (root_access.quote(schema), entry["id"])
    )
    return bool(touched) and touched[0][0] not in (None, "0")


def unchanged_since(db, schema, entry, workers):
    """Is the schema still exactly what the journal entry's restore left? Every table's checksum tells."""
    tables = db.tables(schema)
    now = checksums_parallel(db, schema, tables, {}, workers)
    if now is None:
        now = db.checksums(schema, tables)
    return now == json.loads(entry["checksums"] or "{}")


MAX_NAME = 64  # MySQL's and MariaDB's longest schema name


def fitted(target, suffix):
    """target + suffix, cut to fit a schema name: a long target keeps its start and a hash of the whole."""
    if len(target) + len(suffix) <= MAX_NAME:
        return target + suffix
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:8]
    return f"{target[: MAX_NAME - len(suffix) - 9]}_{digest}{suffix}"


def kept_name(target, now=None):
    """The schema that keeps what a swap replaces: named in UTC (a clock's zone or daylight saving never reorders
    them; prune() goes by the journal anyway), and never longer than a schema name may be."""
    return fitted(target, "__old_" + time.strftime("%Y%m%d%H%M%S", time.gmtime(now)))


def missing_definers(db, definers):
    """The DEFINER accounts ("user@host") the server does not have."""
    if not definers:
        return []
    have = set(f"{r[0]}@{r[1]}" for r in db.sql("SELECT User, Host FROM mysql.user;"))
    return [d for d in definers if d not in have]


SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys", "ods_fix")


def not_restorable(database):
    """Why a restore must never replace this schema (the server's, the journal's, a kept or shadow copy), or None."""
    name = database.lower()
    if name in SYSTEM_SCHEMAS:
        return f"{database} is a system schema: mysql-restore never replaces it (restore one application database)"
    if "__old_" in name or name.endswith("__restore"):
        return f"{database} is a copy mysql-restore keeps for itself: --rollback puts a kept copy back"
    return None


def shadow_name(target):
    return fitted(target, "__restore")
