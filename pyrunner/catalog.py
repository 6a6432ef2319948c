"""The fix catalog, typed: read from the collection's module_utils/catalog.py (the single source)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from pyrunner import paths


@dataclass(frozen=True)
class FixOption:
    flag: str  # CLI flag without dashes, e.g. "log-lines"
    var: str  # the role variable it sets
    type: str  # "int", "float", "str", "path", "bool", "choice"
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    required: bool = False
    secret_source: str = ""  # "file" or "env": a new secret value, handed to the role as a private file's path
    minimum: int | None = None  # the smallest number accepted: below it is a usage error, not a role failure


@dataclass(frozen=True)
class Fix:
    name: str
    role: str
    section: str
    summary: str
    changes: bool
    needs_yes: bool
    status: str
    issue: int
    symptoms: tuple[str, ...]
    manual_remedy: str
    options: tuple[FixOption, ...]
    subcommands: tuple[str, ...] = ()  # e.g. incident's `verify BUNDLE`, which runs here, not through Ansible

    @property
    def ready(self) -> bool:
        return self.status == "ready"


@cache
def _load_module() -> ModuleType:
    return paths.load_module_util("catalog")


def _fix(entry: dict[str, Any]) -> Fix:
    options = tuple(
        FixOption(
            flag=o["flag"],
            var=o["var"],
            type=o["type"],
            help=o["help"],
            default=o.get("default"),
            choices=tuple(o.get("choices", ())),
            required=bool(o.get("required", False)),
            secret_source=o.get("secret_source", ""),
            minimum=o.get("minimum"),
        )
        for o in entry["options"]
    )
    return Fix(
        name=entry["name"],
        role=entry["name"].replace("-", "_"),
        section=entry["section"],
        summary=entry["summary"],
        changes=entry["changes"],
        needs_yes=entry["needs_yes"],
        status=entry["status"],
        issue=entry["issue"],
        symptoms=tuple(entry["symptoms"]),
        manual_remedy=entry["manual_remedy"],
        options=options,
        subcommands=tuple(entry.get("subcommands", ())),
    )


@cache
def fixes() -> tuple[Fix, ...]:
    return tuple(_fix(entry) for entry in _load_module().FIXES)


def get(name: str) -> Fix | None:
    return next((fix for fix in fixes() if fix.name == name), None)


def fix_for(code: str, service: str) -> Fix | None:
    """The fix for a diagnose finding, by the same rule the diagnose module uses."""
    entry = _load_module().fix_for(code, service)
    return get(entry["name"]) if entry else None


def markdown_table() -> str:
    """The README's table of fixes."""
    rows = ["| Command | Manual section | What it does | Changes things | Status |", "|---|---|---|---|---|"]
    for fix in fixes():
        changes = "yes, needs `--yes`" if fix.needs_yes else ("yes" if fix.changes else "no")
        status = "ready" if fix.ready else f"planned (issue #{fix.issue})"
        rows.append(f"| `ods-fix {fix.name}` | {fix.section} | {fix.summary} | {changes} | {status} |")
    return "\n".join(rows)
