"""The CLI through main([...]): exit codes and one-line errors for bad input (no Docker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrunner import __version__, catalog, cli


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_help_explains_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--check" in out and "4 a host unreachable" in out and "诊断流程" in out


def test_list_shows_every_fix_and_marks_the_planned_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for fix in catalog.fixes():
        line = next(line for line in lines if line.split()[0] == fix.name)
        assert ("[planned, #" in line) == (not fix.ready), line


def test_list_markdown_is_the_catalog_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == catalog.markdown_table()


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["no-such-fix"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_bad_option_value_is_a_usage_error() -> None:
    assert cli.main(["diagnose", "--log-lines", "many"]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["mysql-restore", "--keep", "0"],  # would drop the copy just made while saying --rollback can put it back
        ["mysql-restore", "--keep", "-1"],
        ["mysql-restore", "--workers", "0"],
        ["milvus-restore", "--workers", "0"],
        ["diagnose", "--log-lines", "0"],
        ["data-leak", "--window-hours", "0"],
    ],
)
def test_a_number_below_its_minimum_is_one_usage_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert cli.main(argv) == 2
    line = one_error_line(capsys)
    assert f"'--{argv[1][2:]}'" in line and "--help" in line, line


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def test_missing_inventory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["diagnose", "-i", str(tmp_path / "nope.yml")]) == 1
    assert one_error_line(capsys) == f"ods-fix: inventory {tmp_path / 'nope.yml'} does not exist"


def test_malformed_inventory(capsys: pytest.CaptureFixture[str], write) -> None:  # type: ignore[no-untyped-def]
    bad = write("bad.yml", "all:\n  hosts: [oops\n")
    assert cli.main(["diagnose", "-i", str(bad)]) == 1
    line = one_error_line(capsys)
    assert "cannot be parsed" in line and "bad.yml:3" in line


def test_unknown_limit_host(capsys: pytest.CaptureFixture[str], write) -> None:  # type: ignore[no-untyped-def]
    inventory = write("hosts.yml", "ods_dev:\n  hosts:\n    dev-01:\n      ansible_connection: local\n")
    assert cli.main(["diagnose", "-i", str(inventory), "--limit", "dev-99"]) == 1
    assert "--limit dev-99 matches no host" in one_error_line(capsys)


def test_sandbox_not_built(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", "--sandbox"]) == 1
    line = one_error_line(capsys)
    assert "no sandbox at" in line and "ods-fix sandbox up" in line


def test_no_stack_where_you_stand(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["diagnose"]) == 1
    line = one_error_line(capsys)
    assert f"no Compose stack in or around {tmp_path}" in line and "--project-dir" in line and "--sandbox" in line


def test_a_project_dir_beside_an_inventory_is_a_usage_error(capsys: pytest.CaptureFixture[str], write) -> None:  # type: ignore[no-untyped-def]
    inventory = write("hosts.yml", "ods_dev:\n  hosts:\n    dev-01:\n      ansible_connection: local\n")
    assert cli.main(["diagnose", "-i", str(inventory), "--project-dir", str(inventory.parent)]) == 2
    assert "--project-dir cannot be used with -i" in one_error_line(capsys)


def test_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sandbox", "break", "mysql-on-fire"]) == 1
    assert "unknown fault 'mysql-on-fire'" in one_error_line(capsys)


def test_unexpected_error_logs_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, state_home: Path
) -> None:
    def boom(*_args: object, **_kwargs: object) -> list[str]:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr("pyrunner.inventory.resolve_hosts", boom)
    monkeypatch.setattr("pyrunner.execution.resolve_hosts", boom)
    inventory = state_home.parent / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    h: {}\n")
    assert cli.main(["diagnose", "-i", str(inventory)]) == 3
    line = one_error_line(capsys)
    assert "internal error: ZeroDivisionError: bug" in line
    log = Path(line.split("traceback in ")[1].rstrip(")"))
    assert "ZeroDivisionError" in log.read_text()


@pytest.mark.parametrize("value", ["ten", "150%", "-1"])
def test_a_bad_rate_is_a_usage_error_naming_it(capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert cli.main(["diagnose", "--max-fail", value]) == 2
    err = capsys.readouterr().err
    assert "--max-fail" in err and "neither a number of hosts (3) nor a percentage (25%)" in err


def test_help_defines_more_than_for_max_fail(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["api-500", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "MORE THAN this many hosts" in out and "--canary" in out and "--serial" in out


def test_doctor_help_explains_the_order_and_the_loop_guard(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "safe order" in out and "Loop guard" in out and "--window-minutes" in out
    assert "apply without asking" in out and "never run by doctor" in out


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("~[", "invalid pattern ~["), ("dev-01,~(a", "invalid pattern ~(a"), ("@/missing/hosts", "does not exist")],
)
def test_a_bad_limit_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], write, limit: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    inventory = write("hosts.yml", "ods_dev:\n  hosts:\n    dev-01:\n      ansible_connection: local\n")
    assert cli.main(["diagnose", "-i", str(inventory), "--limit", limit]) == 1
    line = one_error_line(capsys)
    assert line.startswith(f"ods-fix: --limit {limit}: ") and expected in line


def test_a_limit_file_selects_its_hosts(write) -> None:  # type: ignore[no-untyped-def]
    from pyrunner.inventory import resolve_hosts  # noqa: PLC0415

    inventory = write(
        "hosts.yml",
        "ods_dev:\n  hosts:\n    dev-01:\n      ansible_connection: local\n"
        "    dev-02:\n      ansible_connection: local\n",
    )
    limit_file = write("limit.txt", "dev-02\n")
    assert resolve_hosts(inventory, f"@{limit_file}") == ["dev-02"]
    assert resolve_hosts(inventory, "~dev-0[1]") == ["dev-01"]


def test_sandbox_up_fresh_removes_the_project_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyrunner.sandbox import stack  # noqa: PLC0415

    calls: list[tuple[str, object]] = []

    class Started:
        project, compose, layout, directory = "ods-x", "v2", "manual", "/tmp/x"

    monkeypatch.setattr(stack, "down", lambda log, project=None: calls.append(("down", project)))
    monkeypatch.setattr(stack, "up", lambda *a, **k: calls.append(("up", k["project"])) or Started())
    assert cli.main(["sandbox", "up", "--fresh", "--project", "ods-x"]) == 0
    assert calls == [("down", "ods-x"), ("up", "ods-x")]
    calls.clear()
    assert cli.main(["sandbox", "up", "--project", "ods-x"]) == 0
    assert calls == [("up", "ods-x")]
