"""mysql-disk's archiver (module_utils/mysql/archive.py): the rule parsed or refused, each chunk locked, dumped,
counted and then deleted exactly; a full disk part way through stops cleanly, and says what was archived and deleted
and where."""

from __future__ import annotations

import errno
import gzip
import os
import stat
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils.mysql import archive


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


def test_archive_rule_is_parsed_or_refused_clearly() -> None:
    assert archive.parse_spec("one_data_alldata.job_log:create_time:90") == {
        "schema": "one_data_alldata",
        "table": "job_log",
        "column": "create_time",
        "days": 90,
    }
    with pytest.raises(archive.ArchiveError, match=r"SCHEMA\.TABLE:DATE_COLUMN:DAYS"):
        archive.parse_spec("job_log:90; DROP TABLE flow")


def test_archive_count_checks_rows_and_trailer(tmp_path: Path) -> None:
    dump = tmp_path / "a.sql.gz"
    with gzip.open(dump, "wt") as out:
        out.write(
            "-- MariaDB dump\nINSERT INTO `t` (`id`) VALUES (1);\nINSERT INTO `t` (`id`) VALUES (2);\n"
            "-- Dump completed on 2026-11-28\n"
        )
    assert archive.count_inserts(str(dump)) == (2, True)
    with gzip.open(dump, "wt") as out:
        out.write("INSERT INTO `t` (`id`) VALUES (1);\n")
    assert archive.count_inserts(str(dump)) == (1, False)


class FakeArchiveSession:
    """The interactive mysql session the archiver drives: rows 1..total match; a DELETE may take extra rows."""

    def __init__(self, total: int, extra_on_delete: int = 0) -> None:
        self.left = list(range(1, total + 1))
        self.extra = extra_on_delete
        self.statements: list[str] = []
        self.deleted: list[int] = []
        self.locked: list[int] = []

    def query(self, statement: str) -> list[list[str]]:
        self.statements.append(statement)
        if "FOR UPDATE" in statement:
            after = int(statement.split("` > ")[1].split(" ", maxsplit=1)[0]) if "` > " in statement else 0
            limit = int(statement.rsplit("LIMIT ", 1)[1].split(" ", maxsplit=1)[0])
            self.locked = [k for k in self.left if k > after][:limit]
            return [[str(k)] for k in self.locked]
        if statement.startswith("DELETE"):
            return [[str(len(self.locked) + self.extra)]]
        if statement == "COMMIT;":
            self.deleted += self.locked
            self.left = [k for k in self.left if k not in self.locked]
        return []

    def close(self) -> str:
        return ""


def archiver_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, session: FakeArchiveSession) -> archive.Archiver:
    monkeypatch.setattr(archive, "Session", lambda *args, **kwargs: session)
    archiver = archive.Archiver(None, None, None, str(tmp_path / "archive"))

    def append_chunk(fd: int, plan: dict[str, object], where: str, rows: int) -> None:
        os.write(fd, gzip.compress(b"".join(b"INSERT INTO `t` VALUES (%d);\n" % k for k in session.locked)))

    monkeypatch.setattr(archiver, "_append_chunk", append_chunk)
    return archiver


PLAN = {"schema": "s", "table": "t", "key": "id", "where": "`ts` < '2025-01-01' AND `id` <= 9"}


def test_archive_locks_each_chunk_then_deletes_exactly_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    session = FakeArchiveSession(total=5)
    manifest = archiver_with(monkeypatch, tmp_path, session).archive(PLAN, chunk=2)
    assert manifest["rows"] == 5
    assert session.deleted == [1, 2, 3, 4, 5]
    assert "READ COMMITTED" in session.statements[0]  # only the matching rows are locked, no gap locks
    assert [s for s in session.statements if "FOR UPDATE" in s][1].count("`id` > 2") == 1
    assert gzip.decompress(Path(manifest["file"]).read_bytes()).count(b"INSERT") == 5
    assert stat.S_IMODE(os.stat(manifest["file"]).st_mode) == 0o600


def test_archive_puts_a_chunk_back_when_its_delete_takes_more_than_was_dumped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    session = FakeArchiveSession(total=5)
    archiver = archiver_with(monkeypatch, tmp_path, session)
    original = session.query

    def second_chunk_grows(statement: str) -> list[list[str]]:
        rows = original(statement)
        if statement.startswith("DELETE") and session.deleted:
            return [[str(int(rows[0][0]) + 1)]]  # a row came into the chunk's key range after its lock
        return rows

    monkeypatch.setattr(session, "query", second_chunk_grows)
    with pytest.raises(archive.ArchiveError, match=r"stopped after 2 rows.*came into keys 3-4"):
        archiver.archive(PLAN, chunk=2)
    assert session.deleted == [1, 2]  # the second chunk was never committed
    (archived,) = (tmp_path / "archive").glob("*.sql.gz")
    assert gzip.decompress(archived.read_bytes()).count(b"INSERT") == 2  # and its dump was cut off again
    assert session.statements[-1].startswith("DELETE")


def test_archive_with_nothing_deleted_leaves_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    session = FakeArchiveSession(total=3, extra_on_delete=1)
    with pytest.raises(archive.ArchiveError, match="nothing was deleted"):
        archiver_with(monkeypatch, tmp_path, session).archive(PLAN)
    assert list((tmp_path / "archive").iterdir()) == []
