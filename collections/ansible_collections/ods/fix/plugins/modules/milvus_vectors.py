#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: milvus_vectors
short_description: Export Milvus collections to a vector backup, or restore them from one (向量数据恢复)
version_added: 0.1.0
description:
  - Runs inside the agent API (the manual's bisheng-api), through the manual's C(services.VectorStore) and its
    pymilvus client, so that it reaches Milvus exactly as the application does.
  - V(export) writes a backup (format in the README and in module_utils/vector/backup_format) under O(dest); when the
    newest backup there holds the same content, the new one is dropped and nothing changes.
  - V(plan) says, per collection, what a restore would do. V(create) (absent), V(none) (identical to the
    backup), V(replace) (different, or of another dimension; only with O(replace)).
  - V(restore) does the plan. A replaced collection is renamed to C(<name>_replaced_<UTC time>) first, and
    put back if anything fails. Rows go in in batches from O(workers) threads, with progress in
    O(progress_file); then flush, index, load, and verification (row count, sample rows found by their own
    vectors).
  - V(rollback) swaps each collection with its newest kept copy; V(confirm) drops the kept copies.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
options:
  action:
    description: What to do.
    type: str
    choices: [export, plan, restore, rollback, confirm]
    required: true
  collections:
    description: The collections; empty means all (in Milvus for export, in the backup otherwise).
    type: list
    elements: str
    default: []
  dest:
    description: For V(export), the directory on the target for the backup (created 0700; files 0600).
    type: path
  backup:
    description: For V(restore), the backup file on the target; checked again there before it is used.
    type: path
  entries:
    description: For V(plan), the backup's collections as ods.fix.milvus_backup_check returns them.
    type: list
    elements: dict
    default: []
  expected_sha256:
    description: The sha256 of the backup as checked on the controller; the file on the target must match.
    type: str
    default: ""
  plans:
    description: For V(restore), the result of V(plan).
    type: list
    elements: dict
    default: []
  replace:
    description: Let V(plan) replace collections whose content differs from the backup's.
    type: bool
    default: false
  workers:
    description: Insert threads.
    type: int
    default: 2
  index_timeout:
    description: Seconds to wait for Milvus to build a restored collection's index.
    type: int
    default: 3600
  progress_file:
    description: Where V(restore) and V(export) write their progress (JSON), for ods.fix.job_progress.
    type: path
  client_service:
    description: The service that runs the manual's VectorStore; empty means the agent API (the manual's bisheng-api).
    type: str
    default: ""
attributes:
  check_mode:
    support: full
  idempotent:
    support: full
    details: An identical collection is left alone; a backup of unchanged content is not written again.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Back up every collection
  ods.fix.milvus_vectors:
    project_dir: /home/dev/one-data-studio
    action: export
    dest: /home/dev/one-data-studio/deploy/backups/milvus
"""

RETURN = r"""
file:
  description: For V(export), the backup file (the newest existing one when nothing changed).
  returned: when action is export
  type: str
up_to_date:
  description: For V(export), the newest existing backup already holds this content.
  returned: when action is export
  type: bool
manifest:
  description: For V(export), the backup's manifest (rows, dims, content digest per collection).
  returned: when action is export
  type: dict
plans:
  description: For V(plan), per collection C(name), C(action), C(reason), C(rows_live), C(rows_backup).
  returned: when action is plan
  type: list
  elements: dict
restored:
  description: For V(restore), per collection C(name), C(action), C(kept), C(rows), C(searched).
  returned: when action is restore
  type: list
  elements: dict
swapped:
  description: For V(rollback), per collection C(name) and the kept copy it came C(from).
  returned: when action is rollback
  type: list
  elements: dict
dropped:
  description: For V(confirm), the kept copies dropped.
  returned: when action is confirm
  type: list
  elements: str
