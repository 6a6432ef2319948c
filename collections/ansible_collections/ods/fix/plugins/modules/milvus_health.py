#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: milvus_health
short_description: The manual's Milvus checks (Milvus 连接失败), with what each finding means
version_added: 0.1.0
description:
  - The manual's three steps, C(docker-compose ps) of Milvus, its etcd and its MinIO (the manual's
    milvus-standalone, milvus-etcd and milvus-minio; whatever the stack calls them), Milvus's log, and
    C(from services import VectorStore; VectorStore().list_collections()) inside the agent API (the manual's
    bisheng-api; under /app/src too), plus each collection's row count.
  - Each component's health check is run now, not read from Docker's status, which lags both ways (a
    Milvus hung after losing etcd still shows healthy for up to interval x retries).
  - Checks the C(MILVUS_HOST) and C(MILVUS_PORT) the agent API runs with (检查配置中的 host 和 port) against
    the project, and says where they are written. The host must name the Milvus service (or one of its
    network aliases), the port must be the one it listens on.
  - With O(wait_timeout), waits until the collections can be listed (a Milvus that just restarted).
  - Read-only.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.full
  - ods.fix.project
options:
  wait_timeout:
    description: Seconds to keep trying to list the collections; 0 tries once.
    type: int
    default: 0
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
  description: The agent API's MILVUS_HOST and MILVUS_PORT against the project's Milvus.
  returned: always
  type: dict
  contains:
    host:
      description: MILVUS_HOST as the settings give it.
      type: str
    port:
      description: MILVUS_PORT as the settings give it.
      type: str
    expected_host:
      description: The Milvus service of the project.
      type: str
    expected_port:
      description: The port it listens on.
      type: str
    problems:
      description: One line per setting that names something else, with where it is written.
      type: list
      elements: str
collections:
  description: The manual's VectorStore().list_collections() inside the agent API.
  returned: always
  type: dict
  contains:
    ok:
      description: The collections could be listed.
      type: bool
    names:
      description: The collections.
      type: list
      elements: str
    rows:
      description: Collection to its row count.
      type: dict
    error:
      description: Why they could not be listed.
      type: str
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
import time

from ansible_collections.ods.fix.plugins.module_utils.stack import (
    compose,
    credentials,
    discovery,
    docker_exec,
    probes,
    services,
    settings,
)

# The manual's step 3, with each collection's row count; one JSON line out.
LIST_COLLECTIONS = r"""
import json, sys
sys.path[:0] = ["/app/src", "/app"]
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


HOST_KEY = "MILVUS_HOST"
PORT_KEY = "MILVUS_PORT"


def check_config(profile, client, values, milvus):
    """The MILVUS_HOST/MILVUS_PORT the client API runs with, against the Milvus service and its port."""
    service = profile["roles"]["vector_store"]
    host, port = values.get(HOST_KEY) or "", values.get(PORT_KEY) or ""
    expected_port = str(profile["services"][service].get("port") or 19530)
    names = {service} | (aliases(milvus) if milvus is not None else set())
    problems = []
    for key, value, right, what in (
        (HOST_KEY, host, host in names, "host"),
        (PORT_KEY, port, port == expected_port, "port"),
    ):
        if not right:
            origin = discovery.describe_setting(profile, client, key) or "its environment"
            problems.append(
                "{} runs with {}={} ({}), but {} (检查配置中的 {})".format(
                    client,
                    key,
                    value or "(empty)",
                    origin,
                    f"no service of the project answers to that name: Milvus is {service}"
                    if what == "host"
                    else f"{service} listens on {expected_port}",
                    what,
                )
            )
    return {"host": host, "port": port, "expected_host": service, "expected_port": expected_port, "problems": problems}


def list_collections(api, container, name):
    if container is None or container.status != "running":
        return {"ok": False, "error": f"{name} is not running"}
    try:
        result = docker_exec.exec_stdin(api, container, ["python", "-"], LIST_COLLECTIONS.encode(), timeout=30)
    except Exception as exc:  # a hung exec: the socket times out
        return {"ok": False, "error": f"VectorStore().list_collections() did not answer: {exc}"}
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


def client_api(profile):
    """The API that reaches Milvus through VectorStore: the agent API, else the first API with MILVUS_HOST."""
    if profile["roles"].get("agent_api"):
        return profile["roles"]["agent_api"]
    with_host = [a for a in profile["roles"]["apis"] if HOST_KEY in settings.origins(profile, a)]
    return with_host[0] if with_host else None


def inspect(api, profile, params):
    containers = compose.project_containers(api, profile["project"])
    roles = profile["roles"]
    milvus = containers.get(roles["vector_store"])
    components = {}
    for role in ("vector_meta", "vector_object", "vector_store"):
        if roles.get(role):
            components[roles[role]] = services.condition(containers.get(roles[role]), live=True)
    problems = [f"{service} is {state}" for service, state in components.items() if state not in ("healthy", "running")]
    client = client_api(profile)
    config = {"problems": []}
    listed = {"ok": False, "error": "no API of the stack reaches Milvus (none has MILVUS_HOST)"}
    if client:
        values = settings.current(profile, client, containers.get(client))
        config = check_config(profile, client, values, milvus)
        problems.extend(config["problems"])
        deadline = time.monotonic() + params["wait_timeout"]
        listed = list_collections(api, containers.get(client), client)
        while not listed["ok"] and time.monotonic() < deadline and not config["problems"]:
            time.sleep(2)
            listed = list_collections(api, compose.project_containers(api, profile["project"]).get(client), client)
    if not listed["ok"]:
        problems.append("the manual's VectorStore().list_collections() in {} fails: {}".format(client, listed["error"]))
    return {
        "ok": not problems,
        "client": client,
        "components": components,
        "config": config,
        "collections": listed,
        "log_errors": log_errors(milvus) if components.get(roles["vector_store"]) != "healthy" else [],
        "problems": problems,
    }, containers


def main():
    argument_spec = dict(wait_timeout=dict(type="int", default=0))
    module = compose.stack_module(argument_spec)
    params = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    compose.role_service(module, profile, "vector_store")
    result, containers = inspect(api, profile, params)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=False,
        **credentials.redactor(profile, containers).redact_obj(result),
    )


if __name__ == "__main__":
    main()
