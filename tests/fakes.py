"""A fake Docker engine for unit tests of discovery: containers with labels and a config, no images."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def compose_labels(project: str, files: list[Path], working_dir: Path, version: str = "2.40.3") -> dict[str, str]:
    """The labels Compose puts on a project's containers."""
    return {
        "com.docker.compose.project": project,
        "com.docker.compose.project.config_files": ",".join(str(f) for f in files),
        "com.docker.compose.project.working_dir": str(working_dir),
        "com.docker.compose.version": version,
    }


class FakeContainer:
    def __init__(
        self,
        *,
        name: str,
        service: str,
        labels: dict[str, str],
        status: str = "running",
        env: list[str] | None = None,
        cmd: list[str] | None = None,
        image: str = "",
    ) -> None:
        self.name = name
        self.status = status
        self.labels = {**labels, "com.docker.compose.service": service}
        self.attrs: dict[str, Any] = {
            "Created": "2026-12-01T00:00:00Z",
            "Config": {"Env": env or [], "Cmd": cmd or [], "Image": image, "Entrypoint": None},
            "State": {"Status": status},
        }


class _Containers:
    def __init__(self, containers: list[FakeContainer]) -> None:
        self._containers = containers

    def list(
        self, all: bool = False, filters: dict[str, str] | None = None, ignore_removed: bool = False
    ) -> list[FakeContainer]:
        label = (filters or {}).get("label", "")
        key, _, value = label.partition("=")
        return [c for c in self._containers if key in c.labels and (not value or c.labels[key] == value)]


class _Images:
    def get(self, name: str) -> Any:
        raise LookupError(name)


class FakeApi:
    def __init__(self, containers: list[FakeContainer]) -> None:
        self.containers = _Containers(containers)
        self.images = _Images()
