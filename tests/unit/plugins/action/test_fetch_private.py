"""ods.fix.fetch_private: the files land 0600 in a directory made 0700, through a private directory that goes."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.ods.fix.plugins.action.fetch_private import ActionModule


def action(args: dict[str, Any], fetched: dict[str, bytes], check_mode: bool = False) -> ActionModule:
    task = mock.MagicMock(args=args, check_mode=check_mode, async_val=0)
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    plugin = ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())

    def fake_fetch(source: str, landed: str, task_vars: object) -> dict[str, Any]:
        if source not in fetched:
            return {"failed": True, "msg": "file not found"}
        mode = stat.S_IMODE(os.stat(os.path.dirname(landed)).st_mode)
        assert mode == 0o700, oct(mode)  # where it lands first, nobody else can look
        Path(landed).write_bytes(fetched[source])
        return {"changed": True}

    plugin._fetch = fake_fetch  # type: ignore[method-assign]
    return plugin


def test_each_file_lands_private_and_the_private_directory_goes(tmp_path: Path) -> None:
    dest = tmp_path / "backups" / "dev-01"
    files = {"/var/lib/x/dump.sql.gz": b"dump", "/var/lib/x/dump.manifest.json": b"{}"}
    result = action({"src": list(files), "dest": str(dest)}, files).run(task_vars={})
    assert result["fetched"] == [str(dest / "dump.sql.gz"), str(dest / "dump.manifest.json")]
    assert result["changed"] is False
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert sorted(p.name for p in dest.iterdir()) == ["dump.manifest.json", "dump.sql.gz"]
    for path in dest.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    dest = tmp_path / "shared"
    dest.mkdir(mode=0o755)
    dest.chmod(0o755)
    action({"src": ["/x/a"], "dest": str(dest)}, {"/x/a": b"a"}).run(task_vars={})
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "a").stat().st_mode) == 0o600


def test_a_failed_fetch_fails_the_task_and_leaves_no_private_directory(tmp_path: Path) -> None:
    with pytest.raises(AnsibleActionFail, match="cannot fetch /x/missing: file not found"):
        action({"src": ["/x/a", "/x/missing"], "dest": str(tmp_path)}, {"/x/a": b"a"}).run(task_vars={})
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # what arrived whole stays; no .ods-fix-fetch-*


@pytest.mark.parametrize(
    "args",
    [
        {"src": ["/x/a", "/y/a"], "dest": "/d"},
        {"src": "/x/a", "dest": "/d"},
        {"src": ["/x/a"]},
        {"src": ["/x/.."], "dest": "/d"},
    ],
    ids=["same name twice", "not a list", "no dest", "no file name"],
)
def test_bad_arguments_are_refused_before_anything_is_made(args: dict[str, Any]) -> None:
    with pytest.raises(AnsibleActionFail):
        action(args, {}).run(task_vars={})


def test_check_mode_fetches_nothing(tmp_path: Path) -> None:
    result = action({"src": ["/x/a"], "dest": str(tmp_path / "d")}, {"/x/a": b"a"}, check_mode=True).run(task_vars={})
    assert result["fetched"] == [] and not (tmp_path / "d").exists()
