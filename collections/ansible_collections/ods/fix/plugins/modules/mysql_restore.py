#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: mysql_restore
short_description: Restore a MySQL dump atomically through a shadow schema, keeping what it replaces
version_added: 0.1.0
description:
  - The manual's MySQL 数据恢复, made safe. In phases, so that the role stops the APIs only for the swap.
  - V(plan), read-only, finishes or undoes a swap an earlier run left half done (journal in
    C(ods_fix.restores)), says whether this backup is already restored and unchanged since (same SHA-256,
    same CHECKSUM TABLE), and whether MySQL's data directory has room for a shadow copy.
  - V(load) validates the dump while cutting it into one file per table (readable, decompresses
    completely, looks like SQL, complete, one database, rows counted per table), refuses before any change
    when something is wrong, then loads the tables into the shadow schema C(<database>__restore) in
    O(workers) parallel sessions (binary log, unique and foreign key checks off) and checks every table's
    row count against the dump's.
  - V(swap) moves every table of the database to C(<database>__old_<timestamp>) and every shadow table in, in
    one C(RENAME TABLE) (all or nothing); views, triggers, routines and events, which cannot move between
    schemas, are saved with SHOW CREATE, dropped, and the dump's created after the rename. It then verifies
    the objects and the row counts, records the checksums, and keeps only the newest O(keep) old copies.
  - V(rollback) swaps the newest old copy back the same way (the data it replaces is kept too).
  - Written for ods-fix because community.mysql's C(mysql_db) with C(state=import) pipes the dump into the
    live database, where a failure or a kill leaves it half restored, and keeps nothing of what it replaced.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  phase:
    description: What to do.
    type: str
    choices: [plan, load, swap, rollback]
    required: true
  backup:
    description: The dump on the target (.sql or .sql.gz). Required for V(plan), V(load) and V(swap).
    type: path
  database:
    description:
      - The database to restore into; empty means the one the APIs use (for V(rollback), the last restore's).
      - One the APIs do not use is refused unless O(explicit_database) says the user named it.
    type: str
    default: ""
  explicit_database:
    description: O(database) was named by the user (C(--database)), not taken from the dump.
    type: bool
    default: false
  expected_sha256:
    description: The dump's SHA-256 as computed where it came from; the copy on the target must match.
    type: str
  allow_incomplete:
    description: Restore a dump that lacks the C(-- Dump completed) trailer.
    type: bool
    default: false
  workers:
    description: Parallel load sessions.
    type: int
    default: 2
  keep:
    description: How many old copies to keep.
    type: int
    default: 3
  staging_dir:
    description: Directory on the target for the split dump and the progress file.
    type: path
    required: true
  sql_bytes:
    description: For V(plan) without O(backup) (a dump still on the controller), its size once decompressed.
    type: int
    default: 0
  expected_rows:
    description: For V(load), rows per table from the backup's manifest; the load refuses a dump that differs.
    type: dict
    default: {}
  expected_tables:
    description:
      - For V(swap), the database's tables when the plan looked at it (its RV(plan.target_tables)); the swap refuses,
        changing nothing, when they are others by then. Omitted, the swap takes the tables as it finds them.
    type: list
    elements: str
  pick:
    description:
      - For V(load), in a dump of several databases (C(--all-databases), C(--databases a b)), the one to restore;
        the others' statements are read past. Without it such a dump is refused as soon as its second database
        starts. M(ods.fix.mysql_dump_check) returns it.
    type: str
attributes:
  check_mode:
    support: partial
    details: V(plan) runs in check mode; the other phases are not run in check mode (the role skips them).
  idempotent:
    support: full
    details: V(plan) reports a backup that is already restored and unchanged since; the role then does nothing.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Load the dump into the shadow schema
  ods.fix.mysql_restore:
    project_dir: /home/dev/one-data-studio
    phase: load
    backup: /home/dev/one-data-studio/deploy/backups/backup_20240101.sql.gz
    staging_dir: /home/dev/one-data-studio/deploy/backups
"""

RETURN = r"""
plan:
  description: What the V(plan) phase found; the role and the report read each of these.
  returned: phase plan
  type: dict
  contains:
    resumed:
      description: What an interrupted run of this project left and this one cleared, or null.
      type: str
    up_to_date:
      description: The same dump (by SHA-256) was restored last, and the database is unchanged since.
      type: bool
    previous:
      description: The last restore into this database, C(backup_sha256), C(backup), C(kept), C(at); null if none.
      type: dict
    target_tables:
      description: The database's tables now, which the swap will move out (it refuses if they differ by then).
      type: list
      elements: str
    needed_mb:
      description: About how much room the shadow copy needs in MySQL's data directory, with a backup given.
      type: float
    free_mb:
      description: The room MySQL's data directory has (null if it cannot be read), with a backup given.
      type: float
    room:
      description: Whether MySQL's data directory has room for the shadow copy, with a backup given.
      type: bool
    staging_free_mb:
      description: The room of the staging directory on the target, with a backup given.
      type: float
    staging_room:
      description: Whether the staging directory has room for the dump and its parts, with a backup given.
      type: bool
dump:
  description: What the dump holds, with the keys of M(ods.fix.mysql_dump_check)'s RV(ods.fix.mysql_dump_check#module:dump).
  returned: phases load and swap
  type: dict
checks:
  description: The validation, one line per check.
  returned: phase load
  type: list
  elements: str
verified:
  description: What the restored database holds, counted after the swap.
  returned: phase swap and rollback
  type: dict
  contains:
    rows:
      description: Table to its row count.
      type: dict
    objects:
      description: The views, triggers, routines and events found, by kind.
      type: dict
kept:
  description: The schema that holds the replaced tables.
  returned: phase swap and rollback
  type: str
pruned:
  description: Old copies dropped to keep O(keep).
  returned: phase swap
  type: list
  elements: str
"""

import contextlib
import json
import os
import shutil
import time
import traceback

from ansible_collections.ods.fix.plugins.module_utils import file_hash
from ansible_collections.ods.fix.plugins.module_utils.mysql import (
    dump_policy,
    dump_reader,
    parallel_load,
    restore,
    restore_journal,
    root_access,
)
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials


class Progress:
    """Writes the progress file the role polls while the load runs (bytes, rows, rate, ETA)."""

    def __init__(self, path, total):
        self.path, self.total, self.started = path, total, time.monotonic()

    def __call__(self, phase, done, rows=None, total=None):
        total = total or self.total
        elapsed = max(time.monotonic() - self.started, 0.001)
        rate = done / elapsed
        data = {
            "phase": phase,
            "bytes": done,
            "total": total,
            "rows": rows,
            "rate_mb_s": round(rate / 1048576.0, 1),
            "percent": round(100.0 * done / total, 1) if total else None,
            "eta_s": round((total - done) / rate) if rate and total and total > done else 0,
        }
        temp = self.path + ".tmp"
        with open(temp, "w") as handle:
            json.dump(data, handle)
        os.rename(temp, self.path)


def estimated_sql_bytes(path):
    """The dump's size once decompressed (gzip keeps it in its last four bytes, modulo 4 GiB)."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        if handle.read(2) != dump_reader.GZIP_MAGIC:
            return size
        handle.seek(-4, os.SEEK_END)
        isize = int.from_bytes(handle.read(4), "little")
    while isize < size:
        isize += 1 << 32
    return isize


def main():
    module = compose.stack_module(
        dict(
            phase=dict(type="str", required=True, choices=["plan", "load", "swap", "rollback"]),
            backup=dict(type="path"),
            database=dict(type="str", default=""),
            explicit_database=dict(type="bool", default=False),
            expected_sha256=dict(type="str"),
            allow_incomplete=dict(type="bool", default=False),
            workers=dict(type="int", default=2),
            keep=dict(type="int", default=3),
            staging_dir=dict(type="path", required=True),
            sql_bytes=dict(type="int", default=0),
            expected_rows=dict(type="dict", default={}),
            pick=dict(type="str"),
            expected_tables=dict(type="list", elements="str"),
        ),
        required_if=[("phase", "load", ["backup"]), ("phase", "swap", ["backup"])],
    )
    p = module.params
    if p["keep"] < 1 or p["workers"] < 1:  # keep 0 would drop the copy just made, the one --rollback puts back
        module.fail_json(msg="keep and workers must be at least 1", ods_failure="input")
    api, profile, name, containers = compose.open_role(module, "database")
    container = containers.get(name)
    if container is None or container.status != "running":
        module.fail_json(
            msg=f"{name} is not running: ods-fix mysql-connect brings it back, then run the restore again",
            ods_failure="input",
        )
    db = root_access.Database(
        api, container, root_access.for_service(api, profile, name, container, p["db_root_password_file"])
    )
    try:
        db.sql("SELECT 1;")
    except root_access.MysqlError as exc:
        module.fail_json(msg=f"cannot log in to the database as root: {exc}", ods_failure="input")
    handlers = {"plan": plan, "load": load, "swap": swap, "rollback": rollback}
    journal = restore_journal.Journal(db, project=profile["project"])
    try:
        check_target(module, db, journal, p, profile, containers)
        handlers[p["phase"]](module, db, journal, p)
    except restore.NothingToRollBack as exc:
        module.fail_json(msg=f"nothing to roll back: {exc}; nothing was changed", ods_failure="input")
    except dump_reader.DumpError as exc:
        module.fail_json(msg=f"the backup cannot be restored: {exc}; nothing was changed", ods_failure="input")
    except (restore.RestoreError, root_access.MysqlError) as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # a bug: say where, so that the report of a failed run points at it
        where = traceback.extract_tb(exc.__traceback__)[-1]
        module.fail_json(
            msg=f"internal error in the {p['phase']} step: {type(exc).__name__}: {exc} "
            f"({os.path.basename(where.filename)}:{where.lineno}, {where.name})",
            exception=traceback.format_exc(),
        )


def check_target(module, db, journal, p, profile, containers):
    """A dump of a database the APIs do not use is restored only with an explicit --database."""
    used = credentials.app_databases(profile, containers)
    if p["database"] and used and p["database"] not in used and not p["explicit_database"]:
        raise dump_reader.DumpError(
            "the backup is a dump of database {}, which is not one of this stack's ({}): pass --database {} "
            "to restore it as {}, or --database NAME to load it into NAME".format(
                p["database"], ", ".join(used), p["database"], p["database"]
            )
        )
    if not p["database"]:
        # A rollback (and its plan, which names no backup) goes back into the database the last restore went into.
        if p["phase"] == "rollback" or not (p["backup"] or p["expected_sha256"]):
            p["database"] = journal.last_target() or (used[0] if used else "")
        elif len(used) == 1:
            p["database"] = used[0]
    if not p["database"]:
        raise dump_reader.DumpError("name the database with --database (the APIs use %s)" % (", ".join(used) or "none"))
    reason = restore.not_restorable(p["database"])
    if reason:
        raise dump_reader.DumpError(reason)


def plan(module, db, journal, p):
    # What an interrupted run of this project left is cleared by the next one, whatever it is asked to do:
    # a half-made shadow schema, a half-done swap (the journal says which), and its rows files.
    resumed = restore.resume(db, journal, p["database"], None) if not module.check_mode else None
    rows_dir = parallel_load.RowsDir.locate(db, journal.project) if not module.check_mode else None
    files, size = rows_dir.clean() if rows_dir is not None else (0, 0)
    if files:
        left = f"removed {files} file(s) of rows ({size / 1048576.0:.1f} MB) that an interrupted load left in MySQL's data directory"
        resumed = f"{resumed}; {left}" if resumed else left
    # The tables the swap will move out: it refuses to if they are others by then (something changed the database).
    tables = db.tables(p["database"]) if db.exists(p["database"]) else []
    result = {"resumed": resumed, "up_to_date": False, "previous": None, "target_tables": tables}
    if p["backup"] or p["expected_sha256"]:
        if p["backup"] and not os.path.isfile(p["backup"]):
            raise dump_reader.DumpError("{} does not exist on the target".format(p["backup"]))
        if p["backup"] and not os.access(p["backup"], os.R_OK):
            raise dump_reader.DumpError("{} cannot be read".format(p["backup"]))
        size = p["sql_bytes"] or estimated_sql_bytes(p["backup"])
        last = journal.latest(p["database"])
        if last:
            result["previous"] = {
                "backup_sha256": last["backup_sha256"],
                "backup": last["backup_name"],
                "kept": last["kept_schema"],
                "at": last["started_at"],
            }
        # In place already: the same dump (SHA-256) restored last, and the database unchanged since. The cheap
        # signs first; the dump is hashed here only when the check left that to the load (a dump restored where
        # it is, read once), and only when the database shows no change.
        if last and db.exists(p["database"]) and not restore.touched_since(db, p["database"], last):
            sha = p["expected_sha256"] or file_hash.sha256_file(p["backup"])
            result["up_to_date"] = last["backup_sha256"] == sha and restore.unchanged_since(
                db, p["database"], last, p["workers"]
            )
        needed = size * 1.3 / 1048576.0
        free = db.datadir_free_mb()
        result.update(needed_mb=round(needed, 1), free_mb=free, room=free is None or free > needed)
        probe = p["staging_dir"]
        while probe and not os.path.isdir(probe):
            probe = os.path.dirname(probe)
        staging_free = shutil.disk_usage(probe or "/").free / 1048576.0
        result.update(staging_free_mb=round(staging_free, 1), staging_room=staging_free > size * 2 / 1048576.0)
    module.exit_json(
        ansible_facts=compose.profile_facts(module), changed=bool(resumed), plan=result, database=p["database"]
    )


def load(module, db, journal, p):
    if module.check_mode:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=True,
            skipped=True,
            msg="would load the dump into the shadow schema",
        )
    made_staging = not os.path.isdir(p["staging_dir"])
    if made_staging:
        os.makedirs(p["staging_dir"], mode=0o700)
    started = time.monotonic()
    total = estimated_sql_bytes(p["backup"])
    with contextlib.suppress(OSError):  # an earlier run's
        os.unlink(os.path.join(p["staging_dir"], "progress.json"))
    progress = Progress(os.path.join(p["staging_dir"], "progress.json"), total)
    needed = total * 1.3 / 1048576.0
    free = db.datadir_free_mb()
    if free is not None and free < needed:
        raise dump_reader.DumpError(
            "MySQL's data directory has %d MB free, the shadow copy needs about %d MB" % (free, needed)
        )
    checks = ["room: %s MB free in MySQL's data directory, about %d MB needed" % (free, needed)]
    work = os.path.join(p["staging_dir"], ".restore-split")
    shadow = restore.shadow_name(p["database"])
    entry = journal.start(
        p["database"],
        p["expected_sha256"] or "",
        os.path.basename(p["backup"]),
        "",
        "",
        "",
        status="loading",
        source=shadow,
    )
    try:
        # The dump is checked as it is read and loaded: a problem found on the way stops the load, and the
        # shadow schema, this restore's own, is dropped; the database the APIs use is not touched.
        policy = dump_policy.Policy(own=[p["database"], p["pick"]], server_schemas=db.schemas())
        split, loader = parallel_load.split_and_load(
            db,
            p["backup"],
            work,
            shadow,
            p["workers"],
            p["allow_incomplete"],
            progress,
            total,
            p["pick"],
            policy,
            journal.project,
        )
        restore_journal.test_pause("loading")
        scan = split.scan
        problems = unexpected(split, loader, p)
    except dump_reader.DumpError as exc:  # refused: what this load made goes, the shadow schema and its files
        journal.finish(entry, "aborted")
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(p["staging_dir"], "progress.json"))
        if made_staging:
            with contextlib.suppress(OSError):
                os.rmdir(p["staging_dir"])
        raise dump_reader.DumpError(f"{exc}; {restore.drop_shadow(db, shadow)}") from exc
    except restore.RestoreError as exc:
        journal.finish(entry, "aborted")
        raise restore.RestoreError(f"{exc}; {restore.drop_shadow(db, shadow)}") from exc
    if problems:
        journal.finish(entry, "aborted")
        raise restore.RestoreError(
            "the shadow copy does not match the dump ({}); {}".format(
                "; ".join(problems), restore.drop_shadow(db, shadow)
            )
        )
    actual = split.info["sha256"]
    if p["expected_sha256"]:
        checks.append(f"the file on the target is the one checked: sha256 {actual[:16]}")
    checks.append(scan.summary() + (", as its manifest says" if p["expected_rows"] else ""))
    checks.extend(f"not run: {what}" for what in scan.skipped)
    missing = restore.missing_definers(db, scan.definers)
    if missing:
        checks.append(
            "definers not on this server: {}; their views, triggers and routines are created as the dump has them "
            "and fail when used until the user exists (CREATE USER)".format(", ".join(missing))
        )
    checks.extend(loader.notes)
    # Checksummed while loading, with the APIs still running, not after the swap: the data is the same, the
    # downtime shorter. (A view's stand-in table, replaced by the view at the swap, is not one of them.)
    checksums = dict((t, c) for t, c in loader.checksums.items() if t not in scan.views)
    counts = dict((t, n) for t, n in loader.counts.items() if t in scan.tables)
    saved = dict(scan.as_dict(), sha256=actual, checksums=checksums, shadow_rows=counts)
    with open(os.path.join(work, "scan.json"), "w") as handle:
        json.dump(saved, handle)
    journal.phase(entry, "loaded")
    progress("loaded", split.info["sql_bytes"], sum(scan.rows.values()), split.info["sql_bytes"])
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=True,
        checks=checks,
        dump=scan.as_dict(),
        shadow=shadow,
        shadow_rows=counts,
        loaded_with=loader.methods,
        timeline=loader.timeline,
        seconds=round(time.monotonic() - started, 1),
        info=split.info,
        split_dir=work,
    )


