"""scripts/new-fix (pyrunner/scaffold.py): every file of one name, each one that parses, and refusals that write
nothing. (The whole scaffold in a scratch clone, then `pytest tests/test_catalog.py`: docs/adding-a-fix.md.)"""

from __future__ import annotations

import ast
import json

import pytest
import yaml

from pyrunner import paths, scaffold


def test_every_file_is_of_the_one_name() -> None:
    written = scaffold.files("redis-memory", "Redis 内存不足")
    for path in written:
        assert "redis_memory" in path or "redis-memory" in path, path
    assert "roles/redis_memory/tasks/main.yml" in written
    assert "molecule/redis_memory/verify.yml" in written
    assert "pyrunner/sandbox/fault_redis_memory.py" in written


def test_every_file_parses_as_what_it_is() -> None:
    for path, text in scaffold.files("redis-memory", "Redis 内存不足 (Redis out of memory)").items():
        if path.endswith(".yml"):
            assert yaml.safe_load(text) is not None or path.endswith("defaults/main.yml"), path
        elif path.endswith(".py"):
            ast.parse(text, path)
        assert "$" not in text.replace("${", ""), f"{path}: a placeholder left"


def test_the_catalog_entry_is_planned_and_comes_last() -> None:
    entry = json.loads(scaffold.catalog_entry("redis-memory", "Redis 内存不足", 31))
    entries = (paths.collection_dir() / "plugins" / "plugin_utils" / "fixes").glob("*.json")
    orders = [json.loads(path.read_text())["order"] for path in entries]
    assert entry["status"] == "planned" and entry["issue"] == 31
    assert entry["order"] > max(orders)


@pytest.mark.parametrize("name", ["Redis-Memory", "redis_memory", "9redis", "redis--memory", "redis memory"])
def test_a_name_that_is_not_a_fix_name_is_refused(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert scaffold.main([name]) == 2
    assert "not a fix name" in capsys.readouterr().err


def test_an_existing_fix_is_refused_and_nothing_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in paths.roles_dir().iterdir())
    assert scaffold.main(["api-slow"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert sorted(p.name for p in paths.roles_dir().iterdir()) == before


@pytest.mark.parametrize("section", ['Redis "memory"', "Redis: memory", "Redis $HOME", "a\nb"])
def test_a_section_that_would_break_the_files_is_refused(section: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert scaffold.main(["redis-memory", "--section", section]) == 2
    assert "leave out" in capsys.readouterr().err


def test_the_scenario_does_not_destroy_before_create_and_its_files_keep_to_the_line_length() -> None:
    sequence = yaml.safe_load(scaffold.files("redis-memory", "Redis 内存不足")["molecule/redis_memory/molecule.yml"])
    assert sequence["scenario"]["test_sequence"][0] == "create"
    for path, text in scaffold.files("a-long-fix-name", "S").items():
        if path.endswith(".py"):
            assert max(len(line) for line in text.splitlines()) <= 120, path
