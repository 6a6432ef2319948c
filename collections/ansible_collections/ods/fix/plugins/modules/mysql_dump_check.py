#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: mysql_dump_check
short_description: Check a MySQL dump before anything is restored from it
version_added: 0.1.0
description:
  - Reads the whole file once and says, check by check, whether it can be restored. It exists and can be
    read, it decompresses completely (.gz), it looks like a SQL dump (not a PNG, not random bytes), it is
    complete (mysqldump's and mariadb-dump's C(-- Dump completed) trailer), which database it restores
    into, and how big it is; with its SHA-256.
  - The pass runs at the speed of zlib and hashlib. Rows are counted per table when the restore splits the
    dump (before anything changes), or here with O(count_rows).
  - Run it with C(delegate_to=localhost) for a file on the controller, before it is copied anywhere.
  - Read-only.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
options:
  path:
    description: The dump (.sql or .sql.gz).
    type: path
    required: true
  database:
    description: The database to restore into; empty means the dump's own (which, with O(known_databases), must be one of them).
    type: str
    default: ""
  known_databases:
    description:
      - The stack's databases, into which a dump may be restored without naming O(database).
      - Empty leaves that check to M(ods.fix.mysql_restore)'s plan, on the target, which knows the databases the APIs use.
    type: list
    elements: str
    default: []
  allow_incomplete:
    description: Accept a dump without the trailer.
    type: bool
    default: false
  count_rows:
    description: Also count every table's rows, views, triggers and routines (a slower, full pass).
    type: bool
    default: false
  digest:
    description:
      - Compute the file's SHA-256 (a full pass). Without it, an uncompressed dump that has no manifest is read
        at its start and end only, and C(sha256) is null; the restore computes it as it loads the dump. For a
        dump restored where it is, not copied anywhere first.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Check the backup on the controller, before it is copied
  ods.fix.mysql_dump_check:
    path: /home/me/backup_20240101.sql.gz
  delegate_to: localhost
"""

RETURN = r"""
pick:
  description:
    - The database to take from a dump that names its databases, when O(database) is one of them; null when the
      dump is restored whole (into O(database), or its own database).
  returned: always
  type: str
database:
  description: The database it restores into.
  returned: success
  type: str
sha256:
  description: The file's SHA-256.
  returned: success
  type: str
checks:
  description: One line per check.
  returned: success
  type: list
  elements: str
