# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Bring compose services to a wanted state, touching only what needs it.

"Ensure healthy" starts what is stopped, restarts what is unhealthy, waits
for what is starting, reconnects what lost its networks, and leaves healthy
services alone, so a second run is a no-op. Works through the Docker engine
and the compose labels; only a service with no container at all needs the
Compose CLI (of the flavor that created the project).
"""

import re
import subprocess
import time

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, docker_exec, probes

STATES = ("healthy", "started", "restarted", "recreated", "stopped", "rebuilt", "paused", "disconnected")
NOT_RUNNING = ("missing", "exited", "created", "dead")


def own_health_check(container):
    """Run the container's own HEALTHCHECK command now: True/False, or None when it has none.

    Docker runs it only every `interval` seconds (the first time one interval
    after the start), so its status lags: a service that just came back, or
    whose dependency just did, would wait for nothing.
    """
    check = (container.attrs.get("Config") or {}).get("Healthcheck") or {}
    test = check.get("Test") or []
    if not test or test[0] == "NONE":
        return None
    argv = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
    timeout = (check.get("Timeout") or 30 * 10**9) / 10.0**9
    try:
        result = docker_exec.exec_stdin(container.client, container, argv, timeout=timeout + 2)
    except Exception:  # the container stopped meanwhile, or the check hung: not healthy now
        return False
    if result.code in (126, 127):
        return None  # the check's program is not in the image (curl in a slim image): it says nothing
    return result.code == 0


def condition(container, probe_url=None, live=False):
    """One word for a container: healthy, unhealthy, starting, running (no healthcheck), exited, ...

    With probe_url (an HTTP URL as seen inside the container) a running
    container's health is what that URL answers now (below 500: healthy).
    Otherwise, when Docker does not (yet) say healthy, or always with live,
    the container's own health check is run now: Docker's status lags by up
    to interval x retries, both ways.
    """
    if container is None:
        return "missing"
    container.reload()
    state = container.attrs.get("State", {})
    status = state.get("Status", container.status)
    if status != "running":
        return status  # exited, created, paused, restarting, dead
    if probe_url:
        try:
            code = probes.probe_api(container, {}, probe_url).get("code")
        except (RuntimeError, ValueError):
            code = None
        return "healthy" if code and code < 500 else "unhealthy"
    health = (state.get("Health") or {}).get("Status")
    if health in ("starting", "unhealthy") or (live and health):
        own = own_health_check(container)
        if own is not None:
            return "healthy" if own else health
        if compose.broken_healthcheck(state):
            return "running"
    return health or "running"


def plan(current, wanted):
    """(action, reason) to get from condition `current` to state `wanted`; action None when nothing to do."""
    if wanted == "stopped":
        if current in NOT_RUNNING:
            return None, "not running"
        return "stop", f"it is {current}"
    if wanted == "paused":
        if current in NOT_RUNNING or current == "paused":
            return None, "it is %s" % ("not running" if current != "paused" else "paused already")
        return "pause", f"it is {current}"
    if wanted == "rebuilt":
        return "rebuild", "a rebuild was asked for"
    if wanted == "recreated":
        return "recreate", "its environment is fixed when it is created: a restart would not read its new settings"
    if current == "missing":
        return "create", "it has no container"
    if wanted == "restarted":
        return "restart", "a restart was asked for"
    if current in ("exited", "created", "dead"):
        return "start", f"it is {current}"
    if current == "paused":
        return "unpause", "it is paused"
    if wanted == "healthy" and current in ("unhealthy", "restarting"):
        return "restart", f"it is {current}"
    if current == "starting":
        return "wait", "its health check is still starting"
    return None, f"it is {current}"


def attached_networks(container):
    networks = ((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys()
    return sorted(name for name in networks if name not in ("none", "host"))


def disconnect(api, container, service, check_mode):
    """Cut a container off every network, its processes left running (for forensics); returns the actions."""
    verb = "would " if check_mode else ""
    actions = []
    for network in attached_networks(container):
        actions.append(
            f"{verb}disconnect {service} from network {network} (its processes keep running; reconnect: docker network "
            f"connect --alias {service} {network} {container.name})"
        )
        if not check_mode:
            api.networks.get(network).disconnect(container)
    return actions


def missing_networks(api, container, profile, service):
    wanted = compose.declared_networks(profile, service)
    if not wanted:
        return []
    attached = set(((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys())
    existing = set(n.name for n in api.networks.list(names=wanted))
    return [name for name in wanted if name not in attached and name in existing]


def stop_timeout(container):
    return (container.attrs.get("Config") or {}).get("StopTimeout") or 10


def run_cli(argv, timeout, cwd=None):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        raise compose.ProjectError("`{}` failed: {}".format(" ".join(argv), lines[-1] if lines else "no output"))


def create_with_cli(profile, service, cli):
    """`compose up -d --no-deps SERVICE` with the files, project and profiles that made the stack."""
    if not cli:
        raise compose.ProjectError(f"{service} has no container and no Compose CLI is installed to create it")
    run_cli(
        [*compose.compose_argv(profile, cli), "up", "-d", "--no-deps", "--no-build", service],
        600,
        profile["working_dir"],
    )


def addresses(api, profile, names):
    """{service: [(network, IP)]} of these services' containers now (None where there is no container)."""
    containers = compose.project_containers(api, profile["project"])
    found = {}
    for name in names:
        container = containers.get(name)
        networks = ((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}) if container else None
        found[name] = None if networks is None else sorted((n, v.get("IPAddress") or "") for n, v in networks.items())
    return found


