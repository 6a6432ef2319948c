#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: milvus_health
short_description: The manual's Milvus checks (Milvus 连接失败), with what each finding means
version_added: 0.1.0
description:
  - The manual's three steps, C(docker-compose ps) of milvus-standalone, milvus-etcd and milvus-minio, the
    standalone's log, and C(from services import VectorStore; VectorStore().list_collections()) inside
    bisheng-api, plus each collection's row count.
  - Each component's health check is run now, not read from Docker's status, which lags both ways (a
    Milvus hung after losing etcd still shows healthy for up to interval x retries).
  - Checks the host and port in the settings file (检查配置中的 host 和 port) against the project. The host
    must name the Milvus service (or one of its network aliases), the port must be the one it listens on.
  - With O(wait_timeout), waits until the collections can be listed (a Milvus that just restarted).
  - Read-only.
extends_documentation_fragment:
  - ods.fix.project
options:
  env_file:
    description: The settings file the APIs read (deploy/.env).
    type: path
    required: true
  milvus_service:
    description: The Milvus service.
    type: str
    default: milvus-standalone
  dependencies:
    description: The services Milvus needs, in the order to bring them up.
    type: list
    elements: str
    default: [milvus-etcd, milvus-minio]
  milvus_port:
    description: The port Milvus listens on inside the project's network.
    type: int
    default: 19530
  host_key:
    description: The setting that names Milvus's host.
    type: str
    default: MILVUS_HOST
  port_key:
    description: The setting that names Milvus's port.
    type: str
    default: MILVUS_PORT
  client_service:
    description: The service in which the manual's C(VectorStore().list_collections()) runs.
    type: str
    default: bisheng-api
  wait_timeout:
    description: Seconds to keep trying to list the collections; 0 tries once.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
  idempotent:
    support: full
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Check Milvus | 检查 Milvus 状态
  ods.fix.milvus_health:
    project_dir: /home/dev/one-data-studio
  register: milvus
"""

RETURN = r"""
ok:
  description: Every component is healthy, the settings name Milvus, and the collections can be listed.
  returned: always
  type: bool
components:
  description: Service to its condition now (V(healthy), V(unhealthy), V(exited), V(missing), ...).
  returned: always
  type: dict
config:
  description: C(host), C(port) from the settings, C(expected_host), C(expected_port), C(problems).
  returned: always
  type: dict
collections:
  description: C(ok), C(names), C(rows) (collection to row count), or C(error).
  returned: always
  type: dict
