"""The pipelined split and load: which tables LOAD DATA takes, the rows it is given, the loaders' fallback."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils.mysql import dump_reader, parallel_load

from tests import DATA

MARIADB = DATA / "mariadb-dump.sql"  # mariadb-dump 10.11: a row a line
MYSQL = DATA / "mysqldump-oneline.sql"  # mysqldump 8.0: rows on one line, "),(" inside a string
MYSQL8_DATABASES = DATA / "mysqldump8-databases.sql"  # --complete-insert --skip-extended-insert


def split(dump: Path, tmp_path: Path, bulk: bool = False, big: int | None = None) -> parallel_load.Split:
    if big is not None:
        parallel_load.Part.BIG = big
    try:
        return parallel_load.Splitter(str(dump), str(tmp_path / "split"), load_data=True, bulk=bulk).run()
    finally:
        parallel_load.Part.BIG = 1 << 16


def rows_sent(part: parallel_load.Part, dump: Path) -> bytes:
    """What a loader streams into LOAD DATA for a part: its segments, separated."""
    sources = {parallel_load.Part.DUMP: dump.read_bytes(), parallel_load.Part.SPOOL: b""}
    if Path(part.spool_path).exists():
        sources[parallel_load.Part.SPOOL] = Path(part.spool_path).read_bytes()
    return part.separator.join(sources[kind][start:end] for kind, start, end in part.runs())


def test_tables_loadable_as_text_go_to_load_data_and_a_blob_table_keeps_its_inserts(tmp_path: Path) -> None:
    parts = split(MARIADB, tmp_path).parts
    assert {name: part.loadable for name, part in parts.items()} == {
        "blob_store": False,  # longblob: mariadb-dump writes raw bytes a LOAD DATA would read as text
        "flow": True,
        "flow_summary": False,  # a view's stand-in, no rows
        "knowledge": True,
        "message": True,
    }
    assert b"INSERT INTO `blob_store`" in Path(parts["blob_store"].sql_path).read_bytes()
    assert b"INSERT INTO" not in Path(parts["flow"].sql_path).read_bytes()
    assert (parts["flow"].load_rows, parts["flow"].counted, parts["flow"].separator) == (3, 3, b"),\n(")


@pytest.mark.parametrize("big", [1, 1 << 20], ids=["read from the dump", "copied to the spool"])
def test_the_rows_given_to_load_data_are_the_inserts_values(tmp_path: Path, big: int) -> None:
    part = split(MARIADB, tmp_path, big=big).parts["message"]
    sent = rows_sent(part, MARIADB)
    assert sent.startswith(b"1,1,'user','") and sent.endswith(b"'2026-11-28 11:06:38'")
    assert sent.count(b"),\n(") == 2 and not sent.startswith(b"(") and b";" not in sent[-3:]
    kinds = {kind for kind, _start, _end in part.runs()}
    assert kinds == ({parallel_load.Part.DUMP} if big == 1 else {parallel_load.Part.SPOOL})


def test_single_line_inserts_are_joined_with_the_separator_and_a_string_keeps_its_own(tmp_path: Path) -> None:
    part = split(MYSQL, tmp_path).parts["orders"]
    assert part.separator == b"),(" and part.load_rows == 4
    assert rows_sent(part, MYSQL) == b"1,'a),(b'),(2,'it\\'s (two)'),(3,NULL),(4,'x'"


def test_a_gzip_dump_is_spooled(tmp_path: Path) -> None:
    packed = tmp_path / "dump.sql.gz"
    with MARIADB.open("rb") as source, gzip.open(packed, "wb") as out:
        shutil.copyfileobj(source, out)
    part = split(packed, tmp_path, big=1).parts["message"]
    assert {kind for kind, _s, _e in part.runs()} == {parallel_load.Part.SPOOL}
    assert rows_sent(part, packed) == rows_sent(split(MARIADB, tmp_path).parts["message"], MARIADB)


def test_complete_inserts_give_load_data_their_column_list(tmp_path: Path) -> None:
    parts = split(MYSQL8_DATABASES, tmp_path).parts
    assert not parts["customer"].loadable  # a generated and an invisible column
    orders = parts["orders"]
    assert orders.columns == b" (`id`, `customer_id`, `total`)" and orders.load_rows == 3
    statement = parallel_load.load_statement(orders, "utf8mb4")
    assert statement.endswith("LINES TERMINATED BY '),(' (`id`, `customer_id`, `total`)")
    assert "INTO TABLE `orders` CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' ENCLOSED BY ''''" in statement


def test_the_load_statement_of_a_row_a_line_dump(tmp_path: Path) -> None:
    statement = parallel_load.load_statement(split(MARIADB, tmp_path).parts["flow"], "utf8mb4")
    assert statement == (
        "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE `flow` CHARACTER SET utf8mb4 "
        "FIELDS TERMINATED BY ',' ENCLOSED BY '''' ESCAPED BY '\\\\' LINES TERMINATED BY '),\\n('"
    )


def test_with_bulk_insert_the_keys_are_built_by_the_load_itself(tmp_path: Path) -> None:
    flow = split(MARIADB, tmp_path, bulk=True).parts["flow"]
    assert b"KEY `idx_flow_name`" in Path(flow.sql_path).read_bytes()
    assert flow.after == [] and flow.stats_off


CREATE = (
    b"CREATE TABLE `t` (\n  `id` int NOT NULL,\n  %s,\n  PRIMARY KEY (`id`)\n) ENGINE=%s DEFAULT CHARSET=utf8mb4;\n"
)


@pytest.mark.parametrize(
    ("column", "engine", "kind", "header", "loadable"),
    [
        (b"`a` varchar(10) DEFAULT NULL", b"InnoDB", "mysqldump", b"", True),
        (b"`a` json DEFAULT NULL", b"InnoDB", "mariadb-dump", b"", True),
        (b"`a` blob", b"InnoDB", "mysqldump", b"", False),
        (b"`a` varbinary(16) NOT NULL", b"InnoDB", "mysqldump", b"", False),
        (b"`a` bit(1) DEFAULT NULL", b"InnoDB", "mysqldump", b"", False),
        (b"`a` point NOT NULL", b"InnoDB", "mysqldump", b"", False),
        (b"`a` varchar(10) CHARACTER SET binary", b"InnoDB", "mysqldump", b"", False),
        (b"`a` int GENERATED ALWAYS AS (`id` + 1) VIRTUAL", b"InnoDB", "mysqldump", b"", False),
        (b"`a` int DEFAULT NULL /*!80023 INVISIBLE */", b"InnoDB", "mysqldump", b"", False),
        (b"`a` varchar(10) DEFAULT NULL", b"MyISAM", "mysqldump", b"", False),
        (b"`a` varchar(10) DEFAULT NULL", b"InnoDB", "sql", b"", False),  # a dump of unknown make
        (b"`a` varchar(10) DEFAULT NULL", b"InnoDB", "mysqldump", b"SET SQL_MODE='NO_BACKSLASH_ESCAPES';", False),
    ],
)
def test_which_tables_load_data_takes(column: bytes, engine: bytes, kind: str, header: bytes, loadable: bool) -> None:
    assert parallel_load.loadable(CREATE % (column, engine), kind, header) is loadable


def test_statistics_are_not_recalculated_during_the_load_and_put_back_after() -> None:
    lines = (CREATE % (b"`a` int", b"InnoDB")).splitlines(True)
    changed, off = parallel_load.without_stats_recalc(lines)
    assert off and changed[-1] == b") STATS_AUTO_RECALC=0 ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
    partitioned = [
        *lines[:-1],
        b") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4\n",
        b"/*!50100 PARTITION BY HASH (`id`) */;\n",
    ]
    assert parallel_load.without_stats_recalc(partitioned)[0][-2].startswith(b") STATS_AUTO_RECALC=0 ENGINE=InnoDB")
    explicit = [*lines[:-1], b") ENGINE=InnoDB STATS_AUTO_RECALC=1;\n"]
    assert parallel_load.without_stats_recalc(explicit) == (explicit, False)
    myisam = (CREATE % (b"`a` int", b"MyISAM")).splitlines(True)
    assert parallel_load.without_stats_recalc(myisam) == (myisam, False)


@pytest.mark.parametrize(
    ("version", "local_infile", "bulk", "unsafe"),
    [
        ("10.11.18-MariaDB-0+deb12u1-log", "1", True, False),
        ("10.11.6-MariaDB", "1", False, True),  # MDEV-34703: LOAD DATA on the bulk path can abort
        ("11.4.5-MariaDB", "ON", True, False),
        ("11.2.2-MariaDB", "1", False, True),
        ("10.5.23-MariaDB", "1", False, False),  # no bulk insert before 10.6
        ("8.0.36", "0", False, False),  # MySQL 8: local_infile is off by default
    ],
)
def test_how_each_server_is_loaded(version: str, local_infile: str, bulk: bool, unsafe: bool) -> None:
    server = parallel_load.ServerLoad(local_infile in ("1", "ON"), version)
    assert (server.bulk, server.bulk_unsafe) == (bulk, unsafe)
    assert server.settings() == (b"SET unique_checks = 1;\n" if unsafe else b"")


def test_a_table_whose_rows_come_back_later_is_loaded_after_the_others(tmp_path: Path) -> None:
    dump = tmp_path / "late.sql"
    text = MYSQL.read_bytes().replace(
        b"-- Dump completed", b"INSERT INTO `orders` VALUES (5,'late');\n-- Dump completed"
    )
    dump.write_bytes(
        text.replace(b"UNLOCK TABLES;\n", b"UNLOCK TABLES;\nCREATE TABLE `other` (`id` int) ENGINE=InnoDB;\n")
    )
    parts = split(dump, tmp_path)
    assert sorted(parts.parts) == ["orders", "other"]
    assert b"INSERT INTO `orders` VALUES (5,'late');" in Path(parts.late).read_bytes()
    assert parts.scan.rows["orders"] == 5


def test_a_table_created_twice_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "twice.sql"
    create = b"CREATE TABLE `t` (\n  `id` int\n) ENGINE=InnoDB;\n"
    dump.write_bytes(
        MYSQL.read_bytes().replace(
            b"UNLOCK TABLES;\n",
            b"UNLOCK TABLES;\n" + create + b"DROP TABLE IF EXISTS `orders`;\n" + b"CREATE TABLE `orders` (`id` int);\n",
        )
    )
    with pytest.raises(dump_reader.DumpError, match="created twice"):
        split(dump, tmp_path)


class FakeSession:
    """A client session: what it was sent, and the output a LOAD DATA gives (rows loaded, warnings)."""

    def __init__(self, log: list[tuple[str, bytes]], args: list[str], output: str) -> None:
        self.log, self.args, self.output, self.data = log, args, output, b""
        self.broken = False

    def send(self, data: bytes) -> None:
        self.data += data

    def send_file(self, handle, offset: int, count: int) -> None:  # type: ignore[no-untyped-def]
        handle.seek(offset)
        self.data += handle.read(count)

    def close(self) -> str:
        self.log.append(("load" if self.args else "sql", self.data))
        return self.output if self.args else ""


class FakeDatabase:
    def __init__(self, load_output: str) -> None:
        self.log: list[tuple[str, bytes]] = []
        self.statements: list[str] = []
        self.load_output = load_output

    def session(self, database: str | None = None, args: tuple[str, ...] | list[str] = ()) -> FakeSession:
        return FakeSession(self.log, list(args), self.load_output)

    def sql(self, statement: str, timeout: int = 3600) -> list[list[str]]:
        self.statements.append(statement)
        if statement.startswith("SELECT COUNT(*)"):
            return [["3"]]
        if statement.startswith("CHECKSUM TABLE"):
            return [["app__restore.message", "1234"]]
        return []


def load_one(tmp_path: Path, output: str) -> tuple[FakeDatabase, parallel_load.Loader]:
    splitter = parallel_load.Splitter(str(MARIADB), str(tmp_path / "split"), load_data=True, bulk=True)
    parts = splitter.run().parts
    db = FakeDatabase(output)
    server = parallel_load.ServerLoad(True, "10.11.18-MariaDB")
    loader = parallel_load.Loader(db, "app__restore", 1, lambda: splitter.split.preamble, server, str(MARIADB))
    loader.load(parts["message"])
    return db, loader


def test_load_data_whose_count_matches_is_trusted_without_counting_again(tmp_path: Path) -> None:
    db, loader = load_one(tmp_path, "ROW_COUNT()\t@@warning_count\n3\t0\n")
    kinds = [kind for kind, _data in db.log]
    assert kinds == ["sql", "load"] and loader.methods == {"message": "LOAD DATA"}
    assert loader.counts == {"message": 3} and loader.checksums == {"message": "1234"}
    assert not any(s.startswith("SELECT COUNT(*)") for s in db.statements)
    assert not any("STATS_AUTO_RECALC" in s for s in db.statements)  # put back once every table is in


def test_the_statistics_option_is_put_back_in_one_session_one_table_after_the_other(tmp_path: Path) -> None:
    db = FakeDatabase("")
    parallel_load.put_back_statistics(db, "app__restore", split(MARIADB, tmp_path))
    assert len(db.statements) == 1  # never two ALTERs at once: on tables a foreign key links they can deadlock
    statement = db.statements[0]
    assert statement.startswith("SET SESSION lock_wait_timeout = 600;\n")
    assert statement.count("STATS_AUTO_RECALC=DEFAULT") == 4 and "`flow_summary`" not in statement
    assert "`app__restore`.`message` STATS_AUTO_RECALC=DEFAULT;\nANALYZE NO_WRITE_TO_BINLOG TABLE" in statement


@pytest.mark.parametrize("output", ["2\t0\n", "3\t1\n"], ids=["a row short", "a warning"])
def test_load_data_that_differs_is_undone_and_the_table_loaded_from_its_inserts(tmp_path: Path, output: str) -> None:
    db, loader = load_one(tmp_path, output)
    assert [kind for kind, _data in db.log] == ["sql", "load", "sql"]
    assert "TRUNCATE TABLE `app__restore`.`message`;" in db.statements
    inserts = db.log[-1][1]
    assert inserts.startswith(parallel_load.LOAD_SETTINGS) and inserts.count(b"INSERT INTO `message` VALUES") == 1
    assert loader.methods == {"message": "INSERT"} and loader.counts == {"message": 3}
    assert "loaded from its INSERTs instead" in loader.notes[0]


ALL = DATA / "mariadb-dump-all-databases.sql"


def test_a_dump_of_the_whole_server_is_refused_at_its_mysql_schema(tmp_path: Path) -> None:
    with pytest.raises(dump_reader.DumpError, match=r"line 70: it is a dump of the whole server .* --database NAME"):
        split(ALL, tmp_path)  # refused at mysql, before app_one's tables are loaded further


@pytest.mark.parametrize(
    ("pick", "rows", "objects"),
    [("app_one", {"users": 2}, b"TRIGGER users_touch"), ("app_two", {"users": 3}, b"PROCEDURE `team_size`")],
)
def test_one_database_is_picked_from_a_dump_of_several(tmp_path: Path, pick: str, rows: dict, objects: bytes) -> None:
    parts = parallel_load.Splitter(str(ALL), str(tmp_path / "split"), load_data=True, pick=pick).run()
    assert parts.scan.tables == ["users"] and parts.scan.rows == rows
    assert sorted(parts.parts) == ["users"] and parts.scan.databases[0] == "app_one"
    body = Path(parts.objects).read_bytes()
    assert objects in body and b"`db`" not in body and b"mysql" not in body
    other = b"TRIGGER users_touch" if pick == "app_two" else b"team_size"
    assert other not in body and body.count(b"DELIMITER ;;") == body.count(b"DELIMITER ;\n")
    assert b"'%','app_one'" not in Path(parts.parts["users"].sql_path).read_bytes()


def test_the_databases_of_a_dump_are_listed_without_parsing_it() -> None:
    assert dump_reader.databases_in(str(ALL)) == ["app_one", "mysql", "app_two"]
    assert dump_reader.databases_in(str(MARIADB)) == ["one_data_bisheng"]


def test_a_database_the_dump_does_not_hold_is_refused(tmp_path: Path) -> None:
    with pytest.raises(dump_reader.DumpError, match="holds the databases app_one, mysql, app_two, not shop"):
        parallel_load.Splitter(str(ALL), str(tmp_path / "split"), pick="shop").run()


class MountedContainer:
    """A database container whose data directory is a directory of the test's: what exec_run's `test -f` sees."""

    def __init__(self, source: Path, there: str = "/var/lib/mysql") -> None:
        self.source, self.there = source, there
        self.attrs = {"Mounts": [{"Type": "volume", "Source": str(source), "Destination": there, "RW": True}]}

    def exec_run(self, argv: list[str]) -> object:
        path = self.source / Path(argv[-1]).relative_to(self.there)

        class Result:
            exit_code = 0 if path.is_file() else 1

        return Result()


class DatadirDatabase:
    def __init__(self, container: MountedContainer) -> None:
        self.container = container

    def sql(self, statement: str) -> list[list[str]]:
        assert statement == "SELECT @@datadir;"
        return [["/var/lib/mysql/"]]


def test_rows_go_through_a_file_in_the_mounted_data_directory(tmp_path: Path) -> None:
    datadir = tmp_path / "volume"
    datadir.mkdir()
    (datadir / "ods-fix-rows-1-7").write_bytes(b"left by a killed run of an earlier version")
    mine = parallel_load.RowsDir(str(datadir), "/var/lib/mysql", datadir.stat(), "local")
    Path(mine.path("3")[0]).write_bytes(b"left by a killed run of this project")
    theirs = parallel_load.RowsDir(str(datadir), "/var/lib/mysql", datadir.stat(), "another")
    Path(theirs.path("3")[0]).write_bytes(b"another project's load, running")
    rows_dir = parallel_load.RowsDir.find(DatadirDatabase(MountedContainer(datadir)), "local")
    assert rows_dir is not None and rows_dir.here == str(datadir) and rows_dir.there == "/var/lib/mysql"
    # what a killed run left is gone, and so is the probe; another project's rows stay
    assert [p.name for p in datadir.iterdir()] == [Path(theirs.path("3")[0]).name]
    part = split(MYSQL, tmp_path, big=20).parts["orders"]  # its first INSERT read from the dump, its second copied
    assert [kind for kind, _s, _e in part.runs()] == [parallel_load.Part.DUMP, parallel_load.Part.SPOOL]
    written = rows_dir.write(part, str(MYSQL))
    assert written is not None and written[1].startswith("/var/lib/mysql/ods-fix-rows-")
    assert Path(written[0]).read_bytes() == b"1,'a),(b'),(2,'it\\'s (two)'),(3,NULL),(4,'x'"
    assert Path(written[0]).stat().st_mode & 0o777 == 0o600


def test_a_link_planted_where_the_probe_goes_is_never_followed(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The database's container can write its data directory: a link at the probe's name, planted between the
    clean-up and the probe (clean is skipped here to make that race certain), must not truncate its target."""
    datadir, victim = tmp_path / "volume", tmp_path / "victim"
    datadir.mkdir()
    victim.write_bytes(b"root's file on the host")
    monkeypatch.setattr(parallel_load.RowsDir, "clean", lambda self: (0, 0))
    probe = parallel_load.RowsDir(str(datadir), "/var/lib/mysql", datadir.stat(), "local").path("probe")[0]
    Path(probe).symlink_to(victim)
    assert parallel_load.RowsDir.find(DatadirDatabase(MountedContainer(datadir)), "local") is None  # stdin instead
    assert victim.read_bytes() == b"root's file on the host" and Path(probe).is_symlink()