def reload_front_end(api, profile, before):
    """[action]: nginx reloaded when an API behind it came back at another address.

    nginx resolves the host names of its upstreams when it starts or reloads, not per request: an API that
    was recreated or restarted at a new address gets the old one's traffic, and /api answers 502. A reload
    is graceful (open connections finish), so it is done whenever an address changed. before: addresses().
    """
    web = profile["roles"].get("web")
    entry = profile["services"].get(web) or {}
    if not web or web in before or entry.get("flavor") != "nginx":
        return []
    after = addresses(api, profile, list(before))
    moved = [
        s
        for s in sorted(before)
        if (profile["services"].get(s) or {}).get("role") == "api"
        and after.get(s)
        and any(ip for _n, ip in after[s])
        and before[s] != after[s]
    ]
    container = compose.project_containers(api, profile["project"]).get(web) if moved else None
    if container is None or container.status != "running":
        return []
    code, output = container.exec_run(["nginx", "-s", "reload"])
    if code != 0:
        lines = [line for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
        return ["could not reload {}'s nginx ({}): restart it".format(web, lines[-1] if lines else f"exit {code}")]
    return [
        "reloaded {}'s nginx: {} came back at another address, which nginx resolves only when it (re)loads".format(
            web, ", ".join(moved)
        )
    ]


def recreate_with_cli(profile, services, cli):
    """Recreate containers so they start with their settings as the files give them now (a restart would not)."""
    if not cli:
        raise compose.ProjectError("no Compose CLI is installed to recreate {}".format(", ".join(services)))
    argv = [*compose.compose_argv(profile, cli), "up", "-d", "--no-deps", "--no-build", "--force-recreate"]
    run_cli([*argv, *services], 600, profile["working_dir"])


def rebuild_with_cli(profile, service, cli):
    """The manual's `docker-compose build SERVICE`, then the container recreated from the new image."""
    if not cli:
        raise compose.ProjectError(f"no Compose CLI is installed to rebuild {service}")
    base = compose.compose_argv(profile, cli)
    run_cli([*base, "build", service], 1800, profile["working_dir"])
    run_cli([*base, "up", "-d", "--no-deps", "--no-build", "--force-recreate", service], 600, profile["working_dir"])


def wait_healthy(container, timeout, probe_url=None, live=False):
    """(ok, condition) once running and healthy (or running without a health check), or at the timeout."""
    deadline = time.monotonic() + timeout
    pause = 0.25
    current = condition(container, probe_url, live)
    while current not in ("healthy", "running") and time.monotonic() < deadline:
        if current in ("exited", "dead"):
            break
        # Each look may run a probe in the container: looked at often at first, then less, so that a slow start
        # (a busy machine) is not made slower by the looking.
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 2.0)
        current = condition(container, probe_url, live)
    return current in ("healthy", "running"), current


