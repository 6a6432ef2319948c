"""The event source (extensions/eda/plugins/event_source/compose_events.py): the mapping of the engine's events,
the debounce, and main(queue, args) run as ansible-rulebook runs it, on an asyncio queue."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from ansible_collections.ods.fix.extensions.eda.plugins.event_source import compose_events as source

P = "one-data"


def raw(action: str, service: str = "mysql", project: str = P, **attrs: str) -> dict[str, Any]:
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": service, **attrs}
    return {"Type": "container", "Action": action, "Actor": {"Attributes": labels}}


def test_the_engine_s_events_that_are_faults_and_only_those() -> None:
    tracker = source.Tracker()
    assert source.classify(raw("die", exitCode="137"), P, tracker, 100.0) == (
        "down", "mysql", {"exit_code": 137, "asked": False}
    )  # fmt: skip
    assert source.classify(raw("oom"), P, tracker, 100.0) == ("oom", "mysql", {})
    assert source.classify(raw("health_status: unhealthy", "api"), P, tracker, 100.0) == ("unhealthy", "api", {})
    for quiet in (raw("health_status: healthy"), raw("start"), raw("die", project="other"), {"Type": "network"}):
        assert source.classify(quiet, P, tracker, 100.0) is None


def test_a_stop_that_was_asked_for_says_so_and_is_no_loop() -> None:
    tracker = source.Tracker(loop_restarts=2)
    assert source.classify(raw("kill", "redis"), P, tracker, 10.0) is None
    assert source.classify(raw("die", "redis", exitCode="0"), P, tracker, 11.0) == (
        "down", "redis", {"exit_code": 0, "asked": True}
    )  # fmt: skip
    assert source.classify(raw("die", "redis", exitCode="0"), P, tracker, 12.0)[0] == "down"  # type: ignore[index]


def test_deaths_within_the_window_make_a_restart_loop() -> None:
    tracker = source.Tracker(loop_restarts=3, loop_window=60.0)
    kinds = [source.classify(raw("die", "redis", exitCode="1"), P, tracker, t)[0] for t in (0.0, 10.0, 20.0)]  # type: ignore[index]
    assert kinds == ["down", "down", "restart_loop"]
    assert source.classify(raw("die", "redis", exitCode="1"), P, tracker, 200.0)[0] == "down"  # type: ignore[index]


def test_a_burst_is_one_event_with_every_service_and_kind() -> None:
    burst = source.Burst(P, debounce=5.0)
    assert burst.wait(0.0) is None and burst.due(0.0) is None
    burst.add(("down", "mysql", {"exit_code": 0}), 1.0)
    burst.add(("unhealthy", "api", {}), 3.0)
    burst.add(("down", "mysql", {"exit_code": 0}), 4.0)
    assert burst.wait(4.0) == 2.0 and burst.due(5.9) is None
    event = burst.due(6.0)
    assert event is not None
    body = event["ods_event"]
    assert body["services"] == ["api", "mysql"] and body["kinds"] == ["down", "unhealthy"]
    assert body["detail"]["mysql"] == {"kinds": ["down"], "exit_code": 0} and body["project"] == P
    assert burst.due(100.0) is None  # sent once


class Container:
    def __init__(self, service: str, status: str = "running", health: str = "healthy", oom: bool = False) -> None:
        self.labels = {"com.docker.compose.project": P, "com.docker.compose.service": service}
        self.status = status
        self.attrs = {"State": {"OOMKilled": oom, "ExitCode": 137 if oom else 0, "Health": {"Status": health}}}


class Client:
    """The engine: its containers now, and an event stream that gives `later` then waits (as the real one does)."""

    def __init__(self, containers: list[Container], later: list[dict[str, Any]]) -> None:
        self.listed = containers
        self.later = later
        self.done = threading.Event()
        self.containers = self

    def list(self, all: bool = False, filters: dict[str, str] | None = None) -> list[Container]:
        assert all and filters == {"label": f"com.docker.compose.project={P}"}
        return self.listed

    def events(self, decode: bool, filters: dict[str, str]) -> Any:
        assert decode and filters["type"] == "container"
        yield from self.later
        self.done.wait(5)


def collect(client: Client, count: int) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        args = {"project": P, "client": client, "debounce": 0.2, "interval": 60}
        task = asyncio.create_task(source.main(queue, args))
        try:
            return [await asyncio.wait_for(queue.get(), 5) for _ in range(count)]
        finally:
            task.cancel()
            client.done.set()

    return asyncio.run(run())


def test_main_sends_what_is_wrong_at_the_start_then_what_the_stream_says() -> None:
    client = Client(
        [Container("mysql", status="exited"), Container("api", health="unhealthy"), Container("web")],
        [raw("die", "redis", exitCode="1")],
    )
    first = collect(client, 1)[0]["ods_event"]
    # What was wrong at the start and what the stream said at once arrive together: one burst.
    assert first["services"] == ["api", "mysql", "redis"]
    assert first["kinds"] == ["down", "unhealthy"]
    assert first["detail"]["mysql"]["status"] == "exited" and first["detail"]["redis"]["exit_code"] == 1


def test_an_oom_kill_found_at_the_start_is_named_so() -> None:
    event = collect(Client([Container("redis", status="exited", oom=True)], []), 1)[0]["ods_event"]
    assert event["kinds"] == ["oom"] and event["detail"]["redis"]["exit_code"] == 137
