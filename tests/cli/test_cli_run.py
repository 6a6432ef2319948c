"""Bad targets through the real runner: ansible-runner and ansible-playbook run, no Docker needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyrunner import cli


def test_unreachable_host_exits_4_and_says_so(capsys: pytest.CaptureFixture[str], write) -> None:  # type: ignore[no-untyped-def]
    inventory = write(
        "far.yml",
        "ods_dev:\n  hosts:\n    far:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n"
        "      ansible_user: nobody\n      ods_project_dir: /srv/ods\n",
    )
    assert cli.main(["diagnose", "-i", str(inventory), "--json"]) == 4
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["exit_code"] == 4 and document["hosts"]["far"]["status"] == "unreachable"
    assert "Connection refused" in document["hosts"]["far"]["error"]
    assert "ods-fix: far: " in captured.err


def test_no_docker_engine_is_bad_configuration(capsys: pytest.CaptureFixture[str], write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "ods"
    project.mkdir()
    (project / "docker-compose.yml").write_text("services: {}\n")
    inventory = write(
        "local.yml",
        "ods_dev:\n  hosts:\n    dev:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        f"      ods_project_dir: {project}\n"
        f"      ods_docker_host: unix://{tmp_path}/no-docker.sock\n",
    )
    assert cli.main(["diagnose", "-i", str(inventory)]) == 1
    captured = capsys.readouterr()
    assert "cannot reach the Docker engine" in captured.err
    assert "bad input" in captured.out


def test_project_dir_not_set_is_bad_configuration(capsys: pytest.CaptureFixture[str], write) -> None:  # type: ignore[no-untyped-def]
    inventory = write(
        "local.yml",
        "ods_dev:\n  hosts:\n    dev:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n",
    )
    assert cli.main(["diagnose", "-i", str(inventory)]) == 1
    assert "ods_project_dir is not set for dev" in capsys.readouterr().err


def test_run_directory_keeps_artifacts_without_the_shell_environment(
    monkeypatch: pytest.MonkeyPatch,
    write,
    state_home: Path,  # type: ignore[no-untyped-def]
) -> None:
    canary = "sk-canary-do-not-leak-7f3a"
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    inventory = write(
        "local.yml",
        "ods_dev:\n  hosts:\n    dev:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n",
    )
    cli.main(["diagnose", "-i", str(inventory)])
    runs = list((state_home / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "runner" / "artifacts").is_dir()
    for path in runs[0].rglob("*"):
        if path.is_file():
            assert canary not in path.read_text(errors="replace"), f"{path} holds the shell's secret"


def docker_engine() -> bool:
    try:
        import docker  # noqa: PLC0415

        docker.from_env(timeout=5).ping()
        return True
    except Exception:
        return False


needs_docker = pytest.mark.skipif(not docker_engine(), reason="needs a Docker engine")


@needs_docker
@pytest.mark.parametrize("fix", ["mysql-connect", "api-500", "api-slow", "mysql-disk", "perf"])
def test_a_stack_that_is_not_running_points_at_bringing_it_up(
    fix: str,
    capsys: pytest.CaptureFixture[str],
    write,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    project = tmp_path / "never-started"
    project.mkdir()
    (project / "docker-compose.yml").write_text("services:\n  mysql:\n    image: x\n")
    inventory = write(
        "local.yml",
        "ods_dev:\n  hosts:\n    dev:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        f"      ods_project_dir: {project}\n",
    )
    assert cli.main([fix, "-i", str(inventory)]) == 1
    err = capsys.readouterr().err
    assert "the stack is not running" in err and "docker compose up -d" in err


@needs_docker
def test_an_unknown_service_is_bad_input(capsys: pytest.CaptureFixture[str], write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A service the compose file does not have: one line, exit 1, nothing run against the stack."""
    import docker  # noqa: PLC0415

    project = tmp_path / "odsunknown"
    project.mkdir()
    (project / "docker-compose.yml").write_text("services:\n  alldata-api:\n    image: x\n")
    client = docker.from_env()
    image = next((tag for image in client.images.list() for tag in image.tags), None)
    if image is None:
        pytest.skip("needs any local image to stand in for a running stack")
    labels = {
        "com.docker.compose.project": "odsunknown",
        "com.docker.compose.service": "alldata-api",
        "com.docker.compose.version": "1.29.2",
        "com.docker.compose.oneoff": "False",
    }
    container = client.containers.create(image, command=["true"], labels=labels)
    try:
        inventory = write(
            "local.yml",
            "ods_dev:\n  hosts:\n    dev:\n      ansible_connection: local\n"
            "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
            f"      ods_project_dir: {project}\n",
        )
        assert cli.main(["api-500", "-i", str(inventory), "--services", "alldata-apii"]) == 1
        assert "unknown service(s) alldata-apii" in capsys.readouterr().err
    finally:
        container.remove(force=True)
