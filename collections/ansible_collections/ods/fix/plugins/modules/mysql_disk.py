#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: mysql_disk
short_description: MySQL's disk (ERROR 1114), the manual's report, and the space fixes a policy allows
version_added: 0.1.0
description:
  - Reports what the manual asks for in 数据库磁盘空间不足, C(df -h) of the MySQL data directory inside the
    container and the size of each schema (the manual's information_schema query), plus the binary logs
    and the largest tables.
  - Frees space only as the policy says, each step opt-in. O(purge_binlogs_days) purges binary logs older
    than that many days (C(PURGE BINARY LOGS BEFORE)). O(archive) rules archive rows older than N days from
    a table to a gzip file on the target, with a checksum and a manifest, in chunks of 2000 rows; a chunk's
    rows are locked, dumped, counted and fsynced, then deleted in the same transaction, so no row changes
    between its dump and its delete (启用数据归档; nothing is lost and it can be restored).
  - When nothing is eligible it says that only growing the disk helps (扩容磁盘) and changes nothing.
  - O(write_probe) checks that inserts work, with a 1 MiB row in a scratch table (C(ods_fix.write_probe))
    that is dropped again; it is skipped in check mode.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  purge_binlogs_days:
    description:
      - Purge binary logs closed more than this many days ago; 0 purges every closed log (the one being
        written stays); -1 purges none.
    type: int
    default: -1
  archive:
    description:
      - Rules C(SCHEMA.TABLE:DATE_COLUMN:DAYS); rows older than DAYS are archived, then deleted.
      - The deletes are not written to the binary log (C(sql_log_bin=0)) because under ROW format a delete
        logs every row it removes, and on a full disk the server then waits for space forever; the verified
        archive is what restores the rows.
    type: list
    elements: str
    default: []
  archive_dir:
    description: Directory on the target for the archives (mode 0700; files 0600).
    type: path
    default: ""
  full_percent:
    description: The data directory counts as full from this use percentage on.
    type: int
    default: 95
  write_probe:
    description: Check that an insert works (not in check mode).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Reports what it would purge or archive; changes nothing.
  idempotent:
    support: full
    details: A second run finds nothing left to free.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Free space by policy | 清理旧数据 / 启用数据归档
  ods.fix.mysql_disk:
    project_dir: /home/dev/one-data-studio
    purge_binlogs_days: 7
    archive: [one_data_alldata.job_log:create_time:90]
    archive_dir: /home/dev/one-data-studio/deploy/archive
"""

RETURN = r"""
found:
  description: What the manual's commands show before any fix, one line each.
  returned: always
  type: list
  elements: str
df:
  description: The data directory's filesystem, C(size_mb), C(used_mb), C(avail_mb), C(use_percent), C(human) (df -h).
  returned: always
  type: dict
schemas:
  description: The manual's query, schema to size in MB.
  returned: always
  type: dict
binlogs:
  description: C(files), C(total_mb).
  returned: always
  type: dict
full:
  description: The data directory is full (use percentage at or above O(full_percent)).
  returned: always
  type: bool
writable:
  description: The write probe's result (null when skipped).
  returned: always
  type: bool
done:
  description: What was freed (in check mode, would be), one line each.
  returned: always
  type: list
  elements: str
archives:
  description: The manifests of the archives written.
  returned: always
  type: list
  elements: dict
partial_archive:
  description:
    - When archiving stopped part way (a full disk), the rows of the rule that stopped which were archived and
      deleted before it did, and the archive that holds them.
  returned: failure
  type: dict
  contains:
    rows:
      description: Rows archived and deleted.
      type: int
    file:
      description: The archive (gzip of the rows' INSERTs).
      type: str
problems:
  description: What is still wrong, one line each.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.ods.fix.plugins.module_utils.mysql import archive, root_access
from ansible_collections.ods.fix.plugins.module_utils.stack import compose

SCHEMA_SIZES = (
    "SELECT table_schema, ROUND(SUM(data_length + index_length) / 1024 / 1024, 2) "
    "FROM information_schema.tables GROUP BY table_schema;"
)
PROBE = (
    "CREATE DATABASE IF NOT EXISTS ods_fix; "
    "CREATE TABLE IF NOT EXISTS ods_fix.write_probe (id INT PRIMARY KEY, pad LONGTEXT) ENGINE=InnoDB; "
    "REPLACE INTO ods_fix.write_probe VALUES (1, REPEAT('x', 1048576)); DROP TABLE ods_fix.write_probe;"
)


def disk_usage(api, container, datadir):
    code, output = container.exec_run(["df", "-P", "-m", datadir])
    human = container.exec_run(["df", "-h", datadir])[1].decode("utf-8", "replace").strip()
    fields = output.decode("utf-8", "replace").strip().splitlines()[-1].split()
    if code != 0 or len(fields) < 5:
        return {"human": human}
    size, used, avail = int(fields[1]), int(fields[2]), int(fields[3])
    return {
        "size_mb": size,
        "used_mb": used,
        "avail_mb": avail,
        "use_percent": int(fields[4].rstrip("%")),
        "human": human,
    }


class Disk:
    def __init__(self, module, api, container, root):
        self.module, self.api, self.container, self.root = module, api, container, root  # a root_access.Root

    def sql(self, statement):
        return root_access.run_sql(self.api, self.container, statement, root=self.root)

    def report(self):
        datadir = self.sql("SELECT @@datadir;")[0][0]
        binlogs = []
        if self.sql("SELECT @@log_bin;")[0][0] == "1":
            binlogs = [{"name": r[0], "mb": round(int(r[1]) / 1048576.0, 2)} for r in self.sql("SHOW BINARY LOGS;")]
        tables = self.sql(
            "SELECT CONCAT(table_schema, '.', table_name), ROUND((data_length + index_length) / 1048576, 2) "
            "FROM information_schema.tables WHERE table_schema NOT IN "
            "('mysql', 'information_schema', 'performance_schema', 'sys') "
            "ORDER BY data_length + index_length DESC LIMIT 5;"
        )
        return {
            "datadir": datadir,
            "df": disk_usage(self.api, self.container, datadir),
            "schemas": dict((r[0], float(r[1] or 0)) for r in self.sql(SCHEMA_SIZES)),
            "binlogs": {"files": binlogs, "total_mb": round(sum(b["mb"] for b in binlogs), 2)},
            "largest_tables": dict((r[0], float(r[1] or 0)) for r in tables),
        }

    def purge_binlogs(self, days, check_mode):
        logs = self.sql("SHOW BINARY LOGS;") if self.sql("SELECT @@log_bin;")[0][0] == "1" else []
        if len(logs) <= 1:
            return []
        # The server knows each file's age only by rotation; purge those closed before the cutoff.
        cutoff = self.sql("SELECT DATE_FORMAT(NOW() - INTERVAL %d DAY, '%%Y-%%m-%%d %%H:%%i:%%s');" % days)[0][0]
        before = sum(int(r[1]) for r in logs)
        if check_mode:
            return [
                "would purge binary logs closed before %s (%d files, %.1f MB now)"
                % (cutoff, len(logs) - 1, (before - int(logs[-1][1])) / 1048576.0)
            ]
        self.sql(f"PURGE BINARY LOGS BEFORE {root_access.quote(cutoff)};")
        after = self.sql("SHOW BINARY LOGS;")
        freed = (before - sum(int(r[1]) for r in after)) / 1048576.0
        if len(after) == len(logs):
            return []
        return ["purged %d binary logs closed before %s (%.1f MB freed)" % (len(logs) - len(after), cutoff, freed)]

    def writable(self):
        try:
            self.sql(PROBE)
            return True, ""
        except root_access.MysqlError as exc:
            return False, str(exc)


def found_lines(report, full_percent):
    df = report["df"]
    lines = []
    if df.get("use_percent") is not None:
        state = "full" if df["use_percent"] >= full_percent else "ok"
        lines.append(
            "MySQL data directory {}: {}% used, {} MB free of {} MB ({})".format(
                report["datadir"], df["use_percent"], df["avail_mb"], df["size_mb"], state
            )
        )
    schemas = sorted(report["schemas"].items(), key=lambda item: -item[1])[:3]
    lines.append("largest schemas: {}".format(", ".join("{} {:.1f} MB".format(*item) for item in schemas)))
    if report["binlogs"]["files"]:
        lines.append(
            "binary logs: %d files, %.1f MB" % (len(report["binlogs"]["files"]), report["binlogs"]["total_mb"])
        )
    return lines


def main():
    argument_spec = dict(
        purge_binlogs_days=dict(type="int", default=-1),
        archive=dict(type="list", elements="str", default=[]),
        archive_dir=dict(type="path", default=""),
        full_percent=dict(type="int", default=95),
        write_probe=dict(type="bool", default=True),
    )
    module = compose.stack_module(argument_spec)
    compose.require_docker(module)
    params = module.params
    try:
        rules = [archive.parse_spec(spec) for spec in params["archive"]]
    except archive.ArchiveError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")
    if rules and not params["archive_dir"]:
        module.fail_json(msg="archive rules need archive_dir (where the archives go)", ods_failure="input")
    api, profile, name, containers = compose.open_role(module, "database")
    db = containers.get(name)
    if db is None or db.status != "running":
        module.fail_json(msg=f"{name} is not running: ods-fix mysql-connect brings it back")
    root = root_access.for_service(api, profile, name, db, params["db_root_password_file"])
    disk = Disk(module, api, db, root)
    archiver = archive.Archiver(api, db, root, params["archive_dir"])
    try:
        # Every rule checked against the server (the table, its date column, its key) before anything changes.
        plans = [archiver.plan(rule) for rule in rules]
    except archive.ArchiveError as exc:
        module.fail_json(msg=f"{exc}; nothing was changed", ods_failure="input")
    except root_access.MysqlError as exc:
        module.fail_json(msg=str(exc))
    done, archives = [], []
    try:
        before = disk.report()
        if params["purge_binlogs_days"] >= 0:
            done += disk.purge_binlogs(params["purge_binlogs_days"], module.check_mode)
        for plan in plans:
            if not plan["rows"]:
                continue
            if module.check_mode:
                done.append(
                    "would archive %d rows of %s.%s older than %s to %s, then delete them"
                    % (plan["rows"], plan["schema"], plan["table"], plan["cutoff"], params["archive_dir"])
                )
                continue
            manifest = archiver.archive(plan)
            if manifest is None:
                continue
            archives.append(manifest)
            done.append(
                "archived %d rows of %s (older than %s) to %s (sha256 %s, on disk), then deleted them, each row "
                "locked from before its dump until its delete"
                % (
                    manifest["rows"],
                    manifest["table"],
                    plan["cutoff"],
                    manifest["file"],
                    manifest["sha256"][:12],
                )
            )
        after = before if module.check_mode else disk.report()
    except (root_access.MysqlError, archive.ArchiveError) as exc:
        # What was done before the failure goes with it: binlogs purged, tables archived, and rows archived and
        # deleted by the rule that stopped (its archive is partial, and has no manifest when that failed too).
        partial = {"rows": exc.rows, "file": exc.path} if getattr(exc, "rows", 0) else {}
        if partial:
            done.append(f"archived {exc.rows} rows to {exc.path} and deleted them before it stopped")
        module.fail_json(msg=str(exc), done=done, archives=archives, partial_archive=partial)
    writable, write_error = (None, "") if module.check_mode or not params["write_probe"] else disk.writable()
    full = after["df"].get("use_percent", 0) >= params["full_percent"]
    problems = []
    if full or writable is False:
        detail = "{}% used, {} MB free".format(after["df"].get("use_percent"), after["df"].get("avail_mb"))
        if writable is False:
            detail += f"; inserts fail: {write_error}"
        problems.append(
            "the MySQL data directory is full ({}){}".format(
                detail,
                "" if done else ": nothing is eligible to purge or archive, only growing the disk helps (扩容磁盘)",
            )
        )
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=bool(done),
        found=found_lines(before, params["full_percent"]),
        before=before,
        after=after,
        df=after["df"],
        schemas=after["schemas"],
        binlogs=after["binlogs"],
        full=full,
        writable=writable,
        done=done,
        archives=archives,
        problems=problems,
    )


if __name__ == "__main__":
    main()
