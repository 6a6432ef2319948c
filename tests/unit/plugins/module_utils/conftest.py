"""The module_utils' unit tests see no Compose CLI on the machine, whatever is installed: discovery asks Compose
only to word a refusal (discovery.compose_refusal) and for a config hash (drift), and a test that wants one gives
its own fake CLI."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_compose_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "ansible_collections.ods.fix.plugins.module_utils.stack.compose_lookup.installed_clis", lambda: {}
    )
    monkeypatch.setattr(
        "ansible_collections.ods.fix.plugins.module_utils.stack.compose_lookup.cli_for", lambda wanted: None
    )