def test_the_next_restore_removes_what_a_killed_load_left_and_says_how_much(tmp_path: Path) -> None:
    datadir = tmp_path / "volume"
    datadir.mkdir()
    rows_dir = parallel_load.RowsDir(str(datadir), "/var/lib/mysql", datadir.stat(), "local")
    for n in range(3):
        Path(rows_dir.path(str(n))[0]).write_bytes(b"x" * 1000)
    assert rows_dir.clean() == (3, 3000) and list(datadir.iterdir()) == []


def test_without_a_data_directory_mounted_from_here_the_rows_go_through_stdin(tmp_path: Path) -> None:
    elsewhere = MountedContainer(tmp_path / "not-here")  # the engine's host is another machine
    assert parallel_load.RowsDir.find(DatadirDatabase(elsewhere)) is None
    other = MountedContainer(tmp_path, there="/data")  # the data directory is not a mount
    assert parallel_load.RowsDir.find(DatadirDatabase(other)) is None


def test_without_drop_table_a_tables_opening_settings_go_with_it_not_with_the_table_before(tmp_path: Path) -> None:
    """mariadb-dump --skip-add-drop-table: a table's part starts at its SET @saved_cs_client, not at a DROP TABLE;
    its closing SET character_set_client = @saved_cs_client must find the saved value in its own session."""
    dumps = DATA / "dumps"
    parts = parallel_load.Splitter(str(dumps / "mariadb-skip-add-drop-table.sql"), str(tmp_path / "s")).run().parts
    for name in ("blob_store", "flow", "message"):
        body = Path(parts[name].sql_path).read_bytes()
        assert body.index(b"SET @saved_cs_client") < body.index(b"CREATE TABLE") < body.index(b"= @saved_cs_client")
    for name in ("blob_store", "flow"):  # its own, not the next table's (the last keeps the triggers' around them)
        assert Path(parts[name].sql_path).read_bytes().count(b"SET @saved_cs_client") == 1, name


