"""The sandbox compose project: create its directory, bring it up, wait, tear it down.

The instance directory looks like an ODS checkout, in one of two layouts (layouts.py): the manual's
(docker-compose.yml at the top, settings in deploy/.env) or a real checkout's (deploy/local/ with a base
file, an overlay and .env). Secrets are generated once (mode 0600); the compose files declare only the
services the sandbox runs, as a user's own files do; the web build context is there so that the manual's
`docker-compose build web` works.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pyrunner import paths
from pyrunner.errors import OdsFixError
from pyrunner.sandbox import compose as compose_mod
from pyrunner.sandbox import images, layouts
from pyrunner.sandbox.layouts import Layout

Log = Callable[[str], None]

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
    layout: str = layouts.DEFAULT

    @property
    def spec(self) -> Layout:
        return layouts.get(self.layout)

    @property
    def env_file(self) -> Path:
        """The settings file holding the generated secrets (deploy/.env, or deploy/local/.env)."""
        return self.directory / self.spec.settings_file

    @property
    def compose_dir(self) -> Path:
        return self.directory / self.spec.compose_dir

    def port(self, name: str) -> int:
        return self.spec.ports[name] + self.port_offset

    @property
    def container_prefix(self) -> str:
        return "one-data" if self.project == DEFAULT_PROJECT else f"one-data-{self.project}"

    def compose_args(self) -> list[str]:
        """What comes before a Compose subcommand: the project's files, name and profiles, as its Makefile would."""
        if self.spec.name == layouts.MANUAL.name:
            return []  # docker-compose.yml and its override beside it; the name from the project .env
        args = ["-p", self.project]
        for _source, dest in self.spec.compose_files:
            if (self.directory / dest).exists():
                args += ["-f", str(self.directory / dest)]
        for service, profile in sorted(self.spec.profiles.items()):
            if service in self.services:
                args += ["--profile", profile]
        return args

    def run_compose(self, cli: compose_mod.ComposeCli, *args: str) -> subprocess.CompletedProcess[str]:
        return cli.run(self.compose_dir, *self.compose_args(), *args)

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


def expand_services(layout: Layout, services: Iterable[str] | None) -> list[str]:
    """The layout's services for names or roles (database, data_api, ...), with what each needs to start."""
    if not services:
        return list(layout.services)
    wanted = {layout.service(name) for name in services}
    unknown = sorted(wanted - set(layout.services))
    if unknown:
        raise OdsFixError(
            f"unknown sandbox service(s) {', '.join(unknown)} in layout {layout.name} "
            f"(known: {', '.join(layout.services)}, or a role: {', '.join(layout.roles)})"
        )
    pending = list(wanted)
    while pending:  # what they need, and what that needs
        for needed in layout.needs.get(pending.pop(), ()):
            if needed not in wanted:
                wanted.add(needed)
                pending.append(needed)
    return [s for s in layout.services if s in wanted]


def _secret(length: int = 32) -> str:
    return secrets.token_hex(length // 2)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def _set_lines(path: Path, values: dict[str, str]) -> None:
    """Set KEY=value lines of a settings file in place (others, comments and order kept)."""
    lines = [line for line in path.read_text().splitlines() if line.split("=", 1)[0] not in values]
    path.write_text("\n".join(lines + [f"{key}={value}" for key, value in values.items()]) + "\n")


def render_instance(instance: Instance) -> None:
    """Write (or refresh) the instance directory; the settings file's secrets are generated once and then kept."""
    source = paths.sandbox_source()
    layout = instance.spec
    instance.directory.mkdir(parents=True, exist_ok=True)
    keep = set(instance.services)
    for src, dest in layout.compose_files:
        text = layouts.keep_services((source / src).read_text(), keep)
        target = instance.directory / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if layout.name != layouts.MANUAL.name and src != layout.compose_files[0][0] and not _declares_any(text):
            target.unlink(missing_ok=True)  # an overlay with none of the sandbox's services is not used
            continue
        target.write_text(text)
    ports = {name: str(instance.port(name)) for name in layout.ports}
    if layout.name == layouts.MANUAL.name:
        _render_manual(instance, source, ports)
    else:
        _render_local(instance, source, ports)
    instance.save()


def _declares_any(text: str) -> bool:
    return any(
        line.startswith("  ")
        and not line.startswith("   ")
        and line.rstrip().endswith(":")
        and not line.strip().startswith("#")
        for line in text.split("services:", 1)[-1].splitlines()
    )


def _copy_web_context(source: Path, dest: Path, image: str) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source / "images" / image, dest)
    if image != "web":  # the front end's build script and sources are the manual layout's web image's
        shutil.copy(source / "images" / "web" / "build.py", dest / "build.py")
        shutil.copytree(source / "images" / "web" / "src", dest / "src")


def _render_manual(instance: Instance, source: Path, ports: dict[str, str]) -> None:
    _copy_web_context(source, instance.directory / "images" / "web", "web")
    project_env = [f"COMPOSE_PROJECT_NAME={instance.project}"] + [f"{k}={v}" for k, v in ports.items()]
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


