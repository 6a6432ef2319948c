"""rotate-keys, incident and data-leak from the CLI: usage errors, supplied values, `incident verify`, bad input
through the real runner (no Docker: the role refuses before it reaches the engine)."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from pyrunner import cli, paths, runner, supplied
from pyrunner.errors import OdsFixError


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip() and not line.startswith("  ")]
    err = [line for line in err if line.startswith("ods-fix:")]
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("fix", ["rotate-keys", "incident", "data-leak"])
def test_changing_data_needs_yes(fix: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([fix]) == 2
    assert "add --yes to go ahead, or --check" in one_error_line(capsys)


def test_a_value_needs_exactly_one_key(capsys: pytest.CaptureFixture[str], write) -> None:  # type: ignore[no-untyped-def]
    value = write("v", "sk-new\n")
    args = ["rotate-keys", "--key", "A", "--key", "B", "--value-from-file", str(value), "--yes"]
    assert cli.main(args) == 2
    assert "name it with exactly one --key" in one_error_line(capsys)


def test_one_value_source_at_a_time(capsys: pytest.CaptureFixture[str], write) -> None:  # type: ignore[no-untyped-def]
    value = write("v", "sk-new\n")
    args = ["rotate-keys", "--key", "A", "--value-from-file", str(value), "--value-from-env", "X", "--yes"]
    assert cli.main(args) == 2
    assert "give one of --value-from-file and --value-from-env" in one_error_line(capsys)


def test_an_unreadable_value_file_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["rotate-keys", "--key", "OPENAI_API_KEY", "--value-from-file", str(tmp_path / "nope"), "--yes"]
    assert cli.main(args) == 1
    assert (
        one_error_line(capsys) == f"ods-fix: cannot read the value file {tmp_path / 'nope'}: No such file or directory"
    )


def test_an_unset_environment_variable_is_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ODS_NO_SUCH_VALUE", raising=False)
    args = ["rotate-keys", "--key", "OPENAI_API_KEY", "--value-from-env", "ODS_NO_SUCH_VALUE", "--yes"]
    assert cli.main(args) == 1
    assert "environment variable ODS_NO_SUCH_VALUE is not set or empty" in one_error_line(capsys)


def test_a_value_from_the_environment_goes_through_a_private_file_that_is_then_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ODS_NEW_KEY", "sk-from-env-123")
    with supplied.value_files(
        ["OPENAI_API_KEY"], from_file=None, from_env="ODS_NEW_KEY", providers=set(), prompt=None
    ) as files:
        path = Path(files["OPENAI_API_KEY"])
        assert path.read_text() == "sk-from-env-123"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not path.exists() and not path.parent.exists()


def test_a_value_from_the_environment_is_removed_from_it_so_ansible_playbook_never_sees_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ODS_FIX_NEW_KEY", "sk-from-env-456")  # an allowed prefix: it would pass the filter
    with supplied.value_files(
        ["OPENAI_API_KEY"], from_file=None, from_env="ODS_FIX_NEW_KEY", providers=set(), prompt=None
    ):
        assert "ODS_FIX_NEW_KEY" not in os.environ
        assert "sk-from-env-456" not in runner.filtered_env(os.environ).values()


def test_a_proxy_password_is_masked_in_the_runner_command_artifact(tmp_path: Path) -> None:
    command = tmp_path / "command"
    env = {"HTTPS_PROXY": "http://alice:s3cr%40t@proxy:3128", "NO_PROXY": "localhost", "PATH": "/bin"}
    command.write_text(json.dumps({"command": ["ansible-playbook"], "env": env}))
    runner.mask_command_artifact(command)
    text = command.read_text()
    assert "s3cr" not in text
    assert json.loads(text)["env"] == {
        "HTTPS_PROXY": "http://alice:***@proxy:3128",
        "NO_PROXY": "localhost",
        "PATH": "/bin",
    }


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("http://u:pw@p:3128", "http://u:***@p:3128"),
        ("socks5h://:pw@p", "socks5h://:***@p"),
        ("http://p:3128", "http://p:3128"),
        ("http://u@p:3128", "http://u@p:3128"),
    ],
)
def test_mask_url_credentials(url: str, masked: str) -> None:
    assert runner.mask_url_credentials(url) == masked


@pytest.mark.parametrize("value", ["abc", "0", "-3", "2.5", ""])
def test_a_bad_keep_runs_setting_is_one_usage_line(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ODS_FIX_KEEP_RUNS", value)
    assert cli.main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ODS_FIX_KEEP_RUNS" in err and "Traceback" not in err


def test_a_provider_key_is_asked_for_at_a_prompt_and_never_echoed() -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "sk-typed"

    with supplied.value_files(
        ["OPENAI_API_KEY"], from_file=None, from_env=None, providers={"OPENAI_API_KEY"}, prompt=prompt
    ) as files:
        assert Path(files["OPENAI_API_KEY"]).read_text() == "sk-typed"
    assert asked == ["new value of OPENAI_API_KEY (issued by its provider; not shown)"]


def test_without_a_terminal_a_provider_key_gets_no_value() -> None:
    with supplied.value_files(
        ["OPENAI_API_KEY"], from_file=None, from_env=None, providers={"OPENAI_API_KEY"}, prompt=lambda _: None
    ) as files:
        assert files == {}


def test_two_provider_keys_at_once_are_refused() -> None:
    with (
        pytest.raises(OdsFixError, match="rotate them one per run"),
        supplied.value_files(["A", "B"], from_file=None, from_env=None, providers={"A", "B"}, prompt=lambda _: "x"),
    ):
        pass


def test_provider_keys_are_those_named_like_a_providers() -> None:
    assert supplied.provider_keys("rotate_keys", ["OPENAI_API_KEY", "DATA_API_SECRET_KEY", "HF_TOKEN"]) == {
        "OPENAI_API_KEY",
        "HF_TOKEN",
    }


# --- ods-fix incident verify ---------------------------------------------------------------------------


def sealed_bundle(tmp_path: Path) -> Path:
    module = paths.load_module_util("security.evidence")
    staging = module.Staging.create(str(tmp_path / "staging"), "incident-")
    staging.write("logs/incident-20261201.log", "web | GET / 200\n")
    bundle = tmp_path / "incident.tar.gz"
    module.seal(staging.root, staging.records, str(bundle), {"kind": "incident", "host": "dev-01"})
    return bundle


def test_verify_passes_on_a_sealed_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = sealed_bundle(tmp_path)
    assert cli.main(["incident", "verify", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "verified: 1 files match the manifest (incident on dev-01" in out


def test_verify_fails_on_a_changed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = sealed_bundle(tmp_path)
    work = tmp_path / "x"
    work.mkdir()
    with tarfile.open(bundle) as archive:
        archive.extractall(work, filter="data")
    (work / "logs" / "incident-20261201.log").write_text("web | GET / 200 (edited)\n")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as archive:
        for name in ("manifest.json", "logs/incident-20261201.log"):
            archive.add(work / name, arcname=name)
    assert cli.main(["incident", "verify", str(tampered)]) == 1
    assert "does not verify: logs/incident-20261201.log changed: sha256" in one_error_line(capsys)


def test_verify_of_a_missing_bundle_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["incident", "verify", str(tmp_path / "nope.tar.gz")]) == 1
    assert "does not exist" in one_error_line(capsys)


# --- bad input through the real runner: refused before the engine is reached -----------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "ods"
    (directory / "deploy").mkdir(parents=True)
    (directory / "docker-compose.yml").write_text("services: {}\n")
    env = directory / "deploy" / ".env"
    env.write_text("# settings\nMYSQL_USER=ods\nMYSQL_PASSWORD=old-password-1\nALLDATA_SECRET_KEY=0123456789abcdef\n")
    env.chmod(0o600)
    return directory


def inventory_for(project: Path, tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "ods_dev:\n  hosts:\n    dev:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        f"      ods_project_dir: {project}\n      ods_docker_host: unix://{tmp_path}/no-docker.sock\n"
    )
    return inventory


def test_rotate_keys_without_an_engine_is_bad_input(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = project / "deploy" / ".env"
    before = env.read_bytes()
    assert cli.main(["rotate-keys", "-i", str(inventory_for(project, tmp_path)), "--key", "NO_SUCH_KEY", "--yes"]) == 1
    assert "cannot reach the Docker engine" in one_error_line(capsys)
    assert env.read_bytes() == before
    assert sorted(p.name for p in (project / "deploy").iterdir()) == [".env"]  # no backup, journal or audit line


def odd_bundle(tmp_path: Path, kind: str) -> Path:
    """A tar.gz that is not what ods-fix seals: a manifest of another shape, a member that is no file, a bomb."""
    out = tmp_path / f"{kind}.tar.gz"
    with tarfile.open(out, "w:gz") as archive:

        def add(name: str, data: bytes, **attrs: object) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for key, value in attrs.items():
                setattr(info, key, value)
            archive.addfile(info, io.BytesIO(data) if data else None)

        if kind == "manifest-list":
            add("manifest.json", b"[1, 2]")
        elif kind == "files-strings":
            add("manifest.json", b'{"format": "ods-fix-evidence/1", "files": ["logs/a.log"]}')
        elif kind == "manifest-directory":
            add("manifest.json", b"", type=tarfile.DIRTYPE)
        elif kind == "manifest-link":
            add("manifest.json", b"", type=tarfile.SYMTYPE, linkname="/nonexistent")
        elif kind == "member-link":
            add("manifest.json", b'{"format": "ods-fix-evidence/1", "files": [{"path": "a.log", "sha256": "0"}]}')
            add("a.log", b"", type=tarfile.SYMTYPE, linkname="/etc/shadow")
        elif kind == "bomb":
            add("manifest.json", b'{"format": "ods-fix-evidence/1", "files": [{"path": "z", "sha256": "0"}]}')
            zeros = 64 << 20
            info = tarfile.TarInfo("z")
            info.size = zeros
            archive.addfile(info, io.BytesIO(bytes(zeros)))
    return out


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("manifest-list", "manifest.json is not an object but a list"),
        ("files-strings", "manifest.json's files are not a list of records"),
        ("manifest-directory", "manifest.json is not a regular file"),
        ("manifest-link", "manifest.json is not a regular file"),
        ("member-link", "a.log is not a regular file"),
        ("bomb", "inflates to more than 200 times its size"),
    ],
)
def test_a_bundle_of_another_shape_does_not_verify_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, said: str
) -> None:
    assert cli.main(["incident", "verify", str(odd_bundle(tmp_path, kind))]) == 1
    err = capsys.readouterr().err
    assert "does not verify" in err and said in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
