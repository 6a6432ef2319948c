"""The fix catalog, typed: read by the collection's plugin_utils/catalog.py from its fixes/*.json (the single source).

The catalog gives each option its flag and the role variable it sets; the type, default, choices and help are the
role's own, read from its meta/argument_specs.yml. Only the flags that feed a secret (how a value is supplied, not
what it is) carry their type and help in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import yaml

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
    after: tuple[str, ...] = ()  # the fixes that must have run first when both are needed (doctor's order)

    @property
    def ready(self) -> bool:
        return self.status == "ready"


@cache
def _load_module() -> ModuleType:
    return paths.load_module_util("catalog", "plugin_utils")


# A role default worked out when the role runs, as the help shows it.
SHOWN_TEMPLATES = {"{{ lookup('ansible.builtin.env', 'PWD') }}": ".", "{{ ods_state_dir }}": "ods_state_dir"}


@cache
def role_spec(role: str) -> dict[str, Any]:
    """A role's main entry point, from its meta/argument_specs.yml (read once; the C loader, at every start)."""
    text = (paths.roles_dir() / role / "meta" / "argument_specs.yml").read_text()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return dict(yaml.load(text, Loader=loader)["argument_specs"]["main"])  # a safe loader either way


def role_options(role: str) -> dict[str, dict[str, Any]]:
    """The options of a role's main entry point."""
    return dict(role_spec(role).get("options") or {})


def _help(description: str | list[str], flags: dict[str, str]) -> str:
    """A role option's description as the CLI's help: the role variables it names become their flags."""
    text = " ".join(description) if isinstance(description, list) else description
    for var, flag in sorted(flags.items(), key=lambda item: -len(item[0])):
        text = text.replace(var, f"--{flag}")
    return text


def _option(entry: dict[str, Any], specs: dict[str, dict[str, Any]], flags: dict[str, str]) -> FixOption:
    secret = entry.get("secret_source")
    spec = {"type": entry["type"], "description": entry["help"]} if secret else specs[entry["var"]]
    default = spec.get("default")
    if isinstance(default, str):
        for template, shown in SHOWN_TEMPLATES.items():
            default = default.replace(template, shown)
        default = None if "{{" in default else default
    return FixOption(
        flag=entry["flag"],
        var=entry["var"],
        type=spec["type"],
        help=_help(spec.get("description", ""), flags),
        default=default,
        choices=tuple(spec.get("choices", ())),
        required=bool(entry.get("required", False)),
        secret_source=entry.get("secret_source", ""),
        minimum=entry.get("minimum"),
    )


def _fix(entry: dict[str, Any]) -> Fix:
    role = entry["name"].replace("-", "_")
    flags = {o["var"]: o["flag"] for o in entry["options"] if not o.get("secret_source")}
    specs = role_options(role) if entry["options"] else {}
    options = tuple(_option(o, specs, flags) for o in entry["options"])
    return Fix(
        name=entry["name"],
        role=role,
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
        after=tuple(entry.get("after", ())),
    )


@cache
def fixes() -> tuple[Fix, ...]:
    return tuple(_fix(entry) for entry in _load_module().FIXES)


def dependency_order() -> tuple[str, ...]:
    """Every fix after the fixes it must run after, otherwise in the catalog's order."""
    by_name = {fix.name: fix for fix in fixes()}
    order: list[str] = []

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"the catalog's after entries loop: {' -> '.join((*path, name))}")
        for first in by_name[name].after:
            place(first, (*path, name))
        order.append(name)

    for fix in fixes():
        place(fix.name, ())
    return tuple(order)


def get(name: str) -> Fix | None:
    return next((fix for fix in fixes() if fix.name == name), None)


def fix_for(code: str, service: str) -> Fix | None:
    """The fix for a diagnose finding, by the rule the diagnose module uses (module_utils/stack/diagnosis.py)."""
    entry = paths.load_module_util("stack.diagnosis").fix_for(_load_module().symptom_map(), code, service)
    return get(entry["name"]) if entry else None


def markdown_table() -> str:
    """The README's table of the fixes one can run (`ods-fix list` shows the planned ones too)."""
    rows = ["| Command | Manual section | What it does | Changes things |", "|---|---|---|---|"]
    for fix in fixes():
        if fix.ready:
            changes = "yes, needs `--yes`" if fix.needs_yes else ("yes" if fix.changes else "no")
            rows.append(f"| `ods-fix {fix.name}` | {fix.section} | {fix.summary} | {changes} |")
    return "\n".join(rows)
