"""Shared fixtures: module_utils importable, a private state home per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import ROOT

sys.path.insert(0, str(ROOT / "collections"))  # ansible_collections.ods.fix.plugins.module_utils


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own ODS_FIX_HOME and no sandbox, so nothing touches the user's."""
    home = tmp_path / "home"
    monkeypatch.setenv("ODS_FIX_HOME", str(home))
    monkeypatch.setenv("ODS_FIX_SANDBOX_DIR", str(tmp_path / "no-sandbox"))
    for name in ("ODS_FIX_PROJECT_DIR", "ODS_FIX_PROJECT_NAME"):
        monkeypatch.delenv(name, raising=False)
    # Where a command stands, the engine has no Compose project, whatever runs on this machine
    monkeypatch.setattr("pyrunner.engine.containers", lambda timeout=10.0: [])
    return home


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write
