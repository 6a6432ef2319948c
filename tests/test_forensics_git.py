"""The incident capture reads a repository an intruder may have changed: nothing it names may run
(module_utils/forensics.py git_argv, as evidence_capture runs it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils import forensics

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