dump:
  description: What the dump holds.
  returned: success
  type: dict
  contains:
    kind:
      description: The tool that wrote it (V(mysqldump), V(mariadb-dump), ...).
      type: str
    database:
      description: The database it holds (the one picked, for a dump of several).
      type: str
    databases:
      description: Every database it holds.
      type: list
      elements: str
    tables:
      description: Its tables.
      type: list
      elements: str
    rows:
      description: Table to the rows its INSERTs hold.
      type: dict
    total_rows:
      description: The rows of every table.
      type: int
    views:
      description: Its views.
      type: list
      elements: str
    triggers:
      description: Its triggers.
      type: list
      elements: str
    routines:
      description: Its procedures and functions.
      type: list
      elements: str
    events:
      description: Its events.
      type: list
      elements: str
    complete:
      description: It ends with the dump tool's completion line.
      type: bool
    skipped:
      description: What of it is not restored, and why (another database's statements, for one).
      type: list
      elements: str
    definers:
      description: The DEFINER accounts its objects name.
      type: list
      elements: str
size:
  description: C(file_bytes), C(sql_bytes), C(compressed).
  returned: success
  type: dict
manifest_rows:
  description: The row counts in the manifest beside the dump, for the restore to check as it splits it.
  returned: success
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils.mysql import dump_policy, dump_reader


def manifest_for(path):
    """backup_x.sql.gz -> backup_x.manifest.json beside it, when there is one."""
    base = path
    for suffix in (".gz", ".sql"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    candidate = base + ".manifest.json"
    return candidate if os.path.isfile(candidate) else None


def against_manifest(path, info, scan):
    try:
        with open(path) as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as exc:
        return [f"cannot read the manifest ({exc})"], {}
    problems = []
    if manifest.get("sha256") != info["sha256"]:
        problems.append("sha256 {}, the manifest says {}".format(info["sha256"][:12], str(manifest.get("sha256"))[:12]))
    for table, rows in sorted((manifest.get("rows") or {}).items()) if scan is not None else []:
        if scan.rows.get(table) != rows:
            problems.append(f"{table} has {scan.rows.get(table)} rows, the manifest says {rows}")
    return problems, manifest.get("rows") or {}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            database=dict(type="str", default=""),
            known_databases=dict(type="list", elements="str", default=[]),
            allow_incomplete=dict(type="bool", default=False),
            count_rows=dict(type="bool", default=False),
            digest=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # A manifest is checked against the file's SHA-256: then it is computed whatever digest says.
    digest = p["digest"] or bool(manifest_for(p["path"]))
    try:
        if p["count_rows"]:
            scan, info = dump_reader.validate(p["path"], p["allow_incomplete"])
        else:
            scan, info = dump_reader.quick_check(p["path"], p["allow_incomplete"], digest)
    except dump_reader.DumpError as exc:
        module.fail_json(msg=f"the backup cannot be restored: {exc}; nothing was changed", ods_failure="input")
    own = scan.database
    if own and own.lower() in dump_policy.SYSTEM_SCHEMAS and not p["database"]:
        module.fail_json(
            msg="the backup cannot be restored as it is: {} is a dump of the whole server (its databases: {}); name "
            "the one to restore with --database NAME{}; nothing was changed".format(
                p["path"],
                ", ".join(dump_reader.databases_in(p["path"])),
                " (this stack's: {})".format(", ".join(p["known_databases"])) if p["known_databases"] else "",
            ),
            ods_failure="input",
        )
    pick = None
    if p["database"] and scan.databases:
        # A dump that names its database (--databases, --all-databases) may hold several: --database picks one.
        names = [own] if p["database"] == own else dump_reader.databases_in(p["path"])
        if p["database"] == own or len(names) > 1:
            pick = p["database"]
        if len(names) > 1 and pick not in names:
            module.fail_json(
                msg="the backup cannot be restored: {} holds the databases {}, not {}; nothing was changed".format(
                    p["path"], ", ".join(names), pick
                ),
                ods_failure="input",
            )
    if p["database"]:
        target = p["database"]
    elif own and (own in p["known_databases"] or not p["known_databases"]):
        target = own
    elif own:
        module.fail_json(
            msg="{path} is a dump of database {own}, which is not one of this stack's ({known}): pass --database {own} "
            "to restore it as {own}, or --database NAME to load it into NAME; nothing was changed".format(
                path=p["path"], own=own, known=", ".join(p["known_databases"])
            ),
            ods_failure="input",
        )
    else:
        module.fail_json(
            msg="{} does not name its database (no CREATE DATABASE or USE): pass --database NAME; "
            "nothing was changed".format(p["path"]),
            ods_failure="input",
        )
    checks = ["readable: {} ({:.1f} MB)".format(p["path"], info["file_bytes"] / 1048576.0)]
    if info["compressed"]:
        checks.append("decompresses completely: %.1f MB of SQL" % (info["sql_bytes"] / 1048576.0))
    if p["count_rows"]:
        checks.append(scan.summary())
    else:
        checks.append(f"a SQL dump ({scan.kind})")
    checks.append(
        "complete: %s"
        % ("yes, it ends with '-- Dump completed'" if scan.complete else "NO, accepted because of --allow-incomplete")
    )
    checks.append("restores into {} (the dump's own database: {})".format(target, own or "not named"))
    manifest_path = manifest_for(p["path"])
    manifest_rows = {}
    if manifest_path:
        problems, manifest_rows = against_manifest(manifest_path, info, scan if p["count_rows"] else None)
        if problems:
            module.fail_json(
                msg="{} does not match its manifest {}: {}; nothing was changed".format(
                    p["path"], manifest_path, "; ".join(problems)
                ),
                ods_failure="input",
            )
        checks.append(f"matches its manifest's sha256 ({manifest_path}); its row counts are checked as it is split")
    module.exit_json(
        changed=False,
        database=target,
        pick=pick,
        sha256=info["sha256"],
        checks=checks,
        dump=scan.as_dict(),
        size=info,
        manifest_rows=manifest_rows,
    )


if __name__ == "__main__":
    main()
