"""Pure logic of the ods.fix modules: plans, parsers, criteria (no Docker)."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils import archive, dotenv, perf, safefile, services
from ansible_collections.ods.fix.plugins.modules.mysql_processlist import is_read_only


@pytest.mark.parametrize(
    ("current", "wanted", "action"),
    [
        ("healthy", "healthy", None),
        ("running", "healthy", None),  # no health check: running is as good as it gets
        ("starting", "healthy", "wait"),
        ("unhealthy", "healthy", "restart"),
        ("restarting", "healthy", "restart"),
        ("exited", "healthy", "start"),
        ("created", "started", "start"),
        ("paused", "healthy", "unpause"),
        ("missing", "healthy", "create"),
        ("unhealthy", "started", None),  # started does not restart a running container
        ("healthy", "restarted", "restart"),
        ("healthy", "stopped", "stop"),
        ("exited", "stopped", None),
    ],
)
def test_ensure_plans_only_what_is_needed(current: str, wanted: str, action: str | None) -> None:
    assert services.plan(current, wanted)[0] == action


def test_waiting_for_health_looks_often_at_first_then_every_two_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    looks = iter(["starting"] * 8 + ["healthy"])
    monkeypatch.setattr(services, "condition", lambda *_args: next(looks))
    pauses: list[float] = []
    monkeypatch.setattr(services.time, "sleep", pauses.append)
    assert services.wait_healthy(object(), timeout=60) == (True, "healthy")
    assert pauses[0] == 0.25 and pauses == sorted(pauses) and max(pauses) == 2.0


@pytest.mark.parametrize(
    ("statement", "read_only"),
    [
        ("SELECT SLEEP(600)", True),
        ("  select * from flow where id = 1", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("SHOW PROCESSLIST", True),
        ("(SELECT 1) UNION (SELECT 2)", True),
        ("SELECT * FROM flow FOR UPDATE", False),
        ("SELECT * FROM flow LOCK IN SHARE MODE", False),
        ("SELECT * INTO OUTFILE '/tmp/x' FROM flow", False),
        ("UPDATE job_log SET status = status WHERE id = 1 AND SLEEP(600) = 0", False),
        ("INSERT INTO t SELECT * FROM flow", False),
        ("DO SLEEP(600)", False),
        ("", False),
    ],
)
def test_only_read_only_statements_may_be_killed(statement: str, read_only: bool) -> None:
    assert is_read_only(statement) is read_only


ENV = "# comment\nA=1\n\nexport B='two words'\n# trailing\n"


def test_set_values_keeps_comments_order_and_export() -> None:
    text, changed = dotenv.set_values(ENV, {"B": "three", "C": "new value", "A": "1"})
    assert changed == ["B", "C"]
    assert text == "# comment\nA=1\n\nexport B='three'\n# trailing\nC=\"new value\"\n"  # B keeps its quotes
    assert dotenv.parse(text) == {"A": "1", "B": "three", "C": "new value"}


def test_set_values_is_idempotent() -> None:
    assert dotenv.set_values(ENV, {"A": "1"}) == (ENV, [])


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ('KEY="v" # note', "v"),
        ("KEY='v w' # note", "v w"),
        ('KEY="a\\"b\\\\c"', 'a"b\\c'),
        ("KEY=plain # note", "plain"),
        ("KEY=pa#ss", "pa#ss"),
        ("KEY=back\\slash", "back\\slash"),
        ("export KEY = spaced ", "spaced"),
    ],
)
def test_dotenv_reads_values_as_compose_does(line: str, value: str) -> None:
    assert dotenv.parse(line + "\n") == {"KEY": value}


@pytest.mark.parametrize(
    "value",
    ["plain", "two words", 'a"b', "a\\b", 'q"\\"q', "it's", "#hash", "пароль-2024", "x # y", "$HOME", ""],
)
def test_dotenv_round_trips_every_value_exactly(value: str) -> None:
    text, _ = dotenv.set_values("A=1\n", {"K": value})
    assert dotenv.parse(text)["K"] == value
    assert dotenv.set_values(text, {"K": value}) == (text, [])


@pytest.mark.parametrize("bad", ["http://x\nMYSQL_HOST=evil", "a\rb", "a\tb", "a\x00b"])
def test_dotenv_refuses_a_value_with_a_control_character(bad: str) -> None:
    with pytest.raises(ValueError, match="control characters"):
        dotenv.set_values("A=1\n", {"CORS_ORIGINS": bad})


def test_safefile_replaces_atomically_with_mode_and_a_private_backup(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1\n")
    env.chmod(0o640)
    backups = [safefile.backup(str(env), keep=2) for _ in range(3)]
    safefile.replace(str(env), "A=2\n")
    assert env.read_text() == "A=2\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o640
    kept = sorted(p for p in os.listdir(tmp_path) if p.startswith(".env.ods-fix-backup-"))
    assert len(kept) == 2 and os.path.basename(backups[-1]) in kept
    assert all(stat.S_IMODE((tmp_path / p).stat().st_mode) == 0o600 for p in kept)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".ods-fix-")], "no temporary file left behind"


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


TOP = """top - 10:00:00 up 1 day
PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND
  1 root      20   0   10000   5000   1000 S   0.0   0.1   0:01.00 python server.py
  7 root      20   0   10000   5000   1000 R  50.0   0.1   0:09.00 python -c while True: pass

