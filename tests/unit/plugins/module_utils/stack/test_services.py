"""Services brought to a wanted state (module_utils/stack/services.py): the plan, waiting for health, redacted log
tails, nginx reloaded only when an API came back elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.stack import (
    services,
)


@pytest.mark.parametrize(
    ("current", "wanted", "action"),
    [
        ("healthy", "healthy", None),
        ("running", "healthy", None),  # no health check: running is as good as it gets
        ("starting", "healthy", "wait"),
        ("unhealthy", "healthy", "restart"),
        ("restarting", "healthy", "restart"),
        ("exited", "healthy", "start"),
        ("created", "started", "start"),
        ("paused", "healthy", "unpause"),
        ("missing", "healthy", "create"),
        ("unhealthy", "started", None),  # started does not restart a running container
        ("healthy", "restarted", "restart"),
        ("healthy", "stopped", "stop"),
        ("exited", "stopped", None),
    ],
)
def test_ensure_plans_only_what_is_needed(current: str, wanted: str, action: str | None) -> None:
    assert services.plan(current, wanted)[0] == action


def test_waiting_for_health_looks_often_at_first_then_every_two_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    looks = iter(["starting"] * 8 + ["healthy"])
    monkeypatch.setattr(services, "condition", lambda *_args: next(looks))
    pauses: list[float] = []
    monkeypatch.setattr(services.time, "sleep", pauses.append)
    assert services.wait_healthy(object(), timeout=60) == (True, "healthy")
    assert pauses[0] == 0.25 and pauses == sorted(pauses) and max(pauses) == 2.0


def test_a_log_tail_is_redacted_before_it_reaches_a_message() -> None:
    class Crashed:
        def __init__(self) -> None:
            self.attrs = {"Config": {"Env": ["DB_PASSWORD=hunter2-secret"], "Cmd": ["app", "--token", "tok-99999"]}}

        def logs(self, tail: int) -> bytes:
            return b"boot\nERROR cannot log in with hunter2-secret (token tok-99999, redis://:pw12345@redis)\n"

    line = services.log_tail(Crashed())
    assert "hunter2-secret" not in line and "tok-99999" not in line and "pw12345" not in line
    assert line.startswith("ERROR cannot log in with [REDACTED:DB_PASSWORD]")


class Box:
    """A container as services.addresses and reload_front_end see it."""

    def __init__(self, name: str, ip: str, status: str = "running") -> None:
        self.name, self.status, self.reloads = name, status, 0
        self.attrs: dict[str, Any] = {"NetworkSettings": {"Networks": {"one-data-network": {"IPAddress": ip}}}}

    def exec_run(self, cmd: list[str]) -> tuple[int, bytes]:
        assert cmd == ["nginx", "-s", "reload"]
        self.reloads += 1
        return 0, b""


PROFILE: dict[str, Any] = {
    "project": "p",
    "roles": {"web": "web-frontend", "data_api": "data-api", "apis": ["data-api"]},
    "services": {"web-frontend": {"role": "web", "flavor": "nginx"}, "data-api": {"role": "api"}},
}


@pytest.mark.parametrize(("after_ip", "reloads"), [("192.168.0.9", 1), ("192.168.0.4", 0)])
def test_nginx_is_reloaded_only_when_an_api_came_back_elsewhere(
    monkeypatch: pytest.MonkeyPatch, after_ip: str, reloads: int
) -> None:
    web, api = Box("web", "192.168.0.2"), Box("api", "192.168.0.4")
    monkeypatch.setattr(services.compose, "project_containers", lambda _api, _p: {"web-frontend": web, "data-api": api})
    before = services.addresses(None, PROFILE, ["data-api"])
    api.attrs["NetworkSettings"]["Networks"]["one-data-network"]["IPAddress"] = after_ip
    actions = services.reload_front_end(None, PROFILE, before)
    assert web.reloads == reloads and len(actions) == reloads
    assert not actions or actions[0].startswith("reloaded web-frontend's nginx: data-api came back")