def unexpected(split, loader, p):
    """Why the loaded shadow schema must not be swapped in: DumpError for the dump itself, else problems."""
    scan, actual = split.scan, split.info["sha256"]
    if p["expected_sha256"] and actual != p["expected_sha256"]:
        raise dump_reader.DumpError(
            "the file on the target (sha256 {}) differs from the one checked ({})".format(
                actual[:12], p["expected_sha256"][:12]
            )
        )
    differ = [
        f"{t}: {scan.rows.get(t)} rows, the manifest {n}"
        for t, n in sorted(p["expected_rows"].items())
        if scan.rows.get(t) != n
    ]
    if differ:
        raise dump_reader.DumpError("the dump does not match its manifest ({})".format("; ".join(differ)))
    problems = []
    missing = [t for t in scan.tables if t not in loader.counts]
    if missing:
        problems.append("tables missing in {}: {}".format(restore.shadow_name(p["database"]), ", ".join(missing)))
    problems.extend(
        "%s has %d rows, the dump %d" % (t, loader.counts[t], scan.rows.get(t, 0))
        for t in scan.tables
        if t in loader.counts and loader.counts[t] != scan.rows.get(t, 0)
    )
    return problems


def swap(module, db, journal, p):
    work = os.path.join(p["staging_dir"], ".restore-split")
    objects_path = os.path.join(work, "objects.sql")
    scan_path = os.path.join(work, "scan.json")
    if not os.path.isfile(objects_path) or not os.path.isfile(scan_path):
        raise restore.RestoreError("nothing is loaded to swap in: run the load phase first")
    with open(scan_path) as handle:
        saved = json.load(handle)
    scan = dump_reader.Scan()
    for key in ("tables", "rows", "views", "triggers", "routines", "events"):
        setattr(scan, key, saved[key])
    with open(objects_path, "rb") as handle:
        objects_sql = handle.read().decode("utf-8", "replace")
    journal.ensure()
    if not db.exists(p["database"]):
        db.sql("CREATE DATABASE {} CHARACTER SET utf8mb4;".format(restore.q(p["database"])))
    kept = restore.kept_name(p["database"])
    shadow = restore.shadow_name(p["database"])
    # The swap moves every table of the shadow schema: exactly the dump's, nothing a stray run left there.
    extra = sorted(set(db.tables(shadow)) ^ set(scan.tables))
    if extra:
        raise restore.RestoreError(
            "the shadow schema {} does not hold exactly the dump's tables ({} differ); nothing was swapped, "
            "load it again".format(shadow, ", ".join(extra))
        )
    verified = {}

    def check_after_swap():
        # The RENAME moves tables, not rows: the rows were counted in the shadow schema, just before. What it
        # can get wrong is which tables are where, and the objects created after it.
        have = set(db.tables(p["database"]))
        missing = [t for t in scan.tables if t not in have and t not in scan.views]
        problems = ["tables missing in {}: {}".format(p["database"], ", ".join(missing))] if missing else []
        verified["rows"] = dict((t, n) for t, n in saved["shadow_rows"].items() if t in have)
        object_problems, verified["objects"] = restore.verify_objects(db, p["database"], scan)
        return problems + object_problems

    loaded = journal.latest(p["database"], statuses=("loaded",))
    if loaded is not None:
        journal.finish(loaded["id"], "swapped")
    expected = dict((t, n) for t, n in scan.rows.items() if t not in scan.views)
    try:
        entry = restore.swap_in(
            db,
            journal,
            p["database"],
            shadow,
            kept,
            objects_sql,
            saved["sha256"],
            os.path.basename(p["backup"]),
            check=check_after_swap,
            checksums=saved.get("checksums"),
            counts=expected,
            expected_tables=p["expected_tables"],
            workers=p["workers"],
        )
    except restore.RestoreError as exc:  # swapped back: the shadow holds the dump that failed, not worth keeping
        raise restore.RestoreError(f"{exc}; {restore.drop_shadow(db, shadow)}") from exc
    checksums = saved.get("checksums") or db.checksums(p["database"], db.tables(p["database"]))
    journal.finish(entry, "done", checksums, verified["rows"])
    pruned = restore.prune(db, journal, p["database"], p["keep"])
    shutil.rmtree(work, ignore_errors=True)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=True,
        kept=kept,
        pruned=pruned,
        verified=verified,
        problems=[],
    )


