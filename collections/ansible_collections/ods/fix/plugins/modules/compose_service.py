#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: compose_service
short_description: Bring ONE-DATA-STUDIO compose services to a state, touching only what needs it
version_added: 0.1.0
description:
  - C(state=healthy) is the manual's "确认服务正在运行 / 重启服务", made convergent, start what is stopped,
    restart what is unhealthy, wait for what is starting, reconnect a container to the compose networks
    it lost, leave healthy services alone, then wait until each is healthy.
  - Services are handled in the order given, so dependencies can come first (milvus-etcd before
    milvus-standalone, mysql before the APIs).
  - Works for projects created by Compose v1 and v2 alike, through the labels both set. Only a service
    with no container at all needs the Compose CLI; the module then uses the flavor that created the project.
  - community.docker's C(docker_compose_v2) manages v2 projects only, and restarts on request rather than
    on condition; C(docker_container) would recreate containers whose configuration it cannot see.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
options:
  services:
    description: The services, by their names in the compose file, in the order to handle them.
    type: list
    elements: str
    default: []
  roles:
    description:
      - The services by the role they play in the stack (see M(ods.fix.stack_profile)), handled after
        O(services), in this order. V(apis) is every API; a role no service plays is skipped.
    type: list
    elements: str
    choices: [database, cache, vector_store, vector_meta, vector_object, web, data_api, agent_api, apis]
    default: []
  state:
    description:
      - V(healthy) starts, restarts or reconnects only what is not healthy.
      - V(started) starts what is not running.
      - V(restarted) restarts every service given (a change by nature).
      - V(recreated) recreates every service given with the compose files, project name and profiles that made
        it, so that it starts with its settings as they are written now (a C(docker restart) keeps the
        environment a container was created with); a change by nature.
      - V(stopped) stops what is running.
      - V(rebuilt) runs the manual's C(docker-compose build SERVICE) with the Compose that created the
        project, then recreates the container from the new image (a change by nature).
      - V(paused) freezes what runs (C(docker pause), the manual's 暂停受影响服务); memory and processes are kept.
      - V(disconnected) cuts each container off every network and leaves its processes running, for forensics
        (疑似入侵 隔离); its published ports stop answering too.
    type: str
    choices: [healthy, started, restarted, recreated, stopped, rebuilt, paused, disconnected]
    default: healthy
  wait_timeout:
    description: Seconds to wait for each service to become healthy.
    type: int
    default: 120
  reconnect_networks:
    description: Reconnect a running container to compose networks it was disconnected from.
    type: bool
    default: true
  probe_urls:
    description:
      - Per service, an HTTP URL as seen inside its container. An API's default is its health URL, as the
        profile found it.
      - For these services, healthy means the URL answers below 500 now, rather than Docker's health
        status, which lags a dependency's recovery (and, where a healthcheck tests a tool the image lacks,
        is wrong); an API whose database just came back is then left alone.
    type: dict
    default: {}
  live_health:
    description:
      - Roles whose own health check is run now even when Docker says healthy. Docker's status lags
        both ways; a Milvus that hangs after losing etcd still shows healthy for up to interval x retries.
    type: list
    elements: str
    default: []
  parallel:
    description:
      - The services do not depend on each other (the APIs, stopped and started around a restore's swap). Each
        is handled on a thread of its own, so they stop, start and become healthy at the same time. Only for
        the states that need no Compose CLI.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reports what it would do (C(would restart mysql ...)) and does nothing.
  idempotent:
    support: full
    details: Except for O(state=restarted), a second run changes nothing.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Make sure mysql runs and is healthy | 确认 MySQL 正在运行
  ods.fix.compose_service:
    project_dir: /home/dev/one-data-studio
    roles: [database]
    state: healthy
  register: mysql_state
"""

RETURN = r"""
actions:
  description: What was done (or, in check mode, what would be), one line each.
  returned: always
  type: list
  elements: str
services:
  description: Per service, C(before) and C(after) conditions, C(ok), C(actions), C(error).
  returned: always
  type: dict
ods_failure:
  description: V(input) when the failure is the target's configuration (no engine, no project).
  returned: on such failures
  type: str
"""

import concurrent.futures

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, services

ROLE_CHOICES = [
    "database",
    "cache",
    "vector_store",
    "vector_meta",
    "vector_object",
    "web",
    "data_api",
    "agent_api",
    "apis",
]


def wanted(module, profile):
    """The services to handle: those named, then those of the roles asked for, each once, in order."""
    params = module.params
    compose.check_services(module, profile, params["services"])
    names = list(params["services"])
    for role in params["roles"]:
        found = compose.role_apis(module, profile, False) if role == "apis" else [profile["roles"].get(role)]
        names.extend(s for s in found if s and s not in names)
    return names


def main():
    argument_spec = dict(
        services=dict(type="list", elements="str", default=[]),
        roles=dict(type="list", elements="str", default=[], choices=ROLE_CHOICES),
        state=dict(type="str", default="healthy", choices=list(services.STATES)),
        wait_timeout=dict(type="int", default=120),
        reconnect_networks=dict(type="bool", default=True),
        probe_urls=dict(type="dict", default={}),
        live_health=dict(type="list", elements="str", default=[]),
        parallel=dict(type="bool", default=False),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    names = wanted(module, profile)
    needs_cli = params["state"] in ("rebuilt", "recreated") or any(s not in project["services"] for s in names)
    clis = compose.compose_clis() if needs_cli else {}
    cli = clis.get(project["compose_flavor"] or "v2") or clis.get("v1")
    live = set(profile["roles"].get(role) for role in params["live_health"])
    moving = params["state"] not in ("stopped", "paused", "disconnected") and not module.check_mode
    before = services.addresses(api, profile, names) if moving else {}
    results, actions = {}, []

    def one(service):
        entry = profile["services"].get(service) or {}
        probe_url = params["probe_urls"].get(service) or (
            entry.get("health_url") if entry.get("role") == "api" else None
        )
        try:
            return services.ensure(
                api,
                profile,
                service,
                params["state"],
                check_mode=module.check_mode,
                cli=cli,
                wait=params["wait_timeout"],
                networks=params["reconnect_networks"],
                probe_url=probe_url,
                live=service in live,
            )
        except compose.ProjectError as exc:
            return {"service": service, "ok": False, "changed": False, "actions": [], "error": str(exc)}

    if params["parallel"] and not needs_cli and len(names) > 1:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
            outcomes = list(pool.map(one, names))
    else:
        outcomes = []
        for service in names:  # in order: a failure stops the rest (a dependency that did not come up)
            outcomes.append(one(service))
            if not outcomes[-1]["ok"]:
                break
    for outcome in outcomes:
        results[outcome["service"]] = outcome
        actions.extend(outcome["actions"])
    failed = [outcome for outcome in outcomes if not outcome["ok"]]
    if failed:
        module.fail_json(
            msg="; ".join(o.get("error") or "{} is {}".format(o["service"], o.get("after")) for o in failed),
            changed=any(r["changed"] for r in results.values()),
            actions=actions,
            services=results,
        )
    if before and any(r["changed"] for r in results.values()):
        actions.extend(services.reload_front_end(api, profile, before))
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=any(r["changed"] for r in results.values()),
        actions=actions,
        services=results,
    )


if __name__ == "__main__":
    main()
