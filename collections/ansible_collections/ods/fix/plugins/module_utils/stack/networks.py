# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The external networks a stack's compose files need.

Compose never creates a network declared `external`: it only looks it up, and every `up` fails while it is
missing ("declared as external, but could not be found"). A container made on such a network holds its id: once
the network is deleted (a `docker network prune` while the stack was stopped), the container cannot start again,
not even after a network of the same name is made, until it is recreated.

Stdlib only: the profile's external networks, the engine's networks and the containers' attributes come in.
"""

UNDONE = "Compose refuses every `up`: declared as external, but could not be found"


def missing(external, existing):
    """[{name, declared_in, services, summary}] for each external network the engine does not have.

    external: the profile's {name: {declared_in, services}}; existing: {name: id} of the engine's networks.
    """
    found = []
    for name, item in sorted(external.items()):
        if name in existing:
            continue
        where = f", declared external at {item['declared_in']}," if item.get("declared_in") else ""
        found.append(
            {
                "name": name,
                "declared_in": item.get("declared_in") or "",
                "services": list(item["services"]),
                "summary": "network {}{} does not exist: {} cannot start ({})".format(
                    name, where, ", ".join(item["services"]), UNDONE
                ),
            }
        )
    return found


def stale(external, containers, existing):
    """[{service, container, network, summary}] for each container made on an external network that is not the
    one of that name now (deleted since, and perhaps made again): it cannot start until it is recreated.

    containers: {service: container}; existing: {name: id}, after any network was created.
    """
    found = []
    for name, item in sorted(external.items()):
        for service in item["services"]:
            container = containers.get(service)
            if container is None:
                continue
            settings = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
            held = (settings.get(name) or {}).get("NetworkID")
            if held and held != existing.get(name):
                found.append(
                    {
                        "service": service,
                        "container": container.name,
                        "network": name,
                        "summary": f"{container.name} was made on network {name}, which was deleted since: it cannot "
                        "start until it is recreated",
                    }
                )
    return found


def engine_networks(api, names):
    """{name: id} of the engine's networks of exactly these names (its own filter also matches parts of names)."""
    if not names:
        return {}
    return dict((n.name, n.id) for n in api.networks.list(names=list(names)) if n.name in names)


def by_network(external, containers, existing):
    """{name: {name, declared_in, services, summary}}: each external network missing, or whose containers hold the
    id of one deleted since (the network made again by hand), with the services it keeps from starting."""
    found = dict((item["name"], item) for item in missing(external, existing))
    held = {}
    for item in stale(external, containers, existing):
        held.setdefault(item["network"], []).append(item)
    for name, items in sorted(held.items()):
        if name not in found:  # a missing network's containers are named by its own line, and recreated by its fix
            found[name] = {
                "name": name,
                "declared_in": external[name].get("declared_in") or "",
                "services": [item["service"] for item in items],
                "summary": "; ".join(item["summary"] for item in items),
            }
    return found
