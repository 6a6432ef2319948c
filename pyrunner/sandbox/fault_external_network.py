"""The fault `ods-fix sandbox break external-network`: the stack's network declared `external`, then deleted while
the stack was stopped.

As a user's stack gets there: the compose files declare the network external (the manual layout's own file; in the
other, an overlay, as ODS's monitoring overlay declares `one-data-network`), the user once made it by hand and
started the stack on it, then stopped the stack, and `docker network prune` deleted the network. Now every `up`
fails ("declared as external, but could not be found"), and the stopped containers hold the deleted network's id.
The network's name is the project's own (`<project>-shared`), so that two sandboxes never share one.
"""

from __future__ import annotations

from typing import Any

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import compose as compose_mod
from pyrunner.sandbox import layouts, stack

NAME = "external-network"
ROLE = "data_api"
SECTION = "外部网络缺失 (an external network the compose files need is missing)"
DESCRIPTION = "the stack's network declared external in the compose files, then deleted while the stack was stopped"

MANUAL_NETWORKS = "networks:\n  ods: {}\n"  # the end of the manual layout's docker-compose.yml
OVERLAY = "docker-compose.llmops.yml"  # the other layout's overlay, which gets the declaration


def declaration(key: str, name: str) -> str:
    return f"networks:\n  {key}:\n    external: true\n    name: {name}\n"


def inject(container: Any) -> str:
    instance = stack.require_instance()
    client = stack.docker_client()
    name = f"{instance.project}-shared"
    for leftover in client.networks.list(names=[name]):
        if leftover.name == name:
            leftover.remove()
    if instance.spec.name == layouts.MANUAL.name:
        path = instance.compose_dir / "docker-compose.yml"
        text = path.read_text()
        if MANUAL_NETWORKS not in text:
            raise OdsFixError(f"{NAME}: {path} has not the networks lines this fault edits")
        path.write_text(text.replace(MANUAL_NETWORKS, declaration("ods", name)))
    else:
        path = instance.compose_dir / OVERLAY
        path.write_text(path.read_text().rstrip("\n") + "\n\n" + declaration("one-data-network", name))
    # Made by hand, as the project's README would have said; labelled so that `sandbox down` removes what is left.
    client.networks.create(name, driver="bridge", labels={"ods-fix.project": instance.project})
    cli = compose_mod.detect(instance.compose)
    running = sorted(s for s, c in stack.project_containers(client, instance.project).items() if c.status == "running")
    for args in (["up", "-d", "--no-build", "--force-recreate", *running], ["stop"]):
        result = instance.run_compose(cli, *args)
        if result.returncode != 0:
            raise OdsFixError(f"{NAME}: compose {args[0]} failed: {stack._last_line(result.stderr)}")
    client.networks.get(name).remove()  # what `docker network prune` does to a network no running container uses
    refused = instance.run_compose(cli, "up", "-d", "--no-build", *running)
    if refused.returncode == 0 or "could not be found" not in refused.stderr:
        raise OdsFixError(f"{NAME}: compose up did not fail on the missing network: {stack._last_line(refused.stderr)}")
    return (
        f"network {name} declared external in {path}, the stack stopped, the network deleted: {len(running)} "
        f"services cannot start ({stack._last_line(refused.stderr)})"
    )
