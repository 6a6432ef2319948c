"""How the report tests call a builder: by the fix's name, with raw results as its role registers them."""

from __future__ import annotations

import importlib
from typing import Any

REPORTS = "ansible_collections.ods.fix.plugins.plugin_utils.reports"

# What Ansible registers for a task whose `when` was false.
SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def build(fix: str, results: dict[str, Any], options: dict[str, Any] | None = None, check: bool = False, **kw: Any):
    """reports/<fix>.py's build (or kw["builder"]) on these results."""
    module = importlib.import_module(f"{REPORTS}.{fix}")
    return getattr(module, kw.get("builder", "build"))(results, options or {}, check)
