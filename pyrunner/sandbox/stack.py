"""The sandbox compose project: create its directory, bring it up, wait, tear it down.

The instance directory looks like an ODS checkout: docker-compose.yml at the
top, the settings in deploy/.env (mode 0600, secrets generated once), and the
web build context so that the manual's `docker-compose build web` works.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pyrunner import paths
from pyrunner.errors import OdsFixError
from pyrunner.sandbox import compose as compose_mod
from pyrunner.sandbox import images

Log = Callable[[str], None]

SERVICES = (
    "mysql",
    "redis",
    "milvus-etcd",
    "milvus-minio",
    "milvus-standalone",
    "alldata-api",
    "bisheng-api",
    "web",
)
# Services a service cannot work without: `up` starts them too.
NEEDS = {
    "milvus-standalone": ("milvus-etcd", "milvus-minio"),
}
PORTS = {
    "ODS_PORT_MYSQL": 3306,
    "ODS_PORT_REDIS": 6379,
    "ODS_PORT_MILVUS": 19530,
    "ODS_PORT_MILVUS_HEALTH": 9091,
    "ODS_PORT_ALLDATA_API": 8080,
    "ODS_PORT_BISHENG_API": 8081,
    "ODS_PORT_WEB": 3000,
}
DEFAULT_PROJECT = "ods-sandbox"
# Compose reads docker-compose.override.yml beside the main file (v1 and v2):
# mysql's data volume becomes a size-limited tmpfs, so it can really fill up.
SMALL_DISK_OVERRIDE = """# Written by `ods-fix sandbox up --mysql-disk-mb {mb}`: mysql's data on a {mb} MB filesystem.
volumes:
  mysql-data:
    driver: local
    driver_opts:
      type: tmpfs
      device: tmpfs
      o: "size={mb}m"