def _render_local(instance: Instance, source: Path, ports: dict[str, str]) -> None:
    _copy_web_context(source, instance.directory / "web", "web-frontend")
    if instance.mysql_disk_mb > 0:  # in the base file itself: this layout has no override file
        base = instance.directory / instance.spec.compose_files[0][1]
        volume = SMALL_DISK_OVERRIDE.format(mb=instance.mysql_disk_mb).split("volumes:\n", 1)[1]
        text = base.read_text().replace(
            "\nvolumes:\n  mysql_data:\n", "\nvolumes:\n" + volume.replace("mysql-data", "mysql_data")
        )
        if text == base.read_text():
            raise OdsFixError(f"{base} has no mysql_data volume to put on a small disk")
        base.write_text(text)
    values = {"CONTAINER_PREFIX": instance.container_prefix, **ports}
    if not instance.env_file.exists():
        template = string.Template((source / "local" / "env.template").read_text())
        text = template.substitute(
            CONTAINER_PREFIX=instance.container_prefix,
            MYSQL_ROOT_PASSWORD=_secret(24),
            MYSQL_PASSWORD=_secret(24),
            REDIS_PASSWORD=_secret(24),
            MINIO_ROOT_PASSWORD=_secret(24),
            DATA_API_SECRET_KEY=_secret(64),
            AGENT_API_JWT_SECRET=_secret(64),
            OPENAI_API_KEY="sk-sandbox-" + _secret(40),
            PORTS="\n".join(f"{k}={v}" for k, v in ports.items()),
        )
        _write_private(instance.env_file, text)
        _write_private(instance.directory / PRISTINE_ENV, text)
    _set_lines(instance.env_file, values)


def project_containers(client: Any, project: str) -> dict[str, Any]:
    """service -> container, by the lookup the modules use (the compose labels, the same for v1 and v2)."""
    found: dict[str, Any] = paths.load_module_util("stack.compose_lookup").project_containers(client, project)
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


def answers(url: str) -> bool:
    """True when an HTTP URL on a port published on 127.0.0.1 answers below 500."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def own_check_passes(container: Any) -> bool:
    """The container's own HEALTHCHECK, run now. Docker runs it first one interval after the start: waiting for
    Docker's word would wait that long for nothing, and the checks' interval could not be raised to save CPU."""
    check = (container.attrs.get("Config") or {}).get("Healthcheck") or {}
    test = check.get("Test") or []
    if len(test) < 2 or test[0] not in ("CMD", "CMD-SHELL"):
        return False
    argv = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
    try:
        code, _ = container.exec_run(argv)
    except Exception:  # stopped meanwhile: not ready now, the loop looks again
        return False
    return bool(code == 0)


def ready(instance: Instance, service: str, state: dict[str, Any], container: Any = None) -> bool:
    """Running and healthy; or, where Docker's health says nothing true, answering on its published port."""
    if state["status"] != "running":
        return False
    probe = instance.spec.probe.get(service)
    if probe is not None:
        port, path = probe
        return answers(f"http://127.0.0.1:{instance.port(port)}{path}")
    if state["health"] == "starting" and container is not None:
        return own_check_passes(container)
    return state["health"] in ("healthy", None)


def wait_healthy(client: Any, instance: Instance, services: Iterable[str], timeout: float, log: Log) -> None:
    pending = set(services)
    deadline = time.monotonic() + timeout
    while pending:
        containers = project_containers(client, instance.project)
        for service in sorted(pending):
            container = containers.get(service)
            if container is None:
                continue
            container.reload()
            state = container_state(container)
            if ready(instance, service, state, container):
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


def check_port_offset(spec: layouts.Layout, offset: int) -> None:
    """Refused before anything is written: a port past 65535 would fail `up`, and then `down` with the same."""
    lowest, highest = min(spec.ports.values()) + offset, max(spec.ports.values()) + offset
    if lowest < 1 or highest > 65535:
        raise OdsFixError(
            f"--port-offset {offset} puts the {spec.name} layout's ports at {lowest}-{highest}; ports go from 1 "
            f"to 65535: give at most {65535 - max(spec.ports.values())}"
        )


def up(
    services: Iterable[str] | None = None,
    *,
    compose: str | None = None,
    port_offset: int | None = None,
    project: str | None = None,
    mysql_disk_mb: int | None = None,
    layout: str | None = None,
    wait: float = 240,
    log: Log = lambda _: None,
) -> Instance:
    client = docker_client()
    existing = Instance.load()
    if existing and layout and existing.layout != layout:
        raise OdsFixError(
            f"the sandbox at {existing.directory} has the {existing.layout} layout: run `ods-fix sandbox down` "
            f"before making one with the {layout} layout"
        )
    instance = existing or Instance(paths.sandbox_dir(), layout=layout or layouts.DEFAULT)
    wanted = expand_services(instance.spec, services)
    cli = compose_mod.detect(compose or (existing.compose if existing else None))
    if existing and existing.compose != cli.flavor and project_containers(client, existing.project):
        raise OdsFixError(
            f"the sandbox at {existing.directory} is managed by Compose {existing.compose}; "
            f"v1 and v2 cannot share a project: run `ods-fix sandbox down` first"
        )
    instance.compose = cli.flavor
    if project:
        instance.project = project
    if port_offset is not None:
        check_port_offset(instance.spec, port_offset)
        instance.port_offset = port_offset
    if mysql_disk_mb is not None:
        instance.mysql_disk_mb = mysql_disk_mb
    instance.services = sorted(set(instance.services) | set(wanted), key=instance.spec.services.index)
    for build in images.build(client, wanted, log):
        if build.built:
            log(f"built {build.image} in {build.seconds:.0f} s")
    render_instance(instance)
    log(
        f"starting {', '.join(wanted)} with Compose {cli.flavor} ({cli.version}), project {instance.project}, "
        f"layout {instance.layout}"
    )
    result = instance.run_compose(cli, "up", "-d", "--no-build", *wanted)
    if result.returncode != 0:
        raise OdsFixError(f"compose up failed: {_last_line(result.stderr)}")
    wait_healthy(client, instance, wanted, wait, log)
    return instance


