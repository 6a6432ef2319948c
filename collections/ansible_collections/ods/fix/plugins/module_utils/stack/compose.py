# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""A compose project seen through the Docker engine, for Compose v1 and v2 alike.

Both versions label their containers with com.docker.compose.project and
com.docker.compose.service, so working through the labels needs neither CLI
and cannot be confused by which one created the project. The label
com.docker.compose.version tells which one did.

Every module opens the project through open_project: it discovers the stack's
profile (discovery.py) once per run. The first module of a run returns the
profile as the fact ``ods_profile`` (each module's exit_json passes
``ansible_facts=profile_facts(module)``), and the roles hand it to the next
modules (``module_defaults``), which then only list the project's containers.
"""

import atexit
import os
import re
import threading
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.ods.fix.plugins.module_utils import project_lock
from ansible_collections.ods.fix.plugins.module_utils.stack import compose_lookup, discovery

try:
    import docker
    from docker.errors import DockerException

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):
        pass


PROJECT_LABEL = compose_lookup.PROJECT_LABEL
SERVICE_LABEL = compose_lookup.SERVICE_LABEL
project_containers = compose_lookup.project_containers
compose_flavor = compose_lookup.project_flavor

PROJECT_ARGS = dict(
    project_dir=dict(type="path", required=True),
    project_name=dict(type="str", default=""),
    docker_host=dict(type="str", default=""),
    stack_roles=dict(type="dict", default={}),
    profile=dict(type="dict", default={}),
    profile_services=dict(type="list", elements="str", default=[]),
    env_file=dict(type="path", default=""),
    db_root_password_file=dict(type="path", default=""),
    lock_token=dict(type="str", default="", no_log=False),
)


class ProjectError(Exception):
    """A problem with the target's engine or project that the user must fix; one line."""


def client(docker_host=""):
    if not HAS_DOCKER:
        raise ProjectError("the Python 'docker' library is missing on the target (apt-get install python3-docker)")
    try:
        api = docker.DockerClient(base_url=docker_host, timeout=60) if docker_host else docker.from_env(timeout=60)
        api.ping()
    except (DockerException, OSError) as exc:
        where = docker_host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        raise ProjectError(f"cannot reach the Docker engine at {where} ({exc}): is dockerd running?") from exc
    return api


def container_env(container):
    """The container's environment (Config.Env) as a dict."""
    env = (container.attrs.get("Config") or {}).get("Env") or []
    return dict(item.split("=", 1) for item in env if "=" in item)


def container_commands(container):
    """The command lines a container runs with, as argv lists: its entrypoint and command, and its health check."""
    config = container.attrs.get("Config") or {}
    lines = [list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])]
    test = list((config.get("Healthcheck") or {}).get("Test") or [])
    if test and test[0] in ("CMD", "CMD-SHELL"):
        lines.append(test[1:])
    return [line for line in lines if line]


def compose_clis():
    """The Compose CLIs on this machine: {'v1': [...argv], 'v2': [...argv]}."""
    return {found: argv for found, (argv, _version) in compose_lookup.installed_clis().items()}


MISSING_PROGRAM = re.compile(r"executable file not found|: not found|No such file or directory", re.IGNORECASE)


def broken_healthcheck(state):
    """The program its healthcheck runs is not in the image (curl in a slim image): Docker's status says nothing."""
    log = (state.get("Health") or {}).get("Log") or []
    last = log[-1] if log else {}
    return bool(last) and (last.get("ExitCode") == 127 or bool(MISSING_PROGRAM.search(last.get("Output") or "")))


def summarize(container):
    state = container.attrs.get("State", {})
    health = (state.get("Health") or {}).get("Status")
    if health == "unhealthy" and broken_healthcheck(state):
        health = "unknown (its healthcheck's program is not in the image)"
    return {
        "container": container.name,
        "id": container.short_id,
        "image": (container.attrs.get("Config") or {}).get("Image", ""),
        "status": state.get("Status", container.status),
        "health": health,
        "exit_code": state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "restart_count": container.attrs.get("RestartCount", 0),
        "started_at": state.get("StartedAt"),
        "finished_at": state.get("FinishedAt"),
    }


def usable_profile(params):
    """The run's profile, when the previous module discovered it for this same project and mapping."""
    profile = params.get("profile") or {}
    if profile.get("version") != discovery.PROFILE_VERSION:
        return None
    if profile.get("project_dir") != params["project_dir"] or profile.get("overrides") != (params["stack_roles"] or {}):
        return None
    if params["project_name"] and profile.get("project") != params["project_name"]:
        return None
    return profile


def discover(api, params):
    """The profile for the module's params: the run's cached one, else discovered now (ProjectError if blocked)."""
    profile = usable_profile(params)
    if profile is not None:
        return profile, False
    try:
        profile = discovery.discover(
            api,
            params["project_dir"],
            explicit_name=params["project_name"],
            overrides=params["stack_roles"] or {},
            written_services=params["profile_services"],
            manual_env_file=params["env_file"],
        )
    except discovery.ProfileError as exc:
        raise ProjectError(str(exc)) from None
    return profile, True


NOT_RUNNING = (
    "compose project %s (%s) has no containers: the stack is not running; start it with "
    "`docker compose up -d` from its directory (the sandbox: `ods-fix sandbox up`)"
)


