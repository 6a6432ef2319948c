#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: api_health
short_description: Why does an ODS API answer 500, its database, its container, or its settings
version_added: 0.1.0
description:
  - For each API service, the manual's checks for API 返回 500 错误. Is the container running or did it
    exit (and why, from its last log lines), what does its health URL answer from inside the container
    (status code, each dependency's check in whichever shape the API gives them, latency), does the
    manual's C(SELECT 1) through C(from database import engine) print 1 (or, where it cannot run as
    written, the same through the app's own engine), and which settings it cannot start without are missing.
  - The APIs, their health URLs and where their settings come from are the stack's, as discovered.
  - Read-only. Setting names are reported, never their values.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
  - ods.fix.project
  - ods.fix.mysql
options:
  services:
    description: The API services. Empty means every API of the stack.
    type: list
    elements: str
    default: []
  required_settings:
    description:
      - Per API role (V(data_api), V(agent_api)) or service, settings it cannot start without, checked
        where the service gets them. An API that crashed saying a required setting is missing is reported
        whatever this says.
    type: dict
    default: {}
  select1:
    description: Run the manual's C(SELECT 1) through the data API's engine.
    type: bool
    default: true
  latency_threshold_ms:
    description: Report an API whose health URL takes longer than this (milliseconds); 0 does not check.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Check the APIs | API 返回 500 错误 诊断命令
  ods.fix.api_health:
    project_dir: /home/dev/one-data-studio
  register: apis
"""

RETURN = r"""
ok:
  description: Every API runs and answers 200, and the manual's SELECT 1 prints 1.
  returned: always
  type: bool
apis:
  description: Per service, C(condition), C(health) (C(code), C(status), C(checks), C(ms)), C(missing_settings), C(crash).
  returned: always
  type: dict
select1:
  description: The manual's check, SELECT 1 through the app's own database engine.
  returned: always
  type: dict
  contains:
    ok:
      description: It printed 1 (null when no API can run it).
      type: bool
    output:
      description: What it printed.
      type: str
    error:
      description: Why it failed.
      type: str
failing_dependencies:
  description: Roles of the dependencies whose check fails in some API's health (V(database), V(cache), V(vector_store)).
  returned: always
  type: list
  elements: str
missing_settings:
  description: "Service to the list of settings it cannot start without that are missing, each with where it comes from."
  returned: always
  type: dict
problems:
  description: One line per problem, in the manual's words where it has them.
  returned: always
  type: list
  elements: str
"""

import re
from urllib.parse import urlsplit

from ansible_collections.ods.fix.plugins.module_utils.stack import (
    compose,
    credentials,
    discovery,
    probes,
    services,
    settings,
)

# What the APIs log when they cannot start for a missing setting (the manual's 检查环境变量配置).
CONFIG_MISSING = re.compile(r"required setting (\w+) is missing")


def crash_reason(container):
    """Why the container stopped: its exit code in words, or the last error it logged."""
    state = container.attrs.get("State") or {}
    if state.get("OOMKilled"):
        return "killed for lack of memory (OOM)"
    text = container.logs(tail=30).decode("utf-8", "replace")
    errors = [line.strip() for line in text.splitlines() if "ERROR" in line or "Error" in line]
    code = state.get("ExitCode")
    if code == 137:
        return "killed (SIGKILL), as by a crash or docker kill"
    if code in (0, 143):
        return "stopped"
    return errors[-1] if errors else probes.last_line(text)


def missing_settings(profile, service, container, required):
    """[(key, where)] of settings the API cannot start without: those it said were missing when it crashed,
    and those required of it that its files no longer give it."""
    found = []
    if container is not None and container.status != "running":
        for key in CONFIG_MISSING.findall(container.logs(tail=50).decode("utf-8", "replace")):
            if key not in [k for k, _w in found]:
                found.append((key, where(profile, service, key)))
    values = settings.configured(profile, service)
    for key in required:
        if not values.get(key) and key not in [k for k, _w in found]:
            found.append((key, where(profile, service, key)))
    return found


def where(profile, service, key):
    found = discovery.describe_setting(profile, service, key)
    if found:
        return found
    files = sorted(
        set(o["file"] for o in settings.origins(profile, service).values() if o["kind"] in ("mounted", "env_file"))
    )
    if files:
        return "not in {}, the settings file {} reads".format(", ".join(files), service)
    return "set nowhere in the stack's files"


def database_down(api, profile, containers, params):
    """An API answers 500 or 503 without naming what failed: is it the database? Probed directly, as root."""
    from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access  # noqa: PLC0415

    name = profile["roles"].get("database")
    container = containers.get(name) if name else None
    if name is None:
        return None
    if container is None or container.status != "running":
        return "{} is {}".format(name, "missing" if container is None else container.status)
    root = root_access.for_service(api, profile, name, container, params["db_root_password_file"])
    try:
        root_access.run_sql(api, container, "SELECT 1;", root=root, timeout=20)
    except root_access.MysqlError as exc:
        return f"{name} does not answer SELECT 1: {exc}"
    return None


def inspect(api, profile, params, names):
    containers = compose.project_containers(api, profile["project"])
    result = {"apis": {}, "select1": {}, "failing_dependencies": [], "missing_settings": {}, "problems": []}
    problems = result["problems"]
    failing = set()
    for service in names:
        container = containers.get(service)
        url = profile["services"][service]["health_url"]
        path = urlsplit(url).path
        health, entry = None, {}
        if container is not None:
            container.reload()
        if container is not None and container.status == "running":
            # One probe gives both the condition and the health: an API's health URL is asked once per check.
            try:
                health = probes.health_summary(probes.probe_api(container, {}, url), path)
            except (RuntimeError, ValueError) as exc:
                health = {"code": None, "error": str(exc), "path": path}
            entry["condition"] = "healthy" if health["code"] and health["code"] < 500 else "unhealthy"
        else:
            entry["condition"] = services.condition(container)
        role = (profile["roles"].get("data_api") == service and "data_api") or (
            (profile["roles"].get("agent_api") == service and "agent_api") or "api"
        )
        required = params["required_settings"].get(service) or params["required_settings"].get(role) or []
        missing = missing_settings(profile, service, container, required)
        if missing:
            entry["missing_settings"] = [key for key, _where in missing]
            result["missing_settings"][service] = entry["missing_settings"]
            problems.extend(
                f"{service}: required setting {key} is missing ({origin}) (检查环境变量配置)" for key, origin in missing
            )
        if container is None or container.status != "running":
            if container is not None:
                entry["crash"] = {
                    "exit_code": container.attrs["State"].get("ExitCode"),
                    "reason": crash_reason(container),
                }
            problems.append(
                "{} is {}{}".format(
                    service,
                    entry["condition"],
                    " (exit {}: {})".format(entry["crash"]["exit_code"], entry["crash"]["reason"])
                    if "crash" in entry
                    else "",
                )
            )
            result["apis"][service] = entry
            continue
        entry["health"] = health
        threshold = params["latency_threshold_ms"]
        if threshold and health.get("ms") is not None and health["ms"] > threshold:
            problems.append("{} {} took {} ms (more than {} ms)".format(service, path, health["ms"], threshold))
        if health.get("code") != 200:
            bad = probes.failing_dependencies(health)
            if not bad and (health.get("code") or 0) >= 500:
                down = database_down(api, profile, containers, params)
                entry["database_probe"] = down or "answers SELECT 1"
                bad = ["database"] if down else []
            failing.update(bad)
            problems.append(
                "{} {} answers {}{}".format(
                    service,
                    path,
                    health.get("code") or health.get("error"),
                    " (failing: {})".format(", ".join(bad)) if bad else "",
                )
            )
        result["apis"][service] = entry
    db_check = profile["roles"].get("data_api")
    if params["select1"] and db_check in names:
        container = containers.get(db_check)
        if container is not None and container.status == "running":
            result["select1"] = probes.probe_manual_db_check(container)
        else:
            result["select1"] = {"ok": False, "error": f"{db_check} is not running"}
        if result["select1"]["ok"] is False:
            problems.append("the SELECT 1 through {}'s engine fails: {}".format(db_check, result["select1"]["error"]))
    result["failing_dependencies"] = sorted(failing)
    result["ok"] = not problems
    return result, containers


def main():
    argument_spec = dict(
        services=dict(type="list", elements="str", default=[]),
        required_settings=dict(type="dict", default={}),
        select1=dict(type="bool", default=True),
        latency_threshold_ms=dict(type="int", default=0),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    compose.check_services(module, profile, params["services"])
    names = params["services"] or compose.role_apis(module, profile)
    result, containers = inspect(api, profile, params, names)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=False,
        **credentials.redactor(profile, containers).redact_obj(result),
    )


if __name__ == "__main__":
    main()