"""
META_FILE = "sandbox.json"
PRISTINE_ENV = ".sandbox-env.orig"  # the generated deploy/.env, for `sandbox heal`


@dataclass
class Instance:
    directory: Path
    project: str = DEFAULT_PROJECT
    compose: str = "v2"
    port_offset: int = 0
    mysql_disk_mb: int = 0  # > 0: mysql's data on a tmpfs of this size (the 磁盘空间不足 fault)
    services: list[str] = field(default_factory=list)

    @property
    def env_file(self) -> Path:
        return self.directory / "deploy" / ".env"

    def port(self, name: str) -> int:
        return PORTS[name] + self.port_offset

    def save(self) -> None:
        data = asdict(self)
        data["directory"] = str(self.directory)
        (self.directory / META_FILE).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path | None = None) -> Instance | None:
        directory = directory or paths.sandbox_dir()
        meta = directory / META_FILE
        if not meta.is_file():
            return None
        data = json.loads(meta.read_text())
        data["directory"] = directory
        return cls(**data)


def require_instance(directory: Path | None = None) -> Instance:
    instance = Instance.load(directory)
    if instance is None:
        where = directory or paths.sandbox_dir()
        raise OdsFixError(f"no sandbox at {where}: run `ods-fix sandbox up` first")
    return instance


def docker_client() -> Any:
    import docker  # noqa: PLC0415  (slow import; only sandbox commands need it)

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise OdsFixError(f"cannot reach the Docker engine ({exc}); is dockerd running?") from exc
    return client


def expand_services(services: Iterable[str] | None) -> list[str]:
    if not services:
        return list(SERVICES)
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        raise OdsFixError(f"unknown sandbox service(s): {', '.join(unknown)} (known: {', '.join(SERVICES)})")
    wanted = set(services)
    for service in list(wanted):
        wanted.update(NEEDS.get(service, ()))
    return [s for s in SERVICES if s in wanted]


def _secret(length: int = 32) -> str:
    return secrets.token_hex(length // 2)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def render_instance(instance: Instance) -> None:
    """Write (or refresh) the instance directory; deploy/.env is generated once and then kept."""
    source = paths.sandbox_source()
    instance.directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "docker-compose.yml", instance.directory / "docker-compose.yml")
    web = instance.directory / "images" / "web"
    shutil.rmtree(web, ignore_errors=True)
    shutil.copytree(source / "images" / "web", web)
    project_env = [f"COMPOSE_PROJECT_NAME={instance.project}"]
    project_env += [f"{name}={instance.port(name)}" for name in PORTS]
    (instance.directory / ".env").write_text("\n".join(project_env) + "\n")
    override = instance.directory / "docker-compose.override.yml"
    if instance.mysql_disk_mb > 0:
        override.write_text(SMALL_DISK_OVERRIDE.format(mb=instance.mysql_disk_mb))
    else:
        override.unlink(missing_ok=True)
    if not instance.env_file.exists():
        template = string.Template((source / "deploy" / "env.template").read_text())
        text = template.substitute(
            MYSQL_PASSWORD=_secret(24),
            MYSQL_ROOT_PASSWORD=_secret(24),
            ALLDATA_SECRET_KEY=_secret(64),
            BISHENG_JWT_SECRET=_secret(64),
            OPENAI_API_KEY="sk-sandbox-" + _secret(40),
        )
        _write_private(instance.env_file, text)
        _write_private(instance.directory / PRISTINE_ENV, text)
    instance.save()


def project_containers(client: Any, project: str) -> dict[str, Any]:
    """service -> container, through the compose labels (the same for v1 and v2)."""
    found: dict[str, Any] = {}
    for container in client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"}):
        labels = container.labels
        if labels.get("com.docker.compose.oneoff", "False") == "True":
            continue
        found[labels.get("com.docker.compose.service", "?")] = container
    return found


def container_state(container: Any) -> dict[str, Any]:
    state = container.attrs.get("State", {})
    running = state.get("Status") == "running"
    return {
        "status": state.get("Status", "unknown"),
        # A stopped container keeps its last health status: it says nothing then.
        "health": (state.get("Health") or {}).get("Status") if running else None,
        "exit_code": state.get("ExitCode"),
        "name": container.name,
    }


def wait_healthy(client: Any, project: str, services: Iterable[str], timeout: float, log: Log) -> None:
    pending = set(services)
    deadline = time.monotonic() + timeout
    while pending:
        containers = project_containers(client, project)
        for service in sorted(pending):
            container = containers.get(service)
            if container is None:
                continue
            container.reload()
            state = container_state(container)
            if state["status"] == "running" and state["health"] in ("healthy", None):
                pending.discard(service)
                log(f"{service}: healthy")
            elif state["status"] in ("exited", "dead"):
                raise OdsFixError(
                    f"sandbox service {service} exited (code {state['exit_code']}) while starting; "
                    f"see `docker logs {container.name}`"
                )
        if pending and time.monotonic() > deadline:
            raise OdsFixError(f"sandbox services not healthy after {timeout:.0f} s: {', '.join(sorted(pending))}")
        if pending:
            time.sleep(1)


def up(
    services: Iterable[str] | None = None,
    *,
    compose: str | None = None,
    port_offset: int | None = None,
    project: str | None = None,
    mysql_disk_mb: int | None = None,
    wait: float = 240,
    log: Log = lambda _: None,
) -> Instance:
    client = docker_client()
    wanted = expand_services(services)
    existing = Instance.load()
    cli = compose_mod.detect(compose or (existing.compose if existing else None))
    if existing and existing.compose != cli.flavor and project_containers(client, existing.project):
        raise OdsFixError(
            f"the sandbox at {existing.directory} is managed by Compose {existing.compose}; "
            f"v1 and v2 cannot share a project: run `ods-fix sandbox down` first"
        )
    instance = existing or Instance(paths.sandbox_dir())
    instance.compose = cli.flavor
    if project:
        instance.project = project
    if port_offset is not None:
        instance.port_offset = port_offset
    if mysql_disk_mb is not None:
        instance.mysql_disk_mb = mysql_disk_mb
    instance.services = sorted(set(instance.services) | set(wanted), key=SERVICES.index)
    for build in images.build(client, wanted, log):
        if build.built:
            log(f"built {build.image} in {build.seconds:.0f} s")
    render_instance(instance)
    log(f"starting {', '.join(wanted)} with Compose {cli.flavor} ({cli.version}), project {instance.project}")
    result = cli.run(instance.directory, "up", "-d", "--no-build", *wanted)
    if result.returncode != 0:
        raise OdsFixError(f"compose up failed: {_last_line(result.stderr)}")
    wait_healthy(client, instance.project, wanted, wait, log)
    return instance


def remove_leftovers(project: str, log: Log = lambda _: None) -> int:
    """Containers, networks and volumes of a compose project whose sandbox directory is gone (a crashed run)."""
    client = docker_client()
    label = {"label": f"com.docker.compose.project={project}"}
    removed = 0
    for container in client.containers.list(all=True, filters=label):
        container.remove(force=True, v=True)
        removed += 1
    for network in client.networks.list(filters=label):
        network.remove()
        removed += 1
    for volume in client.volumes.list(filters=label):
        volume.remove(force=True)
        removed += 1
    if removed:
        log(f"removed {removed} leftover containers, networks and volumes of project {project}")
    return removed


def down(log: Log = lambda _: None, project: str | None = None) -> Path | None:
    instance = Instance.load()
    if instance is None:
        if project:
            remove_leftovers(project, log)
        return None
    cli = compose_mod.detect(instance.compose)
    result = cli.run(instance.directory, "down", "--volumes", "--remove-orphans", "--timeout", "30")
    if result.returncode != 0:
        raise OdsFixError(f"compose down failed: {_last_line(result.stderr)}")
    shutil.rmtree(instance.directory)
    log(f"removed project {instance.project} and {instance.directory}")
    return instance.directory


def status() -> dict[str, Any]:
    instance = require_instance()
    containers = project_containers(docker_client(), instance.project)
    services = {}
    for service in SERVICES:
        container = containers.get(service)
        services[service] = container_state(container) if container else {"status": "absent"}
    return {
        "directory": str(instance.directory),
        "project": instance.project,
        "compose": instance.compose,
        "services": services,
    }


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