"""

import contextlib
import json
import os
import pkgutil
import time

from ansible_collections.ods.fix.plugins.module_utils import project_lock
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, docker_exec, probes
from ansible_collections.ods.fix.plugins.module_utils.vector import backup_files, milvus_agent
from ansible_collections.ods.fix.plugins.module_utils.vector.backup_format import VectorError, kept_name


def _source(name):
    """A module_util's source: from the module's payload, or from the collection on disk (a namespace package,
    as under pytest, where get_data finds nothing)."""
    data = pkgutil.get_data(milvus_agent.__package__, name)
    if data is None:
        with open(os.path.join(os.path.dirname(milvus_agent.__file__), name), "rb") as handle:
            data = handle.read()
    return data


# What runs in the agent API: the format's source, then the agent's. milvus_agent is imported so that Ansible
# ships it with this module; its source, not the import, is what is used.
SCRIPT = _source("backup_format.py") + b"\n" + _source("milvus_agent.py")


class Lines:
    """Collects the script's JSON lines; progress lines go to the progress file as they come."""

    def __init__(self, progress_file, on_event=None):
        self.progress_file, self.buffer, self.result = progress_file, b"", None
        self.on_event = on_event  # any other event, as it comes (a collection restored)
        self.started = time.monotonic()

    def __call__(self, data):
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            try:
                event = json.loads(line.decode("utf-8"))
            except ValueError:
                continue
            if event.get("event") == "result":
                self.result = event
            elif event.get("event") == "progress" and self.progress_file:
                self.write_progress(event)
            elif self.on_event is not None:
                self.on_event(event)

    def write_progress(self, event):
        event.pop("event")
        event.setdefault("percent", None)
        if event.get("total_rows") and event.get("rows") is not None and event["percent"] is None:
            event["percent"] = round(100.0 * event["rows"] / event["total_rows"], 1)
        temp = self.progress_file + ".tmp"
        with open(temp, "w") as handle:
            json.dump(event, handle)
        os.rename(temp, self.progress_file)


def run_script(api, container, args, progress_file=None, on_event=None):
    """The result line of milvus_agent.main(args) run in the container; VectorError on an expected failure."""
    program = SCRIPT + (f"\nmain(json.loads({json.dumps(args)!r}))\n").encode()
    lines = Lines(progress_file, on_event)
    result = docker_exec.exec_stdin(api, container, ["python", "-"], program, timeout=3600, sink=lines)
    if lines.result is None:
        failure = probes.exception_line(result.text) or "no output"
        raise VectorError(f"the vector script failed in {container.name}: {failure}", "fix")
    if lines.result.get("error"):
        raise VectorError(lines.result["error"], lines.result.get("kind", "fix"))
    return lines.result


def in_container(api, container, cmd):
    docker_exec.exec_stdin(api, container, cmd, timeout=600)


def newest_backup(dest):
    if not os.path.isdir(dest):
        return None
    names = sorted(n for n in os.listdir(dest) if n.startswith("milvus_") and n.endswith(".tar"))
    return os.path.join(dest, names[-1]) if names else None


def same_content(a, b):
    def key(manifest):
        return sorted(
            (c["name"], c["rows"], c["content_digest"], json.dumps(c["dims"], sort_keys=True)) for c in manifest
        )

    return key(a) == key(b)


def export(module, api, container):
    p = module.params
    previous = newest_backup(p["dest"])
    previous_manifest = backup_files.read_manifest(previous) if previous else None
    if module.check_mode:
        return dict(changed=True, up_to_date=False, msg="would export to {}".format(p["dest"]))
    if not os.path.isdir(p["dest"]):
        os.makedirs(p["dest"], mode=0o700)
    work = "/tmp/ods-fix-milvus-export-%d" % os.getpid()
    try:
        result = run_script(
            api,
            container,
            {"action": "export", "collections": p["collections"], "out_dir": work, "batch_rows": 2000},
            p["progress_file"],
        )
        manifest = result["manifest"]
        if previous_manifest and same_content(manifest["collections"], previous_manifest["collections"]):
            return dict(changed=False, up_to_date=True, file=previous, manifest=previous_manifest)
        path = os.path.join(p["dest"], "milvus_{}.tar".format(time.strftime("%Y%m%d-%H%M%S", time.gmtime())))
        chunks, _stat = container.get_archive(work)
        sha256 = backup_files.write_from_container(chunks, os.path.basename(work), path)
    finally:
        in_container(api, container, ["rm", "-rf", work])
    return dict(changed=True, up_to_date=False, file=path, sha256=sha256, manifest=manifest)