top - 10:00:01 up 1 day
PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND
  1 root      20   0   10000   5000   1000 S   1.0   0.1   0:01.00 python server.py
  7 root      20   0   10000   5000   1000 R  99.7   0.1   0:10.00 python -c while True: pass
"""


def test_top_is_read_from_its_last_iteration() -> None:
    procs = perf.parse_top(TOP)
    assert procs[0] == {"pid": 7, "cpu": 99.7, "mem": 0.1, "command": "python -c while True: pass"}


def test_ps_rss_in_megabytes() -> None:
    text = "  PID   RSS COMMAND\n    7 460800 python -c hog\n    1 20480 python server.py\n"
    assert perf.parse_ps_rss(text)[0] == {"pid": 7, "rss_mb": 450.0, "command": "python -c hog"}


def test_io_rates_per_service_and_process() -> None:
    readings = {10: [(0, "mariadbd"), (10 * 1048576, "mariadbd")], 11: [(5, "sh"), (5, "sh")]}
    reader = lambda pid: readings[pid].pop(0)  # noqa: E731
    rates = perf.io_rates({"mysql": [10, 11], "web": []}, 2, reader=reader, sleep=lambda _: None)
    assert rates["mysql"] == {"write_mb_s": 5.0, "writers": [{"pid": 10, "command": "mariadbd", "write_mb_s": 5.0}]}
    assert rates["web"] is None


def test_a_log_tail_is_redacted_before_it_reaches_a_message() -> None:
    class Crashed:
        def __init__(self) -> None:
            self.attrs = {"Config": {"Env": ["DB_PASSWORD=hunter2-secret"], "Cmd": ["app", "--token", "tok-99999"]}}

        def logs(self, tail: int) -> bytes:
            return b"boot\nERROR cannot log in with hunter2-secret (token tok-99999, redis://:pw12345@redis)\n"

    line = services.log_tail(Crashed())
    assert "hunter2-secret" not in line and "tok-99999" not in line and "pw12345" not in line
    assert line.startswith("ERROR cannot log in with [REDACTED:DB_PASSWORD]")


def test_one_compose_version_rule_for_labels_clis_and_profiles() -> None:
    from ansible_collections.ods.fix.plugins.module_utils import composecore  # noqa: PLC0415

    assert [composecore.flavor(v) for v in ("1.29.2", "v2.29.7", "2.30.0", "")] == ["v1", "v2", "v2", None]

    class Container:
        def __init__(self, name: str, service: str, status: str, version: str = "2.29.7", oneoff: str = "False"):
            self.name, self.status = name, status
            self.labels = {
                composecore.SERVICE_LABEL: service,
                composecore.VERSION_LABEL: version,
                composecore.ONEOFF_LABEL: oneoff,
            }

    class Api:
        class containers:  # noqa: N801 - the docker client's attribute
            @staticmethod
            def list(**_kwargs: object) -> list[Container]:
                return [
                    Container("db-running", "mysql", "running"),
                    Container("db-old", "mysql", "exited"),
                    Container("db-run-1", "mysql", "running", oneoff="True"),
                    Container("web", "web", "exited", version="1.29.2"),
                ]

    found = composecore.project_containers(Api, "ods")
    assert {s: c.name for s, c in found.items()} == {"mysql": "db-running", "web": "web"}
    assert composecore.project_flavor({"web": found["web"]}) == "v1"
    assert composecore.project_flavor({}) is None
