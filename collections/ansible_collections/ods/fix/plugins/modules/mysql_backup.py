#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: mysql_backup
short_description: A consistent, compressed dump of one database with a manifest, on the target
version_added: 0.1.0
description:
  - Runs mysqldump (or mariadb-dump, whichever the image has) inside the database's container, as root as the
    stack allows (see M(ods.fix.db_connectivity)), (C(--single-transaction --routines --triggers --events
    --hex-blob --databases)), streams it into C(backup_<database>_YYYYMMDD-HHMMSS.sql.gz) (mode 0600) on the
    target, then reads it back to count every table's rows and check the trailer, and writes a manifest
    beside it, the file's SHA-256, row counts per table, the views, triggers and routines, and each table's
    C(CHECKSUM TABLE).
  - When the newest backup in O(dest) has the same checksums as the database now, nothing changed since,
    so no new dump is made (the task reports no change and returns that backup).
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  database:
    description: The database to back up; empty means the one the APIs use (when they use several, name it).
    type: str
    default: ""
  dest:
    description: Directory on the target for the backups (created with mode 0700).
    type: path
    required: true
attributes:
  check_mode:
    support: full
    details: In check mode, says whether a new dump would be made; dumps nothing.
  idempotent:
    support: full
    details: No new dump when nothing changed since the newest one (same checksums).
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Back up one_data_bisheng
  ods.fix.mysql_backup:
    project_dir: /home/dev/one-data-studio
    dest: /home/dev/one-data-studio/deploy/backups
"""

RETURN = r"""
file:
  description: The backup on the target.
  returned: success
  type: str
manifest:
  description: Its manifest on the target.
  returned: success
  type: str
sha256:
  description: The backup's SHA-256.
  returned: success
  type: str
rows:
  description: Rows per table, counted in the dump.
  returned: success
  type: dict
up_to_date:
  description: No new dump was made, the newest one matches the database.
  returned: success
  type: bool
"""

import glob
import gzip
import json
import os
import time

from ansible_collections.ods.fix.plugins.module_utils import file_hash
from ansible_collections.ods.fix.plugins.module_utils.mysql import dump_reader, root_access
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials
from ansible_collections.ods.fix.plugins.module_utils.stack.docker_exec import exec_stdin


def newest_manifest(dest, database):
    manifests = sorted(glob.glob(os.path.join(dest, f"backup_{database}_*.manifest.json")))
    for path in reversed(manifests):
        try:
            with open(path) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            continue
        if os.path.isfile(data.get("file", "")) and file_hash.sha256_file(data["file"]) == data.get("sha256"):
            return path, data
    return None, None


def main():
    module = compose.stack_module(
        dict(
            database=dict(type="str", default=""),
            dest=dict(type="path", required=True),
        ),
    )
    p = module.params
    api, profile, name, containers = compose.open_role(module, "database")
    container = containers.get(name)
    if container is None or container.status != "running":
        module.fail_json(msg=f"{name} is not running: ods-fix mysql-connect brings it back", ods_failure="input")
    if not p["database"]:
        used = credentials.app_databases(profile, containers)
        if len(used) != 1:
            module.fail_json(
                msg="the APIs use %s: name the one to back up with --database"
                % (", ".join(used) if used else "no database their settings name"),
                ods_failure="input",
                databases=used,
            )
        p["database"] = used[0]
    root = root_access.for_service(api, profile, name, container, p["db_root_password_file"])
    db = root_access.Database(api, container, root)
    try:
        if not db.exists(p["database"]):
            module.fail_json(msg="there is no database {} to back up".format(p["database"]), ods_failure="input")
        checksums = db.checksums(p["database"], db.tables(p["database"]))
    except root_access.MysqlError as exc:
        module.fail_json(msg="cannot read {}: {}".format(p["database"], exc), ods_failure="input")
    manifest_path, manifest = newest_manifest(p["dest"], p["database"]) if os.path.isdir(p["dest"]) else (None, None)
    if manifest and manifest.get("checksums") == checksums:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=False,
            database=p["database"],
            up_to_date=True,
            file=manifest["file"],
            manifest=manifest_path,
            sha256=manifest["sha256"],
            rows=manifest["rows"],
        )
    if module.check_mode:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=True,
            database=p["database"],
            up_to_date=False,
            msg="would dump {} to {}".format(p["database"], p["dest"]),
        )
    if not os.path.isdir(p["dest"]):
        os.makedirs(p["dest"], mode=0o700)
    base = os.path.join(p["dest"], "backup_{}_{}".format(p["database"], time.strftime("%Y%m%d-%H%M%S")))
    path = base + ".sql.gz"
    cmd = [
        root.program("dump"),
        "-u",
        "root",
        "--single-transaction",
        "--quick",
        "--routines",
        "--triggers",
        "--events",
        "--hex-blob",
        "--default-character-set=utf8mb4",
        "--databases",
        p["database"],
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=3) as out:
        result = exec_stdin(
            api,
            container,
            cmd,
            environment=root.env,
            timeout=24 * 3600,
            sink=out.write,
        )
    if result.code != 0:
        os.unlink(path)
        module.fail_json(msg="mysqldump failed: {}".format(result.stderr.decode("utf-8", "replace").strip()))
    try:
        scan, info = dump_reader.validate(path)
    except dump_reader.DumpError as exc:
        module.fail_json(msg=f"the new backup does not read back: {exc}")
    manifest = {
        "database": p["database"],
        "file": path,
        "sha256": info["sha256"],
        "bytes": info["file_bytes"],
        "sql_bytes": info["sql_bytes"],
        "rows": scan.rows,
        "views": scan.views,
        "triggers": scan.triggers,
        "routines": scan.routines,
        "events": scan.events,
        "complete": scan.complete,
        "checksums": checksums,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "restore": f"ods-fix mysql-restore --backup {os.path.basename(path)} --yes",
    }
    manifest_path = base + ".manifest.json"
    fd = os.open(manifest_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=True,
        database=p["database"],
        up_to_date=False,
        file=path,
        manifest=manifest_path,
        sha256=info["sha256"],
        rows=scan.rows,
        size=info,
    )


if __name__ == "__main__":
    main()
