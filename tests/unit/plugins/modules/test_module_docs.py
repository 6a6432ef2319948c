"""Every ods.fix module documents itself in YAML that parses, as ansible-doc reads it."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyrunner import paths

MODULES = sorted((paths.collection_dir() / "plugins" / "modules").glob("*.py"))


def documented(path: Path) -> dict[str, Any]:
    values = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    values[target.id] = yaml.safe_load(node.value.value)
    return values


def strings_only(descriptions: object, where: str) -> None:
    items = descriptions if isinstance(descriptions, list) else [descriptions]
    for item in items:
        assert isinstance(item, str), f"{where}: a description line parsed as {type(item).__name__} (a ': ' in it?)"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_documentation_parses(path: Path) -> None:
    docs = documented(path)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    doc = docs["DOCUMENTATION"]
    assert doc["module"] == path.stem
    strings_only(doc["description"], f"{path.stem} description")
    for name, option in (doc.get("options") or {}).items():
        strings_only(option.get("description", ""), f"{path.stem} option {name}")
    for name, value in (docs["RETURN"] or {}).items():
        strings_only(value.get("description", ""), f"{path.stem} return {name}")
