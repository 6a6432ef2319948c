#!/usr/bin/env python3
"""The scenarios that test what a change touches, for `scripts/test --quick`: one per role it reaches.

usage: changed_scenarios.py BASE
The change is every file that differs from BASE's merge base with HEAD (committed or not, new files too). A
scenario's own files, or its role's, name it; a module names the roles whose tasks use it, and a module_util
the modules (and module_utils, action plugins) that import it, each in turn. Shared files (molecule/shared, the
ods role, the CLI, the sandbox) name `diagnose`, the cheapest scenario that goes through all of them. Prints the
scenarios, space-separated; nothing when the change reaches none (documentation).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "collections" / "ansible_collections" / "ods" / "fix" / "plugins"
SHARED = "diagnose"


def git(*args: str) -> list[str]:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.split() if result.returncode == 0 else []


def changed(base: str) -> set[str]:
    merge_base = (git("merge-base", "HEAD", base) or ["HEAD"])[0]
    files = git("diff", "--name-only", merge_base) + git("ls-files", "--others", "--exclude-standard")
    return set(files)


def importers(name: str) -> set[str]:
    """Python files of the collection that import module_utils `name` (as `module_utils import name` or
    `module_utils.name`)."""
    pattern = re.compile(rf"module_utils(?:\.\w+)*(?: import [\w, ()\s]*\b{name}\b|\.{name}\b)")
    return {str(p.relative_to(ROOT)) for p in PLUGINS.rglob("*.py") if pattern.search(p.read_text())}


def scenarios_for(files: set[str]) -> set[str]:
    scenarios = {p.name for p in (ROOT / "molecule").iterdir() if p.is_dir() and p.name != "shared"}
    found: set[str] = set()
    seen: set[str] = set()
    todo = list(files)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        parts = Path(path).parts
        if (parts[:1] == ("molecule",) and len(parts) > 1) or (parts[:1] == ("roles",) and len(parts) > 1):
            found.add(parts[1] if parts[1] in scenarios else SHARED)
        elif path == "tests/cli/test_bad_input_catalog.py":
            found.add("bad_input_catalog")
        elif parts[:1] == ("pyrunner",) or path in ("ansible.cfg", "pyproject.toml"):
            found.add(SHARED)
        elif "/plugins/modules/" in path or "/plugins/action/" in path:
            module = Path(path).stem
            for task in (ROOT / "roles").rglob("*.yml"):
                if f"ods.fix.{module}" in task.read_text():
                    todo.append(str(task.relative_to(ROOT)))
        elif "/plugins/module_utils/" in path and path.endswith(".py"):
            todo.extend(importers(Path(path).stem))
    return found


def main(base: str) -> int:
    print(" ".join(sorted(scenarios_for(changed(base)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "origin/main"))
