# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""A compose project seen through the Docker engine, for Compose v1 and v2 alike.

Both versions label their containers with com.docker.compose.project and
com.docker.compose.service, so working through the labels needs neither CLI
and cannot be confused by which one created the project. The label
com.docker.compose.version tells which one did.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess
import threading
import time
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.ods.fix.plugins.module_utils import dotenv

try:
    import docker
    from docker.errors import DockerException, NotFound

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):
        pass

    class NotFound(Exception):
        pass


try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
VERSION_LABEL = "com.docker.compose.version"
ONEOFF_LABEL = "com.docker.compose.oneoff"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")

PROJECT_ARGS = dict(
    project_dir=dict(type="path", required=True),
    project_name=dict(type="str", default=""),
    docker_host=dict(type="str", default=""),
)


class ProjectError(Exception):
    """A problem with the target's engine or project that the user must fix; one line."""


def normalize_project_name(name):
    """What both Compose versions do with a directory name."""
    return re.sub(r"[^-_a-z0-9]", "", name.lower())


def project_name(project_dir, explicit=""):
    if explicit:
        return explicit
    from_env = dotenv.read(os.path.join(project_dir, ".env")).get("COMPOSE_PROJECT_NAME")
    if from_env:
        return from_env
    return normalize_project_name(os.path.basename(os.path.normpath(project_dir)))


def compose_file(project_dir):
    for name in COMPOSE_FILES:
        path = os.path.join(project_dir, name)
        if os.path.isfile(path):
            return path
    return None


def load_compose_file(project_dir):
    """The compose file's data, or None when it cannot be read here (no PyYAML, no file)."""
    path = compose_file(project_dir)
    if path is None or not HAS_YAML:
        return None
    try:
        with open(path) as handle:
            data = yaml.safe_load(handle) or {}
    except (IOError, OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def declared_services(project_dir):
    """Service names in the compose file, or None when it cannot be read here."""
    data = load_compose_file(project_dir)
    services = (data or {}).get("services")
    return sorted(services) if isinstance(services, dict) else None


def declared_networks(project_dir, project, service):
    """Full names of the networks a service should be on (compose's own naming), or None if unknown."""
    data = load_compose_file(project_dir)
    if not data or service not in (data.get("services") or {}):
        return None
    spec = data["services"][service] or {}
    if spec.get("network_mode"):
        return []
    names = spec.get("networks") or ["default"]
    if isinstance(names, dict):
        names = list(names)
    top = data.get("networks") or {}
    full = []
    for name in names:
        custom = (top.get(name) or {}).get("name") if isinstance(top.get(name), dict) else None
        full.append(custom or "%s_%s" % (project, name))
    return full


def client(docker_host=""):
    if not HAS_DOCKER:
        raise ProjectError("the Python 'docker' library is missing on the target (apt-get install python3-docker)")
    try:
        api = docker.DockerClient(base_url=docker_host, timeout=60) if docker_host else docker.from_env(timeout=60)
        api.ping()
    except (DockerException, OSError) as exc:
        where = docker_host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        raise ProjectError("cannot reach the Docker engine at %s (%s): is dockerd running?" % (where, exc)) from exc
    return api


def project_containers(api, name):
    """service -> container for the project's service containers (one-off `run` containers excluded)."""
    found = {}
    for container in api.containers.list(all=True, filters={"label": "%s=%s" % (PROJECT_LABEL, name)}):
        labels = container.labels or {}
        if labels.get(ONEOFF_LABEL, "False") == "True":
            continue
        service = labels.get(SERVICE_LABEL)
        if service and (service not in found or container.status == "running"):
            found[service] = container
    return found


def container_env(container):
    """The container's environment (Config.Env) as a dict."""
    env = (container.attrs.get("Config") or {}).get("Env") or []
    return dict(item.split("=", 1) for item in env if "=" in item)


def compose_flavor(containers):
    """'v1' or 'v2' from the containers' labels; None for an empty project."""
    for container in containers.values():
        version = (container.labels or {}).get(VERSION_LABEL, "")
        if version:
            return "v1" if version.startswith("1.") else "v2"
    return None


def compose_clis():
    """The Compose CLIs on this machine: {'v1': [...argv], 'v2': [...argv]}."""
    found = {}
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        try:
            out = subprocess.run([*argv, "version", "--short"], check=False, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        version = out.stdout.strip().lstrip("v")
        if out.returncode == 0 and version:
            found.setdefault("v1" if version.startswith("1.") else "v2", argv)
    return found


def summarize(container):
    state = container.attrs.get("State", {})
    health = (state.get("Health") or {}).get("Status")
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


NOT_RUNNING = (
    "compose project %s in %s has no containers: the stack is not running; start it with "
    "`docker-compose up -d` (the sandbox: `ods-fix sandbox up`)"
)


def inspect_project(project_dir, explicit_name="", docker_host="", require_running=True):
    """Everything a role needs to know before it acts; raises ProjectError on what blocks it.

    With require_running, a project with no container at all is an error: a
    fix must not act on a stack that was never started (bring it up first).
    """
    if not os.path.isdir(project_dir):
        raise ProjectError("compose project directory %s does not exist on the target" % project_dir)
    if compose_file(project_dir) is None:
        raise ProjectError("no docker-compose.yml in %s" % project_dir)
    api = client(docker_host)
    name = project_name(project_dir, explicit_name)
    containers = project_containers(api, name)
    if require_running and not containers:
        raise ProjectError(NOT_RUNNING % (name, project_dir))
    version = api.version()
    return api, {
        "project_dir": project_dir,
        "project_name": name,
        "engine_version": version.get("Version"),
        "api_version": version.get("ApiVersion"),
        "compose_flavor": compose_flavor(containers),
        "declared_services": declared_services(project_dir),
        "services": dict((service, summarize(c)) for service, c in sorted(containers.items())),
    }


def require_docker(module):
    """Fail the module in one line (bad configuration, exit 1) when the target lacks the docker library."""
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR, ods_failure="input")


def open_project(module, require_running=True):
    """(api, project) for the module's project_dir, project_name and docker_host (PROJECT_ARGS).

    What every module does first: a missing docker library, engine, directory, compose file or (with
    require_running) stack fails the module in one line, as bad input or configuration (exit 1).
    """
    require_docker(module)
    params = module.params
    try:
        return inspect_project(params["project_dir"], params["project_name"], params["docker_host"], require_running)
    except ProjectError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")


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
            value = (False, "%s: %s" % (type(exc).__name__, exc))
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
            results.setdefault(name, (False, "timed out after %ss" % timeout))
        return dict(results)
