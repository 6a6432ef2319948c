#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: compose_network
short_description: Find, and create, the external networks a Compose project needs and the engine does not have
version_added: 0.1.0
description:
  - Compose never creates a network its files declare C(external). It looks it up, and every C(up) fails while it
    is missing. The module names each such network, the file and line that declare it, and the services on it.
  - A container made on such a network holds the network's id. Once the network is deleted (a C(docker network
    prune) while the stack was stopped), the container cannot start again until it is recreated, even after a
    network of that name is made again. The module names these containers too.
  - With O(create=true), it creates each missing network as C(docker network create NAME) does (driver bridge),
    labelled C(ods-fix.created-by=external-network) and with the project's name. It then returns the services to
    recreate (those made on the deleted network) and to start (the others on these networks that do not run).
  - A container whose own layer holds files that no volume keeps is not offered for a recreate; it is named in
    RV(held).
  - Nothing else is changed, and no network is ever removed. M(ods.fix.compose_service) does the recreate and the
    start.
  - Why not C(community.docker.docker_network)? The collection depends on no other collection. The module also
    needs the project's own view (which files declare the network, which containers hold the old id), which
    that module does not have.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.full
  - ods.fix.project
options:
  create:
    description: Create the missing networks (in check mode, say what would be created).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The external networks the stack needs and the engine lacks
  ods.fix.compose_network:
    project_dir: /home/dev/one-data-studio
  register: networks

- name: Create them
  ods.fix.compose_network:
    project_dir: /home/dev/one-data-studio
    create: true
"""

RETURN = r"""
ok:
  description: Every external network exists, and no container of the stack holds the id of one that was deleted.
  returned: success
  type: bool
problems:
  description: One line for each missing network and for each container made on a deleted one.
  returned: success
  type: list
  elements: str
missing:
  description: The external networks the engine did not have when the module started.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: The network's name in the engine., type: str}
    declared_in: {description: The compose file and line that declare it external., type: str}
    services: {description: The services on it., type: list}
    summary: {description: One line saying so., type: str}
stale:
  description: The containers made on an external network that is not the one of that name now.
  returned: success
  type: list
  elements: dict
  contains:
    service: {description: The service., type: str}
    container: {description: Its container., type: str}
    network: {description: The network., type: str}
    summary: {description: One line saying so., type: str}
recreate:
  description: With O(create), the services whose containers must be recreated to start.
  returned: success
  type: list
  elements: str
start:
  description: With O(create), the other services on these networks that do not run.
  returned: success
  type: list
  elements: str
held:
  description: Containers not to recreate blind, their own layer holding files no volume keeps, one line each.
  returned: success
  type: list
  elements: str
actions:
  description: What was done (in check mode, what would be).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, discovery, drift, networks

CREATED_BY = "ods-fix.created-by"


def main():
    module = compose.stack_module(dict(create=dict(type="bool", default=False)))
    api, project = compose.open_project(module)
    profile = project["profile"]
    external = profile.get("external_networks") or {}
    containers = compose.project_containers(api, profile["project"])
    existing = networks.engine_networks(api, external)
    missing = networks.missing(external, existing)
    stale = networks.stale(external, containers, existing)
    result = {"missing": missing, "stale": stale, "recreate": [], "start": [], "held": [], "actions": []}
    result["problems"] = [m["summary"] for m in missing] + [s["summary"] for s in stale]
    result["ok"] = not result["problems"]
    changed = False
    if module.params["create"] and not result["ok"]:
        for item in missing:
            if not module.check_mode:
                labels = {CREATED_BY: "external-network", "ods-fix.project": profile["project"]}
                api.networks.create(item["name"], driver="bridge", labels=labels)
            verb = "would create" if module.check_mode else "created"
            result["actions"].append(f"{verb} network {item['name']} (docker network create {item['name']})")
            changed = True
        if module.check_mode:  # every container on a network to be made holds another id than the new one's
            stale += [
                {"service": s, "container": containers[s].name, "network": m["name"]}
                for m in missing
                for s in m["services"]
                if s in containers and not any(x["service"] == s for x in stale)
            ]
        else:
            stale = networks.stale(external, containers, networks.engine_networks(api, external))
        for item in stale:
            held = drift.held_files(containers[item["service"]])
            if held:
                result["held"].append(
                    "{} holds {} file(s) in its own layer that a recreate would delete ({}): save them, then "
                    "recreate it".format(item["container"], len(held), ", ".join(held[:3]))
                )
            elif item["service"] not in result["recreate"]:
                result["recreate"].append(item["service"])
        on_them = sorted(set(s for item in external.values() for s in item["services"]))
        result["start"] = [
            s
            for s in on_them
            if s not in result["recreate"] and (s not in containers or containers[s].status != "running")
        ]
        result["start"] = [s for s in result["start"] if not any(s == x["service"] for x in stale)]
    # Dependencies first: an API recreated before its database would wait for a health it cannot reach.
    order = discovery.stack_services(profile)
    for key in ("recreate", "start"):
        result[key].sort(key=lambda s: (order.index(s) if s in order else len(order), s))
    module.exit_json(ansible_facts=compose.profile_facts(module), changed=changed, **result)


if __name__ == "__main__":
    main()
