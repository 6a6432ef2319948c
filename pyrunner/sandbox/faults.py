"""The manual's faults, injected into the sandbox for real.

The demo (`ods-fix sandbox break FAULT`) and the Molecule prepare steps both
call these, so what the tests repair is what a user sees. Each fault records
itself in the instance, and `heal` puts the sandbox back as it was made.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import compose as compose_mod
from pyrunner.sandbox import stack

Log = Callable[[str], None]


@dataclass(frozen=True)
class Fault:
    name: str
    service: str
    section: str  # the manual's section it reproduces
    description: str
    inject: Callable[[Any], str]  # container -> what was done


def _stop(container: Any) -> str:
    container.stop(timeout=30)
    return f"stopped {container.name}"


def _kill(container: Any) -> str:
    container.kill()
    return f"killed {container.name} (SIGKILL: it exits with code 137, as after a crash)"


def _remove_dist(container: Any) -> str:
    code, output = container.exec_run(["sh", "-c", "rm -rf /app/dist/* /app/dist/.[!.]*"])
    if code != 0:
        raise OdsFixError(f"could not empty /app/dist in {container.name}: {output.decode(errors='replace')}")
    return f"emptied /app/dist in {container.name}"


FAULTS: tuple[Fault, ...] = (
    Fault("mysql-stopped", "mysql", "数据库连接失败", "mysql is stopped: the APIs answer 500", _stop),
    Fault("redis-stopped", "redis", "API 响应缓慢", "redis is stopped: no cache", _stop),
    Fault("milvus-etcd-stopped", "milvus-etcd", "Milvus 连接失败", "milvus-etcd is stopped", _stop),
    Fault("api-exited", "alldata-api", "API 返回 500 错误", "alldata-api crashed (killed, exit 137)", _kill),
    Fault("web-dist-removed", "web", "页面加载失败", "the built front end in /app/dist is gone", _remove_dist),
)


def get(name: str) -> Fault:
    for fault in FAULTS:
        if fault.name == name:
            return fault
    raise OdsFixError(f"unknown fault {name!r}; known: {', '.join(f.name for f in FAULTS)}")


def inject(names: list[str], log: Log = lambda _: None) -> list[str]:
    faults = [get(name) for name in names]  # all names checked before anything changes
    instance = stack.require_instance()
    client = stack.docker_client()
    containers = stack.project_containers(client, instance.project)
    done = []
    for fault in faults:
        container = containers.get(fault.service)
        if container is None:
            raise OdsFixError(
                f"{fault.name}: the sandbox has no {fault.service} container (start it with "
                f"`ods-fix sandbox up --services {fault.service}`)"
            )
        done.append(f"{fault.name}: {fault.inject(container)}")
        log(done[-1])
    return done


def heal(log: Log = lambda _: None) -> list[str]:
    """Undo every fault: the generated deploy/.env back, every service recreated from its image (volumes kept)."""
    instance = stack.require_instance()
    pristine = instance.directory / stack.PRISTINE_ENV
    if pristine.exists():
        shutil.copyfile(pristine, instance.env_file)
        instance.env_file.chmod(0o600)
    stack.render_instance(instance)
    cli = compose_mod.detect(instance.compose)
    result = cli.run(instance.directory, "up", "-d", "--no-build", "--force-recreate", *instance.services)
    if result.returncode != 0:
        raise OdsFixError(f"compose up failed: {result.stderr.strip().splitlines()[-1:]}")
    stack.wait_healthy(stack.docker_client(), instance.project, instance.services, 240, log)
    return [f"recreated {', '.join(instance.services)}"]
