"""Which Docker Compose a machine has: the v2 plugin (`docker compose`) or v1 (`docker-compose`).

Both are supported; a project created by one must be managed by the same one.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pyrunner import paths
from pyrunner.errors import OdsFixError

FLAVORS = ("v1", "v2")


@dataclass(frozen=True)
class ComposeCli:
    flavor: str
    argv: tuple[str, ...]
    version: str

    def command(self, project_dir: Path, *args: str) -> list[str]:
        # No -f: both versions then read docker-compose.yml and docker-compose.override.yml.
        return [*self.argv, "--project-directory", str(project_dir), *args]

    def run(self, project_dir: Path, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(project_dir, *args),
            cwd=project_dir,
            text=True,
            check=False,
            capture_output=capture,
        )


def available() -> dict[str, ComposeCli]:
    """The Compose CLIs installed here, found by the rule the modules use on a target."""
    core = paths.load_module_util("stack.compose_lookup")
    clis = core.installed_clis().items()
    return {flavor: ComposeCli(flavor, tuple(argv), version) for flavor, (argv, version) in clis}


def detect(preferred: str | None = None) -> ComposeCli:
    """The Compose to use: `preferred` (v1, v2 or auto), else $ODS_FIX_COMPOSE, else v2 before v1."""
    choice = (preferred or os.environ.get("ODS_FIX_COMPOSE") or "auto").lower()
    if choice not in (*FLAVORS, "auto"):
        raise OdsFixError(f"unknown Compose flavor {choice!r}: use v1, v2 or auto")
    found = available()
    if choice == "auto":
        for flavor in ("v2", "v1"):
            if flavor in found:
                return found[flavor]
        raise OdsFixError("no Docker Compose found: install docker-compose (v1) or the docker compose plugin (v2)")
    if choice not in found:
        hint = "apt-get install docker-compose" if choice == "v1" else "the docker compose CLI plugin"
        raise OdsFixError(f"Compose {choice} is not installed ({hint})")
    return found[choice]
