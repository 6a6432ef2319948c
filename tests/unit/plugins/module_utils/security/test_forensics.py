"""What a responder looks at first (module_utils/security/forensics.py): sockets, foreign processes, changed files;
and a repository an intruder may have changed is read so that nothing it names may run (git_argv, as
evidence_capture runs it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils.security import (
    forensics,
)

CAPTURE = [  # what evidence_capture runs, in its order
    ["rev-parse", "--is-inside-work-tree"],
    ["log", "--since=2 days ago", "--stat", "--date=iso"],
    ["status", "--porcelain=v1", "--untracked-files=all"],
    ["diff", "--stat", "HEAD"],
    ["diff", "HEAD"],
]


def hostile_repository(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout whose own config and attributes name programs for git to run; each leaves a mark when run."""
    repo, marks = tmp_path / "checkout", tmp_path / "marks"
    repo.mkdir()
    marks.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "notes.txt").write_text("one\n")
    (repo / ".gitattributes").write_text("*.txt diff=evil\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    (repo / "notes.txt").write_text("two\n")
    script = tmp_path / "mark"
    script.write_text(f'#!/bin/sh\ntouch {marks}/$(basename "$0")-$$\nexit 0\n')
    script.chmod(0o755)
    for name in ("fsmonitor", "pager", "external", "textconv"):
        os.symlink(script, tmp_path / name)
    hooks = repo / ".git" / "hooks"
    for hook in ("post-index-change", "reference-transaction"):
        os.symlink(script, hooks / hook)
    with (repo / ".git" / "config").open("a") as config:
        config.write(
            f"[core]\n\tfsmonitor = {tmp_path}/fsmonitor\n\tpager = {tmp_path}/pager\n"
            f'[diff]\n\texternal = {tmp_path}/external\n[diff "evil"]\n\ttextconv = {tmp_path}/textconv\n'
        )
    return repo, marks


def test_a_plain_git_would_run_what_the_repository_names(tmp_path: Path) -> None:
    """The threat is real here: without the guards, git status and diff run the repository's programs."""
    repo, marks = hostile_repository(tmp_path)
    for argv in CAPTURE[2:]:
        subprocess.run(["git", "-C", str(repo), *argv], capture_output=True, check=False)
    assert os.listdir(marks)


def test_the_capture_runs_nothing_the_repository_names(tmp_path: Path) -> None:
    repo, marks = hostile_repository(tmp_path)
    for argv in CAPTURE:
        result = subprocess.run(
            forensics.git_argv(str(repo), argv),
            capture_output=True,
            text=True,
            check=False,
            env=forensics.git_env(dict(os.environ, GIT_EXTERNAL_DIFF=str(tmp_path / "external"))),
        )
        assert result.returncode == 0, (argv, result.stderr)
    assert os.listdir(marks) == []
    status = subprocess.run(
        forensics.git_argv(str(repo), CAPTURE[2]), capture_output=True, text=True, check=True, env=forensics.git_env({})
    )
    assert status.stdout == " M notes.txt\n"  # and it still says what changed


@pytest.mark.parametrize("argv", CAPTURE)
def test_every_capture_command_carries_the_guards(argv: list[str]) -> None:
    line = forensics.git_argv("/srv/ods", argv)
    assert "core.fsmonitor=false" in line and "core.hooksPath=/dev/null" in line and "--no-pager" in line
    assert line.index("-C") > line.index("--no-pager")


PROC_TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0
   1: 040014AC:8C4A 020014AC:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 20 4 30 10 -1
"""

PROC_TCP6 = (
    "  sl  local_address                         remote_address                        st tx_queue rx_queue\n"
    "   0: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF0000077100CB:115C 01 00000000:00000000 "
    "00:00000000 00000000     0        0 4444 1\n"
)


def test_proc_net_tables_are_read() -> None:
    sockets = forensics.parse_proc_net(PROC_TCP, "tcp") + forensics.parse_proc_net(PROC_TCP6, "tcp6")
    assert [(s["local"], s["remote"], s["state"], s["inode"]) for s in sockets] == [
        ("0.0.0.0:4444", "0.0.0.0:0", "LISTEN", "4242"),
        ("172.20.0.4:35914", "172.20.0.2:3306", "ESTABLISHED", "4343"),
        ("127.0.0.1:8080", "203.0.113.7:4444", "ESTABLISHED", "4444"),
    ]
    assert not forensics.outside("172.20.0.2", ["172.20.0.0/16"])
    assert forensics.outside("203.0.113.7", ["172.20.0.0/16"])
    assert not forensics.outside("127.0.0.1", [])


def test_foreign_processes_leave_out_the_main_program_and_health_checks() -> None:
    top = {
        "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "Processes": [
            [
                "root",
                "20041",
                "1",
                "0",
                "20:21",
                "?",
                "0",
                "/bin/sh -c curl -fsS http://127.0.0.1:8080/api/v1/health || exit 1",
            ],
            ["root", "20042", "20041", "0", "20:21", "?", "0", "curl -fsS http://127.0.0.1:8080/api/v1/health"],
            ["root", "300", "1", "0", "20:15", "?", "0", "python server.py"],
            ["root", "301", "300", "0", "20:15", "?", "0", "python server.py --worker"],
            ["root", "302", "1", "0", "20:16", "?", "0", "runc init"],
            ["root", "9999", "1", "0", "20:30", "?", "0", "sleep 3600"],
        ],
    }
    found = forensics.foreign_processes(top, "300", "curl -fsS http://127.0.0.1:8080/api/v1/health || exit 1")
    assert found == [{"pid": "9999", "user": "root", "command": "sleep 3600"}]


def test_notable_changes_are_leaves_without_mounts_and_run_time_files() -> None:
    diff = [
        {"Path": "/app", "Kind": 0},
        {"Path": "/app/deploy", "Kind": 1},
        {"Path": "/run/nginx.pid", "Kind": 1},
        {"Path": "/usr/local/lib/.cache", "Kind": 1},
        {"Path": "/usr/local/lib/.cache/kworkerd", "Kind": 1},
        {"Path": "/etc/passwd", "Kind": 0},
        {"Path": "/app/__pycache__/x.pyc", "Kind": 1},
    ]
    assert forensics.notable_changes(diff, ["/app/deploy"]) == [
        {"path": "/etc/passwd", "kind": "changed"},
        {"path": "/usr/local/lib/.cache/kworkerd", "kind": "added"},
    ]