def remove_leftovers(project: str, log: Log = lambda _: None) -> int:
    """Containers, networks and volumes of a compose project whose sandbox directory is gone (a crashed run)."""
    client = docker_client()
    label = {"label": f"com.docker.compose.project={project}"}
    removed = 0
    for container in client.containers.list(all=True, filters=label, ignore_removed=True):
        container.remove(force=True, v=True)
        removed += 1
    for network in client.networks.list(filters=label):
        network.remove()
        removed += 1
    removed += remove_external_networks(project)
    for volume in client.volumes.list(filters=label):
        volume.remove(force=True)
        removed += 1
    if removed:
        log(f"removed {removed} leftover containers, networks and volumes of project {project}")
    return removed


def remove_external_networks(project: str, log: Log = lambda _: None) -> int:
    """The networks made for the project outside Compose (by the external-network fix, or its fault), by their
    label: Compose never removes a network it does not own."""
    removed = 0
    for network in docker_client().networks.list(filters={"label": f"ods-fix.project={project}"}):
        network.remove()
        log(f"removed network {network.name}, made for project {project} outside Compose")
        removed += 1
    return removed


SQUATTERS = "port-squatters"  # pids of the processes the port-taken fault left listening


def keep_squatter(instance: Instance, pid: int) -> None:
    with (instance.directory / SQUATTERS).open("a") as handle:
        handle.write(f"{pid}\n")


def stop_squatters(instance: Instance, log: Log) -> None:
    """Stop what the port-taken fault started: each pid, if it is still that HTTP server (a pid may be reused)."""
    listed = instance.directory / SQUATTERS
    if not listed.exists():
        return
    for pid in listed.read_text().split():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"http.server" in cmdline:
            try:
                os.kill(int(pid), 15)
            except OSError:  # gone meanwhile
                continue
            log(f"stopped process {pid}, which held a port of the sandbox")
    listed.unlink()


def down(log: Log = lambda _: None, project: str | None = None) -> Path | None:
    instance = Instance.load()
    if instance is None:
        if project:
            remove_leftovers(project, log)
        return None
    stop_squatters(instance, log)
    cli = compose_mod.detect(instance.compose)
    # Its volumes go too, so nothing is to be kept: a container that does not stop at once is killed (Milvus and
    # the node S3 store take tens of seconds to stop gracefully, the whole of a scenario's teardown).
    result = instance.run_compose(cli, "down", "--volumes", "--remove-orphans", "--timeout", "3")
    if result.returncode != 0:
        # A fault (or a fix) may leave files Compose refuses (the env file deleted): the sandbox goes all the same,
        # by its project's labels.
        log(f"compose down failed ({_last_line(result.stderr)}): removing project {instance.project} by its labels")
    # By the project's labels too: what the files no longer declare (a network a fault or a fix made external) is
    # left by Compose.
    remove_leftovers(instance.project, log)
    shutil.rmtree(instance.directory)
    log(f"removed project {instance.project} and {instance.directory}")
    return instance.directory


def status() -> dict[str, Any]:
    instance = require_instance()
    containers = project_containers(docker_client(), instance.project)
    services = {}
    for service in instance.spec.services:
        container = containers.get(service)
        services[service] = container_state(container) if container else {"status": "absent"}
    layout = instance.spec
    return {
        "directory": str(instance.directory),
        "project": instance.project,
        "compose": instance.compose,
        "layout": instance.layout,
        "services": services,
        # What the sandbox knows of itself, for tests: ods-fix is told none of it.
        "roles": {role: service for role, service in layout.roles.items() if service in instance.services},
        "settings_file": str(instance.env_file),
        "compose_dir": str(instance.compose_dir),
        "databases": list(layout.databases),
        "app_user": layout.app_user,
        "root_password_only": layout.root_password_only,
        "web_root": layout.web_root,
        "web_config": layout.web_config,
        "signing_key": {"setting": layout.signing_key[0], "name": layout.signing_key[1]},
        "generated_keys": list(layout.generated_keys),
        "ports": {name: instance.port(name) for name in layout.ports},
        "published": {role: instance.port(name) for role, name in layout.role_port_names().items()},
    }


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
