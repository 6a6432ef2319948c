"""`ods-fix sandbox`: the disposable stack on this machine (up, down, status, faults, break, heal, build)."""

from __future__ import annotations

import time

import click

from pyrunner import render
from pyrunner.cli.app import CONTEXT, cli

# --- the sandbox ------------------------------------------------------------------------------------


def _progress_line(message: str) -> None:
    click.echo(f"  {message}", err=True)


@cli.group(context_settings=CONTEXT)
def sandbox() -> None:
    """The disposable ONE-DATA-STUDIO stack on this machine: the default target, and what the tests break."""


@sandbox.command("up", context_settings=CONTEXT)
@click.option(
    "--services",
    metavar="S1,S2",
    help="Only these services or roles (database, cache, vector_store, data_api, agent_api, web, ...), and what "
    "they need. Default: all.",
)
@click.option(
    "--layout",
    type=click.Choice(["manual", "local"]),
    default=None,
    help="manual: the manual's names, one docker-compose.yml, deploy/.env (the default). local: laid out like a "
    "real ODS checkout's deploy/local (other names, container_name, an overlay and a profile, inline and "
    "interpolated settings, root and Redis passwords, slim API images, nginx:alpine's layout).",
)
@click.option(
    "--compose",
    type=click.Choice(["auto", "v1", "v2"]),
    default=None,
    help="Compose to create the stack with. Default: $ODS_FIX_COMPOSE, else v2 if installed, else v1.",
)
@click.option(
    "--port-offset",
    type=int,
    default=None,
    help="Add this to every published port (default 0: the manual's 8080, 3306, ...).",
)
@click.option("--project", default=None, help="Compose project name (default ods-sandbox).")
@click.option(
    "--mysql-disk-mb",
    type=click.IntRange(0),
    default=None,
    help="Put mysql's data on a filesystem of this size (tmpfs), so that it can fill up (0: normal volume).",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Start from nothing: first remove the sandbox there, its volumes too, and what an interrupted run of "
    "the same project left (as `sandbox down --project` does). Without it, an existing sandbox is started as it is.",
)
def sandbox_up(
    *,
    services: str | None,
    layout: str | None,
    compose: str | None,
    port_offset: int | None,
    project: str | None,
    mysql_disk_mb: int | None,
    fresh: bool,
) -> int:
    """Build the images (cached), create the sandbox directory and start the stack; waits until healthy."""
    from pyrunner.sandbox import stack  # noqa: PLC0415

    started = time.monotonic()
    if fresh:
        stack.down(log=_progress_line, project=project or stack.DEFAULT_PROJECT)
    wanted = [s.strip() for s in services.split(",") if s.strip()] if services else None
    instance = stack.up(
        wanted,
        compose=compose,
        port_offset=port_offset,
        project=project,
        mysql_disk_mb=mysql_disk_mb,
        layout=layout,
        log=_progress_line,
    )
    click.echo(
        f"sandbox up in {time.monotonic() - started:.0f}s: project {instance.project} (Compose "
        f"{instance.compose}, layout {instance.layout}) in {instance.directory}"
    )
    return 0


@sandbox.command("down", context_settings=CONTEXT)
@click.option(
    "--project",
    default=None,
    help="With no sandbox directory, still remove what this compose project left (a crashed run's containers).",
)
def sandbox_down(project: str | None) -> int:
    """Remove the stack, its volumes and the sandbox directory."""
    from pyrunner.sandbox import stack  # noqa: PLC0415

    removed = stack.down(log=_progress_line, project=project)
    click.echo(f"sandbox removed ({removed})" if removed else "no sandbox to remove")
    return 0


@sandbox.command("status", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
def sandbox_status(as_json: bool) -> int:
    """Show the sandbox's services and their state."""
    from pyrunner.sandbox import stack  # noqa: PLC0415

    state = stack.status()
    if as_json:
        render.print_json(state)
        return 0
    click.echo(
        f"project {state['project']} (Compose {state['compose']}, layout {state['layout']}) in {state['directory']}"
    )
    for service, info in state["services"].items():
        health = f" ({info['health']})" if info.get("health") else ""
        click.echo(f"  {service:<18} {info['status']}{health}")
    return 0


@sandbox.command("faults", context_settings=CONTEXT)
def sandbox_faults() -> int:
    """List the faults `sandbox break` can inject."""
    from pyrunner.sandbox import faults  # noqa: PLC0415

    for fault in faults.FAULTS:
        click.echo(f"{fault.name:<22} {fault.section}: {fault.description}")
    return 0


@sandbox.command("break", context_settings=CONTEXT)
@click.argument("names", nargs=-1, required=True, metavar="FAULT...")
def sandbox_break(names: tuple[str, ...]) -> int:
    """Inject one or more of the manual's faults (see `ods-fix sandbox faults`)."""
    from pyrunner.sandbox import faults  # noqa: PLC0415

    for line in faults.inject(list(names)):
        click.echo(line)
    return 0


@sandbox.command("heal", context_settings=CONTEXT)
def sandbox_heal() -> int:
    """Undo every injected fault: restore deploy/.env, recreate the services (data volumes kept)."""
    from pyrunner.sandbox import faults  # noqa: PLC0415

    for line in faults.heal(log=_progress_line):
        click.echo(line)
    return 0


@sandbox.command("build", context_settings=CONTEXT)
@click.option("--services", metavar="S1,S2", help="Only the images these services need. Default: all.")
def sandbox_build(services: str | None) -> int:
    """Build the sandbox images (cached: only what changed is rebuilt)."""
    from pyrunner.sandbox import images, stack  # noqa: PLC0415

    wanted = [s.strip() for s in services.split(",") if s.strip()] if services else None
    for result in images.build(stack.docker_client(), wanted, _progress_line):
        click.echo(f"{result.image:<32} {'built' if result.built else 'cached'} ({result.seconds:.0f}s)")
    return 0