def rollback(module, db, journal, p):
    last = journal.latest(p["database"])
    if last is None:
        raise restore.NothingToRollBack(
            f"ods-fix has not restored {p['database']} on this server (no finished restore)"
        )
    if not last["kept_schema"] or not db.exists(last["kept_schema"]):
        raise restore.NothingToRollBack(
            "the copy of {} kept by its last restore ({}, at {}) is gone (pruned, or dropped by hand)".format(
                p["database"], last["backup_name"], last["started_at"]
            )
        )
    if module.check_mode:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=True,
            msg="would put back {} (kept before restoring {})".format(last["kept_schema"], last["backup_name"]),
        )
    kept = restore.kept_name(p["database"])
    entry = restore.swap_in(
        db,
        journal,
        p["database"],
        last["kept_schema"],
        kept,
        last["old_objects"] or "",
        "rollback-of-%d" % last["id"],
        "rollback of {}".format(last["backup_name"]),
    )
    checksums = db.checksums(p["database"], db.tables(p["database"]))
    counts = db.row_counts(p["database"], db.tables(p["database"]))
    journal.finish(entry, "done", checksums, counts)
    db.sql("UPDATE ods_fix.restores SET status = 'rolled_back' WHERE id = %d;" % last["id"])
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=True,
        kept=kept,
        restored_from=last["kept_schema"],
        verified={"rows": counts, "objects": db.objects(p["database"])},
    )


if __name__ == "__main__":
    main()
