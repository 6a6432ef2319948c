"""Atomic file replacement (module_utils/safe_file.py): mode kept, a private backup first."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ansible_collections.ods.fix.plugins.module_utils import safe_file


def test_safefile_replaces_atomically_with_mode_and_a_private_backup(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1\n")
    env.chmod(0o640)
    backups = [safe_file.backup(str(env), keep=2) for _ in range(3)]
    safe_file.replace(str(env), "A=2\n")
    assert env.read_text() == "A=2\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o640
    kept = sorted(p for p in os.listdir(tmp_path) if p.startswith(".env.ods-fix-backup-"))
    assert len(kept) == 2 and os.path.basename(backups[-1]) in kept
    assert all(stat.S_IMODE((tmp_path / p).stat().st_mode) == 0o600 for p in kept)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".ods-fix-")], "no temporary file left behind"
