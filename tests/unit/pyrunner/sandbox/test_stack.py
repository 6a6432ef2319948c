"""The sandbox's wait for health: a starting container is ready once its own check passes, not one interval later."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import layouts, stack


class FakeContainer:
    def __init__(self, test: list[str] | None, code: int = 0, gone: bool = False) -> None:
        self.attrs: dict[str, Any] = {"Config": {"Healthcheck": {"Test": test}} if test else {}}
        self.code = code
        self.gone = gone
        self.ran: list[list[str]] = []

    def exec_run(self, argv: list[str]) -> tuple[int, bytes]:
        if self.gone:
            raise RuntimeError("container is not running")
        self.ran.append(argv)
        return self.code, b""


@pytest.fixture
def instance(tmp_path: Any) -> stack.Instance:
    return stack.Instance(directory=tmp_path, project="p", layout="manual", port_offset=0, compose="v2")


def state(health: str | None, status: str = "running") -> dict[str, Any]:
    return {"status": status, "health": health, "exit_code": 0, "name": "c"}


def test_a_starting_container_whose_own_check_passes_is_ready(instance: stack.Instance) -> None:
    container = FakeContainer(["CMD-SHELL", "redis-cli ping | grep -q PONG || exit 1"])
    assert stack.ready(instance, "redis", state("starting"), container)
    assert container.ran == [["sh", "-c", "redis-cli ping | grep -q PONG || exit 1"]]


def test_a_starting_container_whose_own_check_fails_is_not_ready(instance: stack.Instance) -> None:
    container = FakeContainer(["CMD", "mysqladmin", "ping"], code=1)
    assert not stack.ready(instance, "mysql", state("starting"), container)
    assert container.ran == [["mysqladmin", "ping"]]


def test_a_container_gone_while_checked_is_not_ready(instance: stack.Instance) -> None:
    assert not stack.ready(instance, "mysql", state("starting"), FakeContainer(["CMD", "true"], gone=True))


def test_docker_word_stands_when_not_starting(instance: stack.Instance) -> None:
    container = FakeContainer(["CMD", "true"])
    assert stack.ready(instance, "mysql", state("healthy"), container)
    assert not stack.ready(instance, "mysql", state("unhealthy"), container)
    assert not stack.ready(instance, "mysql", state(None, status="exited"), container)
    assert container.ran == []


def test_a_port_offset_that_pushes_a_port_past_65535_is_refused_naming_the_largest_that_fits() -> None:
    stack.check_port_offset(layouts.LOCAL, 35000)  # 29530 + 35000 = 64530
    with pytest.raises(OdsFixError, match=r"ports at 55000-71530; ports go from 1 to 65535: give at most 36005"):
        stack.check_port_offset(layouts.LOCAL, 42000)
    with pytest.raises(OdsFixError, match="ports go from 1"):
        stack.check_port_offset(layouts.MANUAL, -10000)


def test_down_stops_the_port_taken_faults_server_and_nothing_that_reused_another_pid(instance: stack.Instance) -> None:
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "0"], cwd=instance.directory)
    other = subprocess.Popen(["sleep", "30"])
    try:
        stack.keep_squatter(instance, server.pid)
        stack.keep_squatter(instance, other.pid)  # as if the fault's pid had been reused by another program
        stack.keep_squatter(instance, 999999999)  # long gone
        said: list[str] = []
        stack.stop_squatters(instance, said.append)
        assert server.wait(timeout=10) == -15
        assert other.poll() is None
        assert said == [f"stopped process {server.pid}, which held a port of the sandbox"]
        assert not (instance.directory / stack.SQUATTERS).exists()
    finally:
        server.kill()
        other.kill()
