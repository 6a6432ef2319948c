"""The catalog is the single source: every ready fix has its role, playbook, specs and scenario."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pyrunner import catalog, paths
from pyrunner.cli import cli

ROOT = paths.asset_root()
READY = [fix for fix in catalog.fixes() if fix.ready]
PLANNED = [fix for fix in catalog.fixes() if not fix.ready]


def test_names_and_roles_are_unique() -> None:
    names = [fix.name for fix in catalog.fixes()]
    roles = [fix.role for fix in catalog.fixes()]
    assert len(names) == len(set(names))
    assert len(roles) == len(set(roles))


def scenario_roles() -> set[str]:
    """Roles with a scenario: molecule/<role>/, or listed in a scenario's ods_molecule_roles."""
    roles = set()
    for config in (ROOT / "molecule").glob("*/molecule.yml"):
        roles.add(config.parent.name)
        data = yaml.safe_load(config.read_text()) or {}
        group = ((data.get("provisioner") or {}).get("inventory") or {}).get("group_vars", {}).get("all", {})
        roles.update(group.get("ods_molecule_roles") or [])
    return roles


@pytest.mark.parametrize("fix", READY, ids=lambda f: f.name)
def test_ready_fix_is_complete(fix: catalog.Fix) -> None:
    role = ROOT / "roles" / fix.role
    assert (role / "tasks" / "main.yml").is_file()
    assert paths.playbook(fix.name).is_file()
    assert fix.role in scenario_roles(), "each role has a Molecule scenario, its own or one that declares it"
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    for option in fix.options:
        assert option.var in specs, f"--{option.flag} sets {option.var}, which the role does not declare"
        assert option.var in defaults
    playbook = paths.playbook(fix.name).read_text()
    assert f"role: ods.fix.{fix.role}" in playbook


@pytest.mark.parametrize("fix", READY, ids=lambda f: f.name)
def test_ready_fix_is_a_subcommand(fix: catalog.Fix) -> None:
    assert fix.name in cli.commands  # type: ignore[attr-defined]


def test_every_role_variable_is_documented_and_prefixed() -> None:
    for role in sorted((ROOT / "roles").iterdir()):
        defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
        specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
        for name in defaults:
            assert name.startswith(f"{role.name}_"), f"{role.name}: {name} lacks the role prefix"
            assert name in specs["options"], f"{role.name}: {name} missing from argument_specs"
            assert specs["options"][name].get("description"), f"{role.name}: {name} has no description"


def test_readme_table_is_generated_from_the_catalog() -> None:
    readme = (ROOT / "README.md").read_text()
    assert catalog.markdown_table() in readme, "regenerate with `ods-fix list --markdown`"


@pytest.mark.parametrize(
    ("code", "role", "expected"),
    [
        ("stopped", "database", "mysql-connect"),
        ("db_auth", "database", "mysql-connect"),
        ("stopped", "cache", "api-slow"),
        ("stopped", "vector_meta", "milvus-restart"),
        ("unhealthy", "vector_store", "milvus-restart"),
        ("stopped", "api", "api-500"),
        ("config_missing", "api", "api-500"),
        ("dist_missing", "web", "web-recover"),
        ("disk_full", "database", "mysql-disk"),
        ("high_cpu", "api", "perf"),
    ],
)
def test_triage_maps_findings_on_roles_to_fixes(code: str, role: str, expected: str) -> None:
    fix = catalog.fix_for(code, role)
    assert fix is not None and fix.name == expected


def test_no_fix_for_unknown_finding() -> None:
    assert catalog.fix_for("error_logs", "other") is None


def test_symptoms_and_dependencies_name_roles_not_services() -> None:
    """The catalog names no service: a stack may call its database anything (real-stacks.md)."""
    module = paths.load_module_util("catalog", "plugin_utils")
    depends_on = paths.load_module_util("stack.diagnosis").DEPENDS_ON
    roles = {"database", "cache", "vector_store", "vector_meta", "vector_object", "api", "web", "*"}
    for fix in module.FIXES:
        for pattern in fix["symptoms"]:
            assert pattern.split(":", 1)[1] in roles, f"{fix['name']}: {pattern} names a service"
    for role, needs in depends_on.items():
        assert {role, *needs} <= roles