def checked_backup(module):
    p = module.params
    info = backup_files.check(p["backup"], p["collections"])
    if p["expected_sha256"] and info["sha256"] != p["expected_sha256"]:
        raise VectorError(
            "the backup on the target (sha256 {}) differs from the one checked ({})".format(
                info["sha256"][:12], p["expected_sha256"][:12]
            )
        )
    return info


def plan(module, api, container):
    p = module.params
    recovered = recover(module, api, container)  # the plan compares against what is live after that
    plans = run_script(api, container, {"action": "plan", "collections": p["entries"]})["plans"]
    refused = [x for x in plans if x["action"] == "replace" and not p["replace"]]
    if refused:
        raise VectorError(
            "; ".join("collection {} differs from the backup ({})".format(x["name"], x["reason"]) for x in refused)
            + ": nothing changed; --replace restores it and keeps the current one under a dated name"
        )
    changing = [x for x in plans if x["action"] != "none"]
    return dict(
        changed=bool(changing or recovered),
        recovered=recovered,
        plans=plans,
        found=["{}: {}".format(x["name"], x["reason"]) for x in changing],
        would=[would_line(x) for x in changing],
        unchanged=[
            "{} is identical to the backup: left alone".format(x["name"]) for x in plans if x["action"] == "none"
        ],
    )


def would_line(plan):
    if plan["action"] == "create":
        return "would create %s and restore its %d rows" % (plan["name"], plan["rows_backup"])
    return "would restore %s (%d rows), keeping the current one (%d rows) as %s" % (
        plan["name"],
        plan["rows_backup"],
        plan["rows_live"],
        kept_name(plan["name"], time.time()),
    )


def restored_lines(restored):
    lines = []
    for item in restored:
        by = list((item.get("found_by") or {}).values())
        how = "found by their own vectors"
        if by.count("query"):
            how = "found: %d by their own vectors, %d only by an exact query (the index's recall)" % (
                by.count("search"),
                by.count("query"),
            )
        lines.append(
            "restored %s: %d rows, counted; %d sample rows %s" % (item["name"], item["rows"], item["searched"], how)
        )
        if item["kept"]:
            lines.append(
                "kept the previous {} as {} (--rollback swaps it back, --confirm drops it)".format(
                    item["name"], item["kept"]
                )
            )
    return lines


def journal_path(module):
    """The journal of this project's unfinished Milvus restores, beside its lock (0600)."""
    return os.path.join(project_lock.state_dir(module.params["project_dir"]), "milvus-restore.json")


def write_journal(path, items):
    if not items:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    temp = "%s.%d.tmp" % (path, os.getpid())
    with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600), "w") as handle:
        json.dump({"items": items}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temp, path)


def read_journal(path):
    try:
        with open(path) as handle:
            return list(json.load(handle).get("items") or [])
    except (OSError, ValueError):
        return []


def recover(module, api, container):
    """Lines saying what an interrupted restore of this project left and what was done about it; before
    anything else, so that a partial collection is never left live, nor taken for a kept copy by --rollback."""
    path = journal_path(module)
    items = read_journal(path)
    if not items:
        return []
    names = ", ".join(item["name"] for item in items)
    if module.check_mode:
        return [f"would finish undoing an interrupted restore of {names} (the journal {path})"]
    undone = run_script(api, container, {"action": "recover", "items": items})["undone"]
    write_journal(path, [])
    lines = []
    for item in undone:
        if item["kept"]:
            lines.append(
                "finished undoing an interrupted restore of {}: the partial one was dropped, the previous one "
                "(kept as {}) is back".format(item["name"], item["kept"])
            )
        else:
            lines.append(f"finished undoing an interrupted restore of {item['name']}: the partial one was dropped")
    return lines or [f"an interrupted restore of {names} had left nothing to undo"]