def inspect_project(api, params, require_running=True):
    """(profile, project) for a module: what it needs to know before it acts; raises ProjectError on what blocks it.

    With require_running, a project with no container at all is an error: a
    fix must not act on a stack that was never started (bring it up first).
    """
    profile, discovered = discover(api, params)
    containers = project_containers(api, profile["project"])
    if require_running and not containers:
        raise ProjectError(NOT_RUNNING % (profile["project"], profile["working_dir"]))
    version = api.version()
    project = {
        "project_dir": params["project_dir"],
        "project_name": profile["project"],
        "engine_version": version.get("Version"),
        "api_version": version.get("ApiVersion"),
        "compose_flavor": compose_flavor(containers) or profile.get("compose_flavor"),
        "declared_services": discovery.stack_services(profile),
        "services": dict((service, summarize(c)) for service, c in sorted(containers.items())),
        "profile": profile,
    }
    return project, discovered


def require_docker(module):
    """Fail the module in one line (bad configuration, exit 1) when the target lacks the docker library."""
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR, ods_failure="input")


def profile_facts(module):
    """What a module returns as ansible_facts: the fact ods_profile when it discovered the profile itself (its
    profile option was empty), so that the run's next modules get it through module_defaults; else nothing."""
    profile = getattr(module, "ods_discovered_profile", None)
    return {"ods_profile": profile} if profile is not None else {}


def stack_module(argument_spec, **kwargs):
    """The AnsibleModule of a module that works on the stack: its own options and PROJECT_ARGS, check mode.

    With a lock_token (a step of a run that holds the project's lock), the step is refused unless the lock is
    still the run's, and counts as one of the run's steps until the module's process ends (project_lock.working).
    """
    module = AnsibleModule(argument_spec=dict(argument_spec, **PROJECT_ARGS), supports_check_mode=True, **kwargs)
    token = module.params["lock_token"]
    if token:
        step = project_lock.working(project_lock.state_dir(module.params["project_dir"]), token)
        try:
            step.__enter__()
        except project_lock.LockError as exc:
            module.fail_json(msg=str(exc), ods_failure="input")
        atexit.register(step.__exit__, None, None, None)  # exit_json and fail_json end the process
    return module


def open_project(module, require_running=True):
    """(api, project) for the module's PROJECT_ARGS; project["profile"] is the stack's profile.

    What every module does first: a missing docker library, engine, project,
    compose file, role mapping or (with require_running) stack fails the module in
    one line, as bad input or configuration (exit 1).
    """
    require_docker(module)
    params = module.params
    try:
        api = client(params["docker_host"])
        project, discovered = inspect_project(api, params, require_running)
    except ProjectError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")
    if discovered:
        module.ods_discovered_profile = project["profile"]  # returned by the module: profile_facts(module)
    return api, project


def role_service(module, profile, role, required=True):
    """The service of a role, or the module failed in one line naming the variable to set."""
    try:
        return discovery.service_for(profile, role, required)
    except discovery.ProfileError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")


def open_role(module, role):
    """What a module that works on one role's service starts with: (api, profile, service, containers)."""
    api, project = open_project(module)
    profile = project["profile"]
    return api, profile, role_service(module, profile, role), project_containers(api, profile["project"])


def role_apis(module, profile, required=True):
    try:
        return discovery.apis(profile, required)
    except discovery.ProfileError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")


def check_services(module, profile, names):
    """Fail (bad input) when a service the user named is not one of the project's."""
    unknown = [s for s in names if s not in profile["services"]]
    if unknown:
        module.fail_json(
            msg="unknown service(s) {} in project {} (its services: {})".format(
                ", ".join(unknown), profile["project"], ", ".join(sorted(profile["services"]))
            ),
            ods_failure="input",
        )


def compose_argv(profile, cli):
    """A Compose command line for the project as it was made: its files, name, directory, profiles."""
    argv = [*cli, "-p", profile["project"], "--project-directory", profile["working_dir"]]
    for path in profile["config_files"]:
        argv += ["-f", path]
    dotenv_path = profile.get("dotenv")
    if dotenv_path and os.path.dirname(dotenv_path) != os.path.normpath(profile["working_dir"]):
        argv += ["--env-file", dotenv_path]
    for name in profile.get("profiles") or []:
        argv += ["--profile", name]
    return argv


def declared_networks(profile, service):
    """Full names of the networks a service should be on (Compose's own naming), or None if unknown."""
    return ((profile.get("services") or {}).get(service) or {}).get("networks")


def run_parallel(tasks, timeout):
    """Run callables {name: fn} on daemon threads; {name: (ok, value_or_error)}.

    Daemon threads, so that a probe hung inside a container cannot keep the
    module from returning.
    """
    results = {}
    lock = threading.Lock()

    def runner(name, fn):
        try:
            value = (True, fn())
        except Exception as exc:  # a probe's failure is a finding, not a crash
            value = (False, f"{type(exc).__name__}: {exc}")
        with lock:
            results[name] = value

    threads = [threading.Thread(target=runner, args=item, daemon=True) for item in tasks.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        for name in tasks:
            results.setdefault(name, (False, f"timed out after {timeout}s"))
        return dict(results)
