#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cors_check
short_description: The manual's CORS preflight (API 跨域错误), per API and per origin
version_added: 0.1.0
description:
  - Sends the manual's preflight, C(OPTIONS /api/v1/health) with C(Origin) and
    C(Access-Control-Request-Method GET), from inside each API container, for each origin.
  - Passes when the API answers 2xx with C(Access-Control-Allow-Origin) equal to the origin (or C(*)).
  - Reads the allowed origins from the settings file, to tell an origin that is missing from it from an API
    that has not read it yet (it reads the file at start).
  - Read-only.
extends_documentation_fragment:
  - ods.fix.project
options:
  env_file:
    description: The settings file the APIs read (deploy/.env).
    type: path
    required: true
  services:
    description: The API services.
    type: list
    elements: str
    default: [alldata-api]
  origins:
    description: The front-end origins that must be allowed.
    type: list
    elements: str
    default: ["http://localhost:3000"]
  url:
    description: The URL the preflight is sent to, as seen inside an API container.
    type: str
    default: http://127.0.0.1:8080/api/v1/health
  setting:
    description: The setting listing the allowed origins, comma-separated.
    type: str
    default: CORS_ALLOWED_ORIGINS
attributes:
  check_mode:
    support: full
  idempotent:
    support: full
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: The manual's preflight | 检查 API 响应头
  ods.fix.cors_check:
    project_dir: /home/dev/one-data-studio
    origins: ["http://localhost:3000", "http://localhost:5173"]
  register: cors
"""

RETURN = r"""
ok:
  description: Every API allows every origin.
  returned: always
  type: bool
allowed_in_settings:
  description: The origins the settings file allows.
  returned: always
  type: list
  elements: str
missing_from_settings:
  description: The wanted origins the settings file lacks.
  returned: always
  type: list
  elements: str
apis:
  description: Per API, per origin, C(code), C(allow_origin), C(ok), or C(error).
  returned: always
  type: dict
failing_services:
  description: The APIs whose preflight fails for some origin.
  returned: always
  type: list
  elements: str
problems:
  description: One line per problem.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, dotenv, probes


def inspect(api, project, params, env):
    containers = compose.project_containers(api, project["project_name"])
    allowed = [o.strip() for o in env.get(params["setting"], "").split(",") if o.strip()]
    missing = [o for o in params["origins"] if o not in allowed and "*" not in allowed]
    problems = [
        "%s does not list %s in %s (检查 API CORS 设置)" % (params["env_file"], origin, params["setting"])
        for origin in missing
    ]
    apis, failing = {}, []
    for service in params["services"]:
        container = containers.get(service)
        if container is None or container.status != "running":
            apis[service] = {"error": "%s is not running" % service}
            problems.append("%s is not running: no preflight answer" % service)
            failing.append(service)
            continue
        answers = probes.probe_preflight(container, params["url"], params["origins"])
        for origin, answer in answers.items():
            answer["ok"] = bool(
                answer.get("code") and 200 <= answer["code"] < 300 and answer.get("allow_origin") in (origin, "*")
            )
            if not answer["ok"]:
                problems.append(
                    "%s: the preflight from %s answers %s with Access-Control-Allow-Origin %s"
                    % (
                        service,
                        origin,
                        answer.get("code") or answer.get("error"),
                        answer.get("allow_origin") or "missing",
                    )
                )
        apis[service] = answers
        if not all(a["ok"] for a in answers.values()):
            failing.append(service)
    return {
        "ok": not problems,
        "allowed_in_settings": allowed,
        "missing_from_settings": missing,
        "apis": apis,
        "failing_services": failing,
        "problems": problems,
    }


def main():
    argument_spec = dict(
        env_file=dict(type="path", required=True),
        services=dict(type="list", elements="str", default=["alldata-api"]),
        origins=dict(type="list", elements="str", default=["http://localhost:3000"]),
        url=dict(type="str", default="http://127.0.0.1:8080/api/v1/health"),
        setting=dict(type="str", default="CORS_ALLOWED_ORIGINS"),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    compose.require_docker(module)
    params = module.params
    bad = [o for o in params["origins"] if not o.startswith(("http://", "https://")) or "," in o or " " in o]
    if bad:
        module.fail_json(msg="not an origin (scheme://host[:port]): %s" % ", ".join(bad), ods_failure="input")
    api, project = compose.open_project(module)
    declared = project["declared_services"]
    unknown = [s for s in params["services"] if declared and s not in declared]
    if unknown:
        module.fail_json(
            msg="unknown service(s) %s in %s" % (", ".join(unknown), params["project_dir"]), ods_failure="input"
        )
    module.exit_json(changed=False, **inspect(api, project, params, dotenv.read(params["env_file"])))


if __name__ == "__main__":
    main()