log_errors:
  description: The last error lines of the Milvus log (the manual's C(logs milvus-standalone --tail=100)).
  returned: always
  type: list
  elements: str
problems:
  description: One line per problem.
  returned: always
  type: list
  elements: str
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, dockerexec, dotenv, probes, services
from ansible_collections.ods.fix.plugins.module_utils.redact import Redactor

# The manual's step 3, with each collection's row count; one JSON line out.
LIST_COLLECTIONS = r"""
import json
from services import VectorStore
vs = VectorStore()
names = vs.list_collections()
rows = {}
for name in names:
    try:
        rows[name] = vs.count(name)
    except Exception:
        rows[name] = None
print(json.dumps({"names": names, "rows": rows}))
"""


def aliases(container):
    found = set()
    for network in ((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).values():
        found.update(network.get("Aliases") or [])
    return found


def check_config(params, env, milvus):
    host, port = env.get(params["host_key"], ""), env.get(params["port_key"], "")
    expected_host, expected_port = params["milvus_service"], str(params["milvus_port"])
    names = {expected_host} | (aliases(milvus) if milvus is not None else set())
    problems = []
    if host not in names:
        problems.append(
            "%s sets %s=%s, but no service of the project answers to that name: Milvus is %s "
            "(检查配置中的 host)" % (params["env_file"], params["host_key"], host or "(empty)", expected_host)
        )
    if port != expected_port:
        problems.append(
            "%s sets %s=%s, but %s listens on %s (检查配置中的 port)"
            % (params["env_file"], params["port_key"], port or "(empty)", expected_host, expected_port)
        )
    return {
        "host": host,
        "port": port,
        "expected_host": expected_host,
        "expected_port": expected_port,
        "problems": problems,
    }


def list_collections(api, container):
    if container is None or container.status != "running":
        return {"ok": False, "error": "bisheng-api is not running"}
    try:
        result = dockerexec.exec_stdin(api, container, ["python", "-"], LIST_COLLECTIONS.encode(), timeout=30)
    except Exception as exc:  # a hung exec: the socket times out
        return {"ok": False, "error": "VectorStore().list_collections() did not answer: %s" % exc}
    if result.code != 0:
        return {"ok": False, "error": probes.exception_line(result.text)}
    try:
        found = json.loads(probes.last_line(result.stdout.decode("utf-8", "replace")))
    except ValueError:
        return {"ok": False, "error": probes.last_line(result.text)}
    return {"ok": True, "names": found["names"], "rows": found["rows"]}


def log_errors(container, lines=100):
    if container is None:
        return []
    text = container.logs(tail=lines).decode("utf-8", "replace")
    errors = [line.strip()[:300] for line in text.splitlines() if "[ERROR]" in line or "[error]" in line]
    return errors[-3:]


def inspect(api, project, params, env):
    containers = compose.project_containers(api, project["project_name"])
    milvus = containers.get(params["milvus_service"])
    components = {}
    for service in params["dependencies"] + [params["milvus_service"]]:
        components[service] = services.condition(containers.get(service), live=True)
    problems = [
        "%s is %s" % (service, state) for service, state in components.items() if state not in ("healthy", "running")
    ]
    config = check_config(params, env, milvus)
    problems.extend(config["problems"])
    deadline = time.monotonic() + params["wait_timeout"]
    listed = list_collections(api, containers.get(params["client_service"]))
    while not listed["ok"] and time.monotonic() < deadline and not config["problems"]:
        time.sleep(2)
        listed = list_collections(api, containers.get(params["client_service"]))
    if not listed["ok"]:
        problems.append(
            "the manual's VectorStore().list_collections() in %s fails: %s"
            % (params["client_service"], listed["error"])
        )
    return {
        "ok": not problems,
        "components": components,
        "config": config,
        "collections": listed,
        "log_errors": log_errors(milvus) if components[params["milvus_service"]] != "healthy" else [],
        "problems": problems,
    }


def main():
    argument_spec = dict(
        env_file=dict(type="path", required=True),
        milvus_service=dict(type="str", default="milvus-standalone"),
        dependencies=dict(type="list", elements="str", default=["milvus-etcd", "milvus-minio"]),
        milvus_port=dict(type="int", default=19530),
        host_key=dict(type="str", default="MILVUS_HOST"),
        port_key=dict(type="str", default="MILVUS_PORT"),
        client_service=dict(type="str", default="bisheng-api"),
        wait_timeout=dict(type="int", default=0),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    api, project = compose.open_project(module)
    declared = project["declared_services"]
    wanted = params["dependencies"] + [params["milvus_service"], params["client_service"]]
    unknown = [s for s in wanted if declared and s not in declared]
    if unknown:
        module.fail_json(
            msg="unknown service(s) %s: the compose file in %s has %s"
            % (", ".join(unknown), params["project_dir"], ", ".join(declared)),
            ods_failure="input",
        )
    if not os.path.isfile(params["env_file"]):
        module.fail_json(msg="the settings file %s does not exist" % params["env_file"], ods_failure="input")
    env = dotenv.read(params["env_file"])
    result = inspect(api, project, params, env)
    redactor = Redactor()
    redactor.add_env(env)
    module.exit_json(changed=False, **redactor.redact_obj(result))


if __name__ == "__main__":
    main()
