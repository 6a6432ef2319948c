"""The Compose projects this machine's Docker engine knows, from their containers' labels.

One GET of the engine's API over its Unix socket, with the standard library: the docker SDK's import alone takes
about 150 ms, more than finding the stack may add to a run (bench/discovery.py). An engine reached another way
(DOCKER_HOST=tcp:// or ssh://) goes through the docker SDK.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

PROJECT_LABEL = "com.docker.compose.project"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
ONEOFF_LABEL = "com.docker.compose.oneoff"
DEFAULT_SOCKET = "/var/run/docker.sock"


class EngineUnreachableError(Exception):
    """The Docker engine did not answer; the message says where it was looked for."""


@dataclass(frozen=True)
class Project:
    name: str
    working_dir: str  # "" when its containers do not record one
    containers: int
    running: int

    def line(self) -> str:
        where = self.working_dir or "no working directory recorded"
        return f"{self.name} ({where}; {self.running}/{self.containers} running)"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def _containers_over_socket(path: str, timeout: float) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"all": "1", "filters": json.dumps({"label": [PROJECT_LABEL]})})
    connection = _UnixConnection(path, timeout)
    try:
        connection.request("GET", f"/containers/json?{query}")
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise EngineUnreachableError(f"cannot reach the Docker engine at unix://{path} ({exc})") from exc
    finally:
        connection.close()
    if response.status != 200:
        raise EngineUnreachableError(f"the Docker engine at unix://{path} answered {response.status}")
    try:
        listed = json.loads(body)
    except ValueError as exc:
        raise EngineUnreachableError(f"the Docker engine at unix://{path} answered what is not JSON") from exc
    return listed if isinstance(listed, list) else []


def _containers_over_sdk(timeout: float) -> list[dict[str, Any]]:
    import docker  # noqa: PLC0415  (slow import, only for an engine that is not on a local socket)

    try:
        listed = docker.from_env(timeout=int(timeout)).api.containers(all=True, filters={"label": PROJECT_LABEL})
    except Exception as exc:  # the SDK raises many kinds; all mean the same here
        where = os.environ.get("DOCKER_HOST")
        raise EngineUnreachableError(f"cannot reach the Docker engine at {where} ({exc})") from exc
    return list(listed)


def containers(timeout: float = 10.0) -> list[dict[str, Any]]:
    """The engine's containers that Compose made (the API's list form: Labels, State, Names)."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host or host.startswith("unix://"):
        return _containers_over_socket(host.removeprefix("unix://") or DEFAULT_SOCKET, timeout)
    return _containers_over_sdk(timeout)


def compose_projects(listed: list[dict[str, Any]] | None = None) -> list[Project]:
    """Every Compose project with a container on this engine, by name; one-off `run` containers left out."""
    found: dict[str, dict[str, Any]] = {}
    for container in containers() if listed is None else listed:
        labels = container.get("Labels") or {}
        name = labels.get(PROJECT_LABEL, "")
        if not name or labels.get(ONEOFF_LABEL, "False") == "True":
            continue
        entry = found.setdefault(name, {"dirs": set(), "containers": 0, "running": 0})
        entry["containers"] += 1
        entry["running"] += container.get("State") == "running"
        working_dir = labels.get(WORKING_DIR_LABEL) or os.path.dirname(
            (labels.get(CONFIG_FILES_LABEL) or "").split(",")[0]
        )
        if working_dir:
            entry["dirs"].add(working_dir)
    return [
        Project(name, sorted(entry["dirs"])[0] if entry["dirs"] else "", entry["containers"], entry["running"])
        for name, entry in sorted(found.items())
    ]
