"""mysql-disk's archiver (module_utils/archive.py): a full disk part way through stops cleanly, and says what
was archived and deleted and where."""

from __future__ import annotations

import errno
import gzip
import os
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils import archive


class LockingSession:
    """The client session the archiver locks, deletes and commits through: 2 chunks of 3 rows, then none."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.deleted: list[str] = []
        self.chunks = [[["1"], ["2"], ["3"]], [["4"], ["5"], ["6"]], []]

    def query(self, statement: str) -> list[list[str]]:
        if statement.startswith("SELECT `id`"):
            return self.chunks.pop(0)
        if statement.startswith("DELETE"):
            self.deleted.append(statement)
            return [["3"]]
        return []

    def close(self) -> str:
        return ""


def test_a_full_disk_part_way_stops_cleanly_naming_what_was_archived_deleted_and_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = LockingSession()
    monkeypatch.setattr(archive, "Session", lambda *a, **k: session)
    calls = []

    def append(self, fd, plan, where, rows):  # type: ignore[no-untyped-def]
        calls.append(where)
        if len(calls) == 2:  # the second chunk: half of it written, then the disk is full
            os.write(fd, b"half a chunk")
            raise OSError(errno.ENOSPC, "No space left on device")
        os.write(fd, gzip.compress(b"INSERT INTO `job_log` VALUES (1),(2),(3);\n"))
        os.fsync(fd)

    monkeypatch.setattr(archive.Archiver, "_append_chunk", append)
    archiver = archive.Archiver(None, None, None, str(tmp_path / "archive"))
    plan = {"schema": "app", "table": "job_log", "key": "id", "where": "`t` < '2026-01-01'", "rows": 6}
    with pytest.raises(archive.ArchiveError) as stopped:
        archiver.archive(plan, chunk=3)
    error = stopped.value
    assert error.rows == 3 and error.path is not None and Path(error.path).is_file()
    assert str(error) == (
        f"archiving app.job_log stopped after 3 rows, which are archived in {error.path} and deleted: "
        "No space left on device"
    )
    assert len(session.deleted) == 1  # the second chunk's rows were not deleted
    assert gzip.decompress(Path(error.path).read_bytes()).count(b"INSERT") == 1  # nor is its half in the archive
    assert Path(error.path.replace(".sql.gz", ".manifest.json")).is_file()


def test_a_full_disk_at_the_first_chunk_deletes_nothing_and_leaves_no_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = LockingSession()
    monkeypatch.setattr(archive, "Session", lambda *a, **k: session)

    def full(self, fd, plan, where, rows):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive.Archiver, "_append_chunk", full)
    archiver = archive.Archiver(None, None, None, str(tmp_path / "archive"))
    with pytest.raises(archive.ArchiveError, match="failed, nothing was deleted: No space left on device") as stopped:
        archiver.archive({"schema": "app", "table": "job_log", "key": "id", "where": "1", "rows": 6}, chunk=3)
    assert stopped.value.rows == 0 and session.deleted == [] and list((tmp_path / "archive").iterdir()) == []
