"""Which stack a command works on: flags, environment, and where you stand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyrunner import engine, target
from pyrunner.errors import ExitCode, OdsFixError


class _AnsibleYaml(yaml.SafeLoader):
    """YAML as Ansible reads an inventory: `!unsafe` marks a string it must not template."""


_AnsibleYaml.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]


def load_inventory(text: str) -> Any:
    return yaml.load(text, Loader=_AnsibleYaml)  # a SafeLoader with one more tag


def project(name: str, working_dir: Path | str) -> engine.Project:
    return engine.Project(name, str(working_dir), containers=3, running=3)


def compose_file(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "docker-compose.yml").write_text("services: {}\n")
    return directory


def resolve(cwd: Path, known: list[engine.Project], **flags: object) -> target.Target:
    options: dict[str, object] = {"inventory": None, **flags}
    return target.resolve(cwd=cwd, env={}, projects=lambda: known, **options)  # type: ignore[arg-type]


def test_the_project_whose_working_dir_is_here(tmp_path: Path) -> None:
    chosen = resolve(tmp_path, [project("ods", tmp_path), project("other", "/srv/other")])
    assert (chosen.project_dir, chosen.project_name, chosen.how) == (
        tmp_path,
        "ods",
        "the Compose project of the current folder",
    )


def test_from_the_checkout_root_the_project_running_from_deploy_local(tmp_path: Path) -> None:
    local = compose_file(tmp_path / "deploy" / "local")
    chosen = resolve(tmp_path, [project("local", local)])
    assert (chosen.project_dir, chosen.project_name) == (local, "local")
    assert chosen.how == "the Compose project under the current folder"


def test_from_a_folder_below_the_nearest_project_above(tmp_path: Path) -> None:
    below = tmp_path / "checkout" / "deploy" / "local" / "config"
    below.mkdir(parents=True)
    known = [project("local", tmp_path / "checkout" / "deploy" / "local"), project("home", tmp_path)]
    assert resolve(below, known).project_name == "local"


def test_two_projects_under_the_current_folder_are_never_guessed_between(tmp_path: Path) -> None:
    known = [project("one", tmp_path / "a"), project("two", tmp_path / "b")]
    with pytest.raises(OdsFixError, match=r"2 stacks are where you stand \(one in .*a; two in .*b\): .*--project-name"):
        resolve(tmp_path, known)


def test_two_projects_from_one_folder_are_never_guessed_between(tmp_path: Path) -> None:
    with pytest.raises(OdsFixError, match="choose one with --project-name"):
        resolve(tmp_path, [project("one", tmp_path), project("two", tmp_path)])


def test_compose_files_when_nothing_runs(tmp_path: Path) -> None:
    assert resolve(compose_file(tmp_path), []).project_dir == tmp_path
    checkout = tmp_path / "checkout"
    local = compose_file(checkout / "deploy" / "local")
    chosen = resolve(checkout, [])
    assert (chosen.project_dir, chosen.project_name, chosen.how) == (
        local,
        "",
        "the compose file under the current folder",
    )
    (local / "sub").mkdir()
    assert resolve(local / "sub", []).project_dir == local  # Compose's own search, upwards


def test_a_running_project_wins_over_a_compose_file_nearer(tmp_path: Path) -> None:
    compose_file(tmp_path)  # an old file at the root; the stack runs from deploy/local
    assert resolve(tmp_path, [project("local", tmp_path / "deploy" / "local")]).project_name == "local"


def test_nothing_here_lists_what_runs_and_how_to_point(tmp_path: Path) -> None:
    with pytest.raises(OdsFixError) as refused:
        resolve(tmp_path, [project("local", "/srv/ods/deploy/local")])
    message = refused.value.message
    assert "no Compose stack in or around" in message and "local (/srv/ods/deploy/local; 3/3 running)" in message
    assert "--project-dir" in message and "--sandbox" in message and "\n" not in message


def test_an_engine_that_does_not_answer_leaves_the_compose_files(tmp_path: Path) -> None:
    def unreachable() -> list[engine.Project]:
        raise engine.EngineUnreachableError("cannot reach the Docker engine at unix:///nope")

    here = compose_file(tmp_path / "checkout")
    assert target.resolve(inventory=None, cwd=here, env={}, projects=unreachable).project_dir == here
    with pytest.raises(OdsFixError, match="the Docker engine did not answer"):
        target.resolve(inventory=None, cwd=tmp_path, env={}, projects=unreachable)


def test_project_dir_and_project_name(tmp_path: Path) -> None:
    known = [project("ods", tmp_path / "deploy" / "local")]
    assert resolve(Path("/"), known, project_name="ods").project_dir == tmp_path / "deploy" / "local"
    chosen = resolve(Path("/"), known, project_dir=tmp_path)
    assert (chosen.project_dir, chosen.how) == (tmp_path, "--project-dir")
    assert chosen.project_name == "ods"  # the one project running from under it: its name, for discovery
    two = [*known, project("test", tmp_path / "deploy" / "test")]
    (tmp_path / "deploy" / "local").mkdir(parents=True)
    with pytest.raises(OdsFixError, match=r"2 stacks run from .*: choose one with --project-name"):
        resolve(Path("/"), two, project_dir=tmp_path)
    assert resolve(Path("/"), two, project_dir=tmp_path / "deploy" / "local").project_name == "ods"
    with pytest.raises(OdsFixError, match=r"--project-name nope matches no Compose project .*ods \("):
        resolve(Path("/"), known, project_name="nope")
    with pytest.raises(OdsFixError, match="does not exist"):
        resolve(Path("/"), known, project_dir=tmp_path / "nope")
    with pytest.raises(OdsFixError, match=r"holds no compose file \(looked in \., deploy/local, deploy\)"):
        resolve(Path("/"), [], project_dir=tmp_path)


def test_the_environment_names_a_stack_and_flags_and_inventories_win(tmp_path: Path) -> None:
    known = [project("ods", tmp_path), project("other", tmp_path / "x")]
    env = {"ODS_FIX_PROJECT_NAME": "ods"}
    chosen = target.resolve(inventory=None, cwd=Path("/"), env=env, projects=lambda: known)
    assert (chosen.project_name, chosen.how) == ("ods", "ODS_FIX_PROJECT_NAME")
    chosen = target.resolve(inventory=None, project_name="other", cwd=Path("/"), env=env, projects=lambda: known)
    assert chosen.project_name == "other"
    inventory = tmp_path / "hosts.yml"
    assert target.resolve(inventory=inventory, cwd=Path("/"), env=env, projects=lambda: known).inventory == inventory


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ({"inventory": Path("hosts.yml"), "project_dir": Path("/srv")}, "--project-dir cannot be used with -i"),
        ({"inventory": Path("hosts.yml"), "sandbox": True}, "--sandbox cannot be used with -i"),
        ({"sandbox": True, "project_name": "ods"}, "--project-name cannot be used with --sandbox"),
    ],
)
def test_two_ways_of_naming_a_stack_are_a_usage_error(flags: dict[str, object], named: str) -> None:
    with pytest.raises(OdsFixError, match=named) as refused:
        target.resolve(**{"inventory": None, **flags}, env={}, projects=lambda: [])  # type: ignore[arg-type]
    assert refused.value.exit_code == ExitCode.USAGE


def test_a_local_project_gets_an_inventory_of_its_own_in_the_run(tmp_path: Path) -> None:
    chosen = target.Target("--project-name", project_dir=tmp_path / "deploy" / "local", project_name="my stack")
    path = chosen.inventory_for(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    host = load_inventory(path.read_text())["ods_dev"]["hosts"]["my_stack"]
    assert host == {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ods_project_dir": str(tmp_path / "deploy" / "local"),
        "ods_compose_project": "my stack",
    }
    assert "project my stack in" in chosen.describe() and chosen.document()["how"] == "--project-name"


def test_the_flags_that_reach_the_same_stack_again(tmp_path: Path) -> None:
    assert target.Target("-i", inventory=Path("my hosts.yml")).flags() == "-i 'my hosts.yml'"
    assert target.Target("--sandbox", inventory=Path("s.yml"), project_dir=tmp_path).flags() == "--sandbox"
    assert target.Target("--project-dir", project_dir=Path("/srv/ods")).flags() == "--project-dir /srv/ods"
    assert target.Target("--project-name", project_dir=Path("/x"), project_name="local").flags() == (
        "--project-name local"
    )
    assert target.Target("ODS_FIX_PROJECT_DIR", project_dir=Path("/srv/ods")).flags() == ""  # the shell keeps it
    assert target.Target("the Compose project of the current folder", project_dir=Path("/srv")).flags() == ""


def test_a_folder_named_like_a_template_is_a_name_to_ansible(tmp_path: Path) -> None:
    """A folder or project named `{{ ... }}` must never be run by Ansible as a template (it could run lookups)."""
    chosen = target.Target("--project-dir", project_dir=Path("/srv/{{ 7 * 7 }}"), project_name="x")
    inventory = chosen.inventory_for(tmp_path)
    text = inventory.read_text()
    assert "ods_project_dir: !unsafe '/srv/{{ 7 * 7 }}'" in text
    assert "ansible_python_interpreter: '{{ ansible_playbook_python }}'" in text  # the one that must be templated
    playbook = tmp_path / "show.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug:\n        msg: 'dir={{ ods_project_dir }}'\n"
        "    - ansible.builtin.command: 'true'\n"
    )
    ran = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-2000:]
    assert "dir=/srv/{{ 7 * 7 }}" in ran.stdout and "/srv/49" not in ran.stdout


def test_a_current_folder_removed_under_the_shell_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def gone() -> Path:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(Path, "cwd", staticmethod(gone))
    with pytest.raises(OdsFixError, match=r"^the current folder is gone \(No such file or directory\): cd into"):
        target.resolve(inventory=None, env={}, projects=lambda: [])
