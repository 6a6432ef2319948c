#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: api_health
short_description: Why does an ODS API answer 500, its database, its container, or its settings
version_added: 0.1.0
description:
  - For each API service, the manual's checks for API 返回 500 错误. Is the container running or did it
    exit (and why, from its last log lines), what does C(/api/v1/health) answer from inside the container
    (status code, each dependency's check, latency), does the manual's C(SELECT 1) through
    C(from database import engine) print 1, and which required settings are missing from the env file.
  - Read-only. Setting names are reported, never their values.
extends_documentation_fragment:
  - ods.fix.project
options:
  env_file:
    description: The settings file the APIs read (the manual's C(deploy/.env)).
    type: path
    required: true
  services:
    description: The API services.
    type: list
    elements: str
    default: [alldata-api, bisheng-api]
  required_settings:
    description: Per service, the env file keys it cannot start without.
    type: dict
    default: {}
  health_url:
    description: The health URL as seen from inside an API container.
    type: str
    default: http://127.0.0.1:8080/api/v1/health
  db_check_service:
    description: The service in which the manual's C(from database import engine) check runs; empty skips it.
    type: str
    default: alldata-api
  latency_threshold_ms:
    description: Report an API whose /api/v1/health takes longer than this (milliseconds); 0 does not check.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    details: Read-only.
  idempotent:
    support: full
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Check the APIs | API 返回 500 错误 诊断命令
  ods.fix.api_health:
    project_dir: /home/dev/one-data-studio
    env_file: /home/dev/one-data-studio/deploy/.env
    required_settings:
      alldata-api: [MYSQL_HOST, MYSQL_PASSWORD, ALLDATA_SECRET_KEY]
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
  description: The manual's check, C(ok) and C(output) or C(error).
  returned: always
  type: dict
failing_dependencies:
  description: Dependencies whose check fails in some API's health (V(db), V(redis), V(milvus)).
  returned: always
  type: list
  elements: str
missing_settings:
  description: "Service to the list of settings missing from the env file."
  returned: always
  type: dict
problems:
  description: One line per problem, in the manual's words where it has them.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, dotenv, probes, services
from ansible_collections.ods.fix.plugins.module_utils.redact import Redactor


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


def inspect(api, project, params, env):
    containers = compose.project_containers(api, project["project_name"])
    result = {"apis": {}, "select1": {}, "failing_dependencies": [], "missing_settings": {}, "problems": []}
    problems = result["problems"]
    failing = set()
    for service in params["services"]:
        container = containers.get(service)
        entry = {"condition": services.condition(container)}
        missing = [key for key in params["required_settings"].get(service, []) if not env.get(key)]
        if missing:
            entry["missing_settings"] = missing
            result["missing_settings"][service] = missing
            problems.extend(
                "%s: required setting %s is missing from %s (检查环境变量配置)" % (service, key, params["env_file"])
                for key in missing
            )
        if container is None or container.status != "running":
            if container is not None:
                entry["crash"] = {
                    "exit_code": container.attrs["State"].get("ExitCode"),
                    "reason": crash_reason(container),
                }
            problems.append(
                "%s is %s%s"
                % (
                    service,
                    entry["condition"],
                    " (exit %s: %s)" % (entry["crash"]["exit_code"], entry["crash"]["reason"])
                    if "crash" in entry
                    else "",
                )
            )
            result["apis"][service] = entry
            continue
        try:
            health = probes.health_summary(probes.probe_api(container, {}, params["health_url"]))
        except (RuntimeError, ValueError) as exc:
            health = {"code": None, "error": str(exc)}
        entry["health"] = health
        threshold = params["latency_threshold_ms"]
        if threshold and health.get("ms") is not None and health["ms"] > threshold:
            problems.append("%s /api/v1/health took %s ms (more than %s ms)" % (service, health["ms"], threshold))
        if health.get("code") != 200:
            bad = sorted(name for name, check in (health.get("checks") or {}).items() if not check.get("ok"))
            failing.update(bad)
            problems.append(
                "%s /api/v1/health answers %s%s"
                % (service, health.get("code") or health.get("error"), " (failing: %s)" % ", ".join(bad) if bad else "")
            )
        result["apis"][service] = entry
    db_check = params["db_check_service"]
    if db_check and db_check in params["services"]:
        container = containers.get(db_check)
        if container is not None and container.status == "running":
            result["select1"] = probes.probe_manual_db_check(container)
        else:
            result["select1"] = {"ok": False, "error": "%s is not running" % db_check}
        if not result["select1"]["ok"]:
            problems.append("the manual's SELECT 1 in %s fails: %s" % (db_check, result["select1"]["error"]))
    result["failing_dependencies"] = sorted(failing)
    result["ok"] = not problems
    return result


def main():
    argument_spec = dict(
        env_file=dict(type="path", required=True),
        services=dict(type="list", elements="str", default=["alldata-api", "bisheng-api"]),
        required_settings=dict(type="dict", default={}),
        health_url=dict(type="str", default="http://127.0.0.1:8080/api/v1/health"),
        db_check_service=dict(type="str", default="alldata-api"),
        latency_threshold_ms=dict(type="int", default=0),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    api, project = compose.open_project(module)
    unknown = [s for s in params["services"] if project["declared_services"] and s not in project["declared_services"]]
    if unknown:
        module.fail_json(
            msg="unknown service(s) %s in %s" % (", ".join(unknown), params["project_dir"]), ods_failure="input"
        )
    env = dotenv.read(params["env_file"])
    result = inspect(api, project, params, env)
    redactor = Redactor()
    redactor.add_env(env)
    module.exit_json(changed=False, **redactor.redact_obj(result))


if __name__ == "__main__":
    main()