ERROR_LINE = re.compile(r"error|fatal|exception|panic|refus|denied", re.IGNORECASE)


def log_tail(container, lines=20, profile=None):
    """Why it died, from its log: the last error line among the last `lines`, else the last 3 lines; redacted
    (the stack's settings values and every container's secrets, then URL credentials and password pairs), for it
    goes into messages, reports and audit logs."""
    try:
        text = container.logs(tail=lines).decode("utf-8", "replace")
    except Exception:  # the container may be gone; the tail is only a hint
        return ""
    tail = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in tail if ERROR_LINE.search(line)]
    found = errors[-1] if errors else " | ".join(tail[-3:])
    return log_redactor(container, profile).redact(found)


def log_redactor(container, profile=None):
    from ansible_collections.ods.fix.plugins.module_utils.stack import credentials  # noqa: PLC0415

    if profile is not None:
        try:
            return credentials.redactor(profile, compose.project_containers(container.client, profile["project"]))
        except Exception:  # the stack as it is now: a partial redactor is better than none
            pass
    from ansible_collections.ods.fix.plugins.module_utils.security.redact import Redactor  # noqa: PLC0415

    found = Redactor()
    found.add_env(compose.container_env(container))
    found.add_commands(compose.container_commands(container))
    return found


def act(api, profile, service, container, action, cli):
    """Do one action on a service's container; returns the container (new for create, rebuild, recreate)."""
    project = profile["project"]
    if action == "create":
        create_with_cli(profile, service, cli)
    elif action == "rebuild":
        rebuild_with_cli(profile, service, cli)
    elif action == "recreate":
        recreate_with_cli(profile, [service], cli)
    elif action == "start":
        container.start()
    elif action == "unpause":
        container.unpause()
    elif action == "restart":
        container.restart(timeout=stop_timeout(container))
    elif action == "stop":
        container.stop(timeout=stop_timeout(container))
    elif action == "pause":
        container.pause()
    if action in ("create", "rebuild", "recreate"):
        return compose.project_containers(api, project).get(service)
    return container


def ensure(
    api,
    profile,
    service,
    wanted,
    *,
    check_mode,
    cli=None,
    wait=120,
    networks=True,
    probe_url=None,
    live=False,
):
    """Bring one service to `wanted`; returns {service, before, after, actions: [str], ok, changed}."""
    project = profile["project"]
    containers = compose.project_containers(api, project)
    container = containers.get(service)
    before = condition(container, probe_url, live)
    result = {"service": service, "before": before, "after": before, "actions": [], "ok": True, "changed": False}
    if wanted == "disconnected":
        result["actions"] = disconnect(api, container, service, check_mode) if container is not None else []
        result["changed"] = bool(result["actions"])
        if not result["actions"]:
            result["note"] = f"{service}: nothing to do (on no network)"
        return result
    action, reason = plan(before, wanted)
    lost = []
    if container is not None and wanted not in ("stopped", "paused") and networks:
        lost = missing_networks(api, container, profile, service)
    if action in (None, "wait") and not lost:
        if action == "wait" and not check_mode:
            result["ok"], result["after"] = wait_healthy(container, wait, probe_url, live)
        result["note"] = f"{service}: nothing to do ({reason})"
        return result
    verb = "would " if check_mode else ""
    for network in lost:
        result["actions"].append(f"{verb}reconnect {service} to network {network} (alias {service})")
        if not check_mode:
            api.networks.get(network).connect(container, aliases=[service])
    if action and action != "wait":
        result["actions"].append(f"{verb}{action} {service} ({reason})")
        if not check_mode:
            container = act(api, profile, service, container, action, cli)
    result["changed"] = True
    if check_mode:
        return result
    if wanted in ("stopped", "paused"):
        result["after"] = condition(container)
        return result
    if lost and action in (None, "wait"):
        # Reconnected to its network: its own health is what it was.
        result["after"] = condition(container)
        return result
    result["ok"], result["after"] = wait_healthy(container, wait, probe_url, live)
    if not result["ok"]:
        result["error"] = "{} is {} after {}; its log: {}".format(
            service,
            result["after"],
            action,
            log_tail(container, profile=profile),
        )
    return result