def test_what_docker_sent_behind_the_upgrades_headers_is_read_too() -> None:
    """docker-py hands back the socket beneath http.client's buffered reader; a fast command's output may be in
    that buffer already. Read from the socket alone it was lost (an empty LOAD DATA result, under load)."""
    import socket  # noqa: PLC0415
    import struct  # noqa: PLC0415
    import types  # noqa: PLC0415

    from ansible_collections.ods.fix.plugins.module_utils.stack import docker_exec  # noqa: PLC0415

    def attached() -> object:
        here, docker = socket.socketpair()
        docker.sendall(b"HTTP/1.1 101 UPGRADED\r\n\r\n" + struct.pack(">BxxxL", 1, 5) + b"5\t0\n\n")
        docker.close()
        fp = here.makefile("rb")
        fp.readline(), fp.readline()  # http.client reads the status line and the headers; the frame is buffered
        sock = fp.raw
        sock._response = types.SimpleNamespace(raw=types.SimpleNamespace(_fp=types.SimpleNamespace(fp=fp)))
        return types.SimpleNamespace(exec_start=lambda exec_id, socket: sock)

    raw, read = docker_exec.attach(attached(), "exec")
    assert list(docker_exec._frames(read)) == [(1, b"5\t0\n\n")]
    raw, _read = docker_exec.attach(attached(), "exec")
    assert list(docker_exec._frames(raw.recv)) == []  # the old way: gone
