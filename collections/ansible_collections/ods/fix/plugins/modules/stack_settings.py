#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: stack_settings
short_description: Set a setting of ODS services where it is written, and make them pick it up
version_added: 0.2.0
description:
  - For each KEY=value, finds where each service that reads KEY gets it (see M(ods.fix.stack_profile)); a
    settings file it mounts (the manual's C(deploy/.env)), an C(env_file), a variable of the project's
    C(.env) that the compose file interpolates, or a literal in a compose file. It writes the value there,
    after a backup (0600, the newest O(keep_backups) kept), atomically, keeping comments, order, owner and mode.
  - A literal in a compose file is edited only with O(edit_compose); otherwise the file and line to change
    are returned in C(left). An edited compose file is checked with C(docker compose config) before anything
    is recreated, and put back from its backup when it does not pass.
  - Then each service that reads a changed value picks it up as it can; a restart for a settings file it
    reads at start; for an environment, which a container gets when it is created, a recreation with the same
    compose files, project name and profiles (C(docker compose up -d --no-deps --force-recreate)); a
    C(docker restart) would change nothing. It waits until each answers (an API's health URL below 500).
  - Nothing is written and nothing restarted when every reader already runs with the value.
  - C(env_file) or C(ansible.builtin.lineinfile) write one file they are given; this module finds the file,
    and knows that a container's environment needs a recreation.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
options:
  values:
    description: KEY to its new value. A value with a control character (a newline, a tab) is refused.
    type: dict
    required: true
  services:
    description: Only the readers among these services; empty means every service that reads the key.
    type: list
    elements: str
    default: []
  roles:
    description: Only the readers among the services of these roles (V(apis), V(data_api), V(agent_api), ...).
    type: list
    elements: str
    default: []
  edit_compose:
    description: Edit a value written literally in a compose file (its line), rather than report it.
    type: bool
    default: false
  apply:
    description: Restart or recreate the services that read a changed value.
    type: bool
    default: true
  secret:
    description: The values are secrets; they are never returned, and the diff names the keys only.
    type: bool
    default: false
  backup_dir:
    description:
      - Where the backups go; empty puts them beside the file. The ods-fix roles keep them in C(ods_state_dir),
        outside the project, whose directories the containers mount (an old secret kept beside C(.env) is one a
        compromised container can read).
    type: path
  keep_backups:
    description: How many backups of each file to keep.
    type: int
    default: 10
  wait_timeout:
    description: Seconds to wait for each restarted or recreated service to answer.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    details: Reports the files, lines and services it would change, and changes nothing.
  diff_mode:
    description: Returns details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: Key names and where they are written; never values.
  idempotent:
    support: full
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Lower the log level where it is written | 降低日志级别
  ods.fix.stack_settings:
    project_dir: /home/dev/one-data-studio
    values:
      LOG_LEVEL: INFO
    roles: [apis]
"""

RETURN = r"""
edits:
  description: Where each value is (or would be) written, C(file), C(line), C(name) (the key or the .env variable), C(key).
  returned: always
  type: list
  elements: dict
written:
  description: The files written, each with its C(backup).
  returned: always
  type: list
  elements: dict
actions:
  description: What was done (or would be), one line each.
  returned: always
  type: list
  elements: str
left:
  description: What was not done and why, with the file and line to change by hand.
  returned: always
  type: list
  elements: str
"""

import subprocess

from ansible_collections.ods.fix.plugins.module_utils import safe_file
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials, services, settings


def stale_readers(profile, containers, plan, values, written_files, would_write):
    """Readers not yet running with what their files give them for these keys.

    A reader of a mounted settings file is stale when that file was written now (it reads it at start). A
    reader of an environment is stale when what it runs with differs from what its files now give it (the
    files may have been fixed by hand, without the recreation). In a dry run, every reader of a value that
    would be written is.
    """
    stale = []
    for service, method in sorted(plan["apply"].items()):
        origins = settings.origins(profile, service)
        keys = [k for k, o in origins.items() if k in values or set(o.get("vars") or []) & set(values)]
        if would_write:
            stale.append(service)
        elif method == "restart":
            if set(o.get("file") for o in origins.values() if o["kind"] == "mounted") & written_files:
                stale.append(service)
        else:
            configured = settings.configured(profile, service)
            current = settings.current(profile, service, containers.get(service))
            if any(configured.get(k) != current.get(k) for k in keys):
                stale.append(service)
    return stale


def compose_config_ok(profile, cli):
    """(ok, last line) of `docker compose config -q` for the project as it was made."""
    if not cli:
        return False, "no Compose CLI is installed to check the edited compose file"
    result = subprocess.run(
        [*compose.compose_argv(profile, cli), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=profile["working_dir"],
    )
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return result.returncode == 0, lines[-1] if lines else ""


def restore(written):
    for item in written:
        if item.get("backup"):
            with open(item["backup"], encoding="utf-8") as handle:
                safe_file.replace(item["file"], handle.read())


def apply_changes(api, profile, stale, method, cli, wait):
    """Restart (mounted settings files) or recreate (environments) the stale readers; then wait for each."""
    actions = []
    before = services.addresses(api, profile, stale)
    recreate = [s for s in stale if method[s] == "recreate"]
    if recreate:
        services.recreate_with_cli(profile, recreate, cli)
        actions.append(
            "recreated {} so that {} the new settings (a restart would not)".format(
                ", ".join(recreate), "it reads" if len(recreate) == 1 else "they read"
            )
        )
    containers = compose.project_containers(api, profile["project"])
    for service in stale:
        container = containers.get(service)
        if method[service] == "restart" and container is not None:
            container.restart(timeout=services.stop_timeout(container))
            actions.append(f"restarted {service} so that it reads its settings file again")
    failed = []
    for service in stale:
        container = compose.project_containers(api, profile["project"]).get(service)
        entry = profile["services"].get(service) or {}
        url = entry.get("health_url") if entry.get("role") == "api" else None
        ok, state = services.wait_healthy(container, wait, url) if container is not None else (False, "missing")
        if not ok:
            failed.append(
                "{} is {} after it picked up the new settings; its log: {}".format(
                    service, state, services.log_tail(container, profile=profile) if container is not None else ""
                )
            )
    actions += services.reload_front_end(api, profile, before)
    return actions, failed


def main():
    argument_spec = dict(
        values=dict(type="dict", required=True, no_log=False),
        services=dict(type="list", elements="str", default=[]),
        roles=dict(type="list", elements="str", default=[]),
        edit_compose=dict(type="bool", default=False),
        apply=dict(type="bool", default=True),
        secret=dict(type="bool", default=False),
        keep_backups=dict(type="int", default=10),
        backup_dir=dict(type="path"),
        wait_timeout=dict(type="int", default=120),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    values = dict((str(k), "" if v is None else str(v)) for k, v in params["values"].items())
    if params["secret"]:
        module.no_log_values.update(v for v in values.values() if v)
    api, project = compose.open_project(module)
    profile = project["profile"]
    compose.check_services(module, profile, params["services"])
    scope = list(params["services"])
    for role in params["roles"]:
        scope += compose.role_apis(module, profile, False) if role == "apis" else [profile["roles"].get(role)]
    scope = [s for s in scope if s] or None
    try:
        plan = settings.plan(profile, values, scope, params["edit_compose"])
    except settings.SettingsError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")
    todo = settings.pending(plan["edits"])
    containers = compose.project_containers(api, profile["project"])
    verb = "would " if module.check_mode else ""
    where = [
        "{}{} in {}{}".format(
            e["name"],
            "" if params["secret"] else "=" + e["value"],
            e["file"],
            ":{}".format(e["line"]) if e.get("line") else "",
        )
        for e in todo
    ]
    result = {"edits": plan["edits"], "written": [], "actions": [], "left": plan["left"], "changed": False}
    if module._diff:
        result["diff"] = {"before": "", "after": "", "prepared": "\n".join("set " + w for w in where)}
    if todo:
        result["actions"].append("{}set {} (backup kept)".format(verb, ", ".join(where)))
    if not module.check_mode and todo:
        result["written"] = settings.write(todo, params["keep_backups"], params["backup_dir"])
    needs_cli = any(m == "recreate" for m in plan["apply"].values()) or any(e["kind"] == "compose" for e in todo)
    clis = compose.compose_clis() if needs_cli and not module.check_mode else {}
    cli = clis.get(project["compose_flavor"] or "v2") or clis.get("v1")
    if result["written"] and any(e["kind"] == "compose" for e in todo):
        ok, line = compose_config_ok(profile, cli)
        if not ok:
            restore(result["written"])
            module.fail_json(
                msg=f"the edited compose file does not pass `docker compose config` ({line}): put back from "
                "its backup, nothing recreated",
                **result,
            )
    written_files = set(w["file"] for w in result["written"])
    stale = stale_readers(profile, containers, plan, values, written_files, module.check_mode and bool(todo))
    if params["apply"] and stale:
        if module.check_mode:
            result["actions"] += ["would {} {}".format(plan["apply"][s], s) for s in stale]
        else:
            try:
                actions, failed = apply_changes(api, profile, stale, plan["apply"], cli, params["wait_timeout"])
            except compose.ProjectError as exc:
                actions, failed = [], [str(exc)]
            result["actions"] += actions
            if failed:
                result["changed"] = True
                module.fail_json(msg="; ".join(failed), **credentials.redactor(profile, containers).redact_obj(result))
    result["changed"] = bool(todo) or bool(params["apply"] and stale)
    result["stale"] = stale
    module.exit_json(
        ansible_facts=compose.profile_facts(module), **credentials.redactor(profile, containers).redact_obj(result)
    )


if __name__ == "__main__":
    main()