def test_every_fix_names_its_manual_section() -> None:
    for fix in catalog.fixes():
        assert re.search(r"[\u4e00-\u9fff]", fix.section), f"{fix.name}: section should quote the manual"


def test_options_take_type_default_choices_and_help_from_the_role_specs() -> None:
    """The catalog maps flags to variables; what a variable is (type, default, choices, help) is the role's alone."""
    own = {"type", "default", "choices", "help"}
    for entry in catalog._load_module().FIXES:
        for option in entry["options"]:
            if option.get("secret_source"):
                continue  # how a secret is supplied (a file, a variable's name) is the CLI's own
            assert not own & option.keys(), (
                f"{entry['name']} --{option['flag']}: {own & option.keys()} belong in the spec"
            )
    for fix in catalog.fixes():
        specs = catalog.role_options(fix.role) if fix.options else {}
        for option in fix.options:
            if option.secret_source:
                continue
            spec = specs[option.var]
            assert option.type == spec["type"]
            assert option.help and option.var not in option.help
            assert list(option.choices) == list(spec.get("choices", []))


def test_doctors_order_puts_every_fix_after_the_fixes_it_needs() -> None:
    order = catalog.dependency_order()
    assert sorted(order) == sorted(fix.name for fix in catalog.fixes())
    for fix in catalog.fixes():
        for first in fix.after:
            assert catalog.get(first) is not None, f"{fix.name} runs after {first}, which is no fix"
            assert order.index(first) < order.index(fix.name)
    assert (
        order.index("mysql-disk") < order.index("mysql-connect") < order.index("api-500") < order.index("web-recover")
    )


def test_role_readmes_are_generated_from_the_specs() -> None:
    from pyrunner import roledocs  # noqa: PLC0415

    assert roledocs.main(["--check"]) == 0, "regenerate with `python -m pyrunner.roledocs`"


def _loaded_from_file() -> list[str]:
    found = set()
    for source in Path(paths.__file__).parent.rglob("*.py"):
        for name, package in re.findall(r'load_module_util\("([\w.]+)"(?:, "(\w+)")?\)', source.read_text()):
            found.add(f"{package or 'module_utils'}/{name.replace('.', '/')}")
    return sorted(found)


@pytest.mark.parametrize("name", _loaded_from_file())
def test_module_utils_the_cli_loads_from_their_file_need_the_standard_library_only(name: str) -> None:
    """paths.load_module_util runs these files alone: an import of the collection there fails only in the CLI."""
    import ast  # noqa: PLC0415
    import sys  # noqa: PLC0415

    path = paths.collection_dir() / "plugins" / f"{name}.py"
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def still_to_write(fix: catalog.Fix) -> list[str]:
    """The files of a planned fix (as scripts/new-fix wrote them) that still say TODO."""
    role = fix.role
    places = [
        f"collections/ansible_collections/ods/fix/plugins/plugin_utils/fixes/{role}.json",
        f"collections/ansible_collections/ods/fix/plugins/plugin_utils/reports/{role}.py",
        f"tests/unit/plugins/plugin_utils/reports/test_{role}.py",
        f"pyrunner/sandbox/fault_{role}.py",
        f"collections/ansible_collections/ods/fix/changelogs/fragments/{fix.name}.yml",
    ]
    files = [ROOT / place for place in places]
    files += sorted((ROOT / "roles" / role).rglob("*.yml")) + sorted((ROOT / "molecule" / role).glob("*.yml"))
    return [str(path.relative_to(ROOT)) for path in files if path.is_file() and "TODO" in path.read_text()]


@pytest.mark.parametrize("fix", PLANNED, ids=lambda f: f.name)
def test_a_planned_fix_says_what_is_still_to_write(fix: catalog.Fix) -> None:
    """A planned fix is not run (the CLI refuses it, scripts/test skips its scenario); this says what is left."""
    left = still_to_write(fix)
    if not left:
        pytest.fail(f"{fix.name} has nothing left to write: set its status to ready in its catalog entry")
    pytest.skip(f"{fix.name} is planned; still to write: " + ", ".join(left))