def restore(module, api, container):
    p = module.params
    todo = [x for x in p["plans"] if x["action"] != "none"]
    recovered = recover(module, api, container)
    if not todo:
        return dict(changed=bool(recovered), restored=[], done=recovered)
    if module.check_mode:
        return dict(changed=True, restored=[], msg="would restore {}".format(", ".join(x["name"] for x in todo)))
    checked_backup(module)
    when = time.time()
    # Journalled before the agent starts, each collection until the agent says it is complete: a run that dies
    # between (the agent API, or this module) leaves what recover() undoes next time.
    path = journal_path(module)
    pending = [{"name": x["name"], "kept": kept_name(x["name"], when) if x["action"] == "replace" else None}
               for x in todo]  # fmt: skip
    write_journal(path, pending)

    def restored(event):
        if event.get("event") == "restored":
            pending[:] = [item for item in pending if item["name"] != event.get("name")]
            write_journal(path, pending)

    work = "/tmp/ods-fix-milvus-restore-%d" % os.getpid()
    in_container(api, container, ["mkdir", "-p", work])
    try:
        with open(p["backup"], "rb") as data:
            container.put_archive(work, data)
        result = run_script(
            api,
            container,
            {
                "action": "restore",
                "plans": todo,
                "data_dir": work,
                "workers": p["workers"],
                "when": when,
                "index_timeout": p["index_timeout"],
            },
            p["progress_file"],
            restored,
        )
    finally:
        in_container(api, container, ["rm", "-rf", work])
    write_journal(path, [])
    return dict(changed=True, restored=result["restored"], done=recovered + restored_lines(result["restored"]))


def kept(module, api, container):
    p = module.params
    recovered = recover(module, api, container)
    args = {"action": p["action"], "collections": p["collections"], "check": module.check_mode, "when": time.time()}
    result = run_script(api, container, args)
    if p["action"] == "rollback":
        verb = "would put back" if module.check_mode else "put back"
        done = [
            "{} {} from {}; the one it replaced is kept under a dated name".format(verb, x["name"], x["from"])
            for x in result["swapped"]
        ]
        done = recovered + (done or ["no kept copy to put back"])
        return dict(changed=bool(result["swapped"] or recovered), swapped=result["swapped"], done=done)
    verb = "would drop" if module.check_mode else "dropped"
    done = [f"{verb} the kept copy {name}" for name in result["dropped"]]
    done = recovered + (done or ["no kept copy to drop"])
    return dict(changed=bool(result["dropped"] or recovered), dropped=result["dropped"], done=done)


ACTIONS = {"export": export, "plan": plan, "restore": restore, "rollback": kept, "confirm": kept}


def main():
    module = compose.stack_module(
        dict(
            action=dict(type="str", required=True, choices=list(ACTIONS)),
            collections=dict(type="list", elements="str", default=[]),
            dest=dict(type="path"),
            backup=dict(type="path"),
            expected_sha256=dict(type="str", default=""),
            plans=dict(type="list", elements="dict", default=[]),
            entries=dict(type="list", elements="dict", default=[]),
            replace=dict(type="bool", default=False),
            workers=dict(type="int", default=2),
            index_timeout=dict(type="int", default=3600),
            progress_file=dict(type="path"),
            client_service=dict(type="str", default=""),
        ),
        required_if=[("action", "export", ["dest"]), ("action", "restore", ["backup"])],
    )
    p = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    if p["client_service"]:
        compose.check_services(module, profile, [p["client_service"]])
    client = p["client_service"] or compose.role_service(module, profile, "agent_api")
    container = compose.project_containers(api, profile["project"]).get(client)
    if container is None or container.status != "running":
        module.fail_json(
            msg=f"{client} is not running, and the vector tools run in it: ods-fix api-500 brings it back",
            ods_failure="input",
        )
    try:
        result = ACTIONS[p["action"]](module, api, container)
        module.exit_json(ansible_facts=compose.profile_facts(module), **result)
    except VectorError as exc:
        module.fail_json(msg=str(exc), ods_failure=exc.kind)


if __name__ == "__main__":
    main()
