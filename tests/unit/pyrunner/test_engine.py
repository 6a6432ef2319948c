"""The Compose projects on the engine, from its containers' labels, over its Unix socket."""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyrunner import engine

REAL_CONTAINERS = engine.containers  # tests/conftest.py hides the machine's engine from every other test


def container(project: str, working_dir: str = "", state: str = "running", **labels: str) -> dict[str, Any]:
    labels = {engine.PROJECT_LABEL: project, **labels}
    if working_dir:
        labels[engine.WORKING_DIR_LABEL] = working_dir
    return {"Labels": labels, "State": state}


def test_projects_from_labels() -> None:
    listed = [
        container("local", "/srv/ods/deploy/local"),
        container("local", "/srv/ods/deploy/local", state="exited"),
        container("local", "/srv/ods/deploy/local", **{engine.ONEOFF_LABEL: "True"}),  # `compose run`: not the stack
        container("old", **{engine.CONFIG_FILES_LABEL: "/srv/old/docker-compose.yml,/srv/old/extra.yml"}),
    ]
    assert engine.compose_projects(listed) == [
        engine.Project("local", "/srv/ods/deploy/local", containers=2, running=1),
        engine.Project("old", "/srv/old", containers=1, running=1),
    ]


class _Engine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def fake_engine(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, list[str]]]:
    """An HTTP server on a Unix socket that answers the containers listing as dockerd does."""
    asked: list[str] = []
    garbled = getattr(request, "param", False)  # answer what a proxy in front of the socket might

    class Handler(http.server.BaseHTTPRequestHandler):
        def address_string(self) -> str:
            return "local"

        def do_GET(self) -> None:
            asked.append(self.path)
            body = json.dumps([container("ods", "/srv/ods")]).encode() if not garbled else b"<html>proxy</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    path = tmp_path / "docker.sock"
    server = _Engine(str(path), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path, asked
    server.shutdown()
    server.server_close()


def test_the_listing_over_the_engines_socket(
    fake_engine: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, asked = fake_engine
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    assert REAL_CONTAINERS() == [container("ods", "/srv/ods")]
    assert asked[0].startswith("/containers/json?all=1&filters=") and "com.docker.compose.project" in asked[0]


def test_an_engine_that_is_not_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")
    with pytest.raises(engine.EngineUnreachableError, match=r"cannot reach the Docker engine at unix://.*none\.sock"):
        REAL_CONTAINERS(timeout=1)


@pytest.mark.parametrize("fake_engine", [True], indirect=True)
def test_a_socket_that_answers_something_else(
    fake_engine: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{fake_engine[0]}")
    with pytest.raises(engine.EngineUnreachableError, match="answered what is not JSON"):
        REAL_CONTAINERS(timeout=2)
