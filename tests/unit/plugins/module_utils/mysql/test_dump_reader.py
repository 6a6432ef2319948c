"""The dump reader: validation, row counting, splitting (real mariadb-dump and mysqldump output)."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils.mysql import dump_reader, parallel_load, restore, root_access

from tests import DATA

MARIADB = DATA / "mariadb-dump.sql"
MYSQL = DATA / "mysqldump-oneline.sql"


def test_mariadb_dump_with_view_trigger_routine_blob_and_utf8mb4() -> None:
    scan, info = dump_reader.validate(str(MARIADB))
    assert scan.kind == "mariadb-dump" and scan.database == "one_data_bisheng" and scan.complete
    assert scan.rows == {"blob_store": 2, "flow": 3, "knowledge": 2, "message": 3}
    assert (scan.views, scan.triggers, scan.routines) == (["flow_summary"], ["message_touch"], ["PROCEDURE flow_count"])
    assert info["file_bytes"] == MARIADB.stat().st_size and not info["compressed"]


def test_mysqldump_single_line_inserts_count_tuples_not_parens_in_strings() -> None:
    scan, _ = dump_reader.validate(str(MYSQL))
    assert scan.kind == "mysqldump" and scan.database == "shop"  # named only in the header
    assert scan.rows == {"orders": 4}


def test_gzip_gives_the_same_scan(tmp_path: Path) -> None:
    packed = tmp_path / "dump.sql.gz"
    with MARIADB.open("rb") as source, gzip.open(packed, "wb") as out:
        shutil.copyfileobj(source, out)
    scan, info = dump_reader.validate(str(packed))
    assert info["compressed"] and info["sql_bytes"] == MARIADB.stat().st_size
    assert scan.rows["flow"] == 3


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256))), "does not look like a SQL dump"),
        (lambda p: p.write_bytes(MARIADB.read_bytes()[:3000]), "is incomplete"),
        (lambda p: p.write_bytes(gzip.compress(MARIADB.read_bytes())[:500]), "truncated"),
        (lambda p: p.write_bytes(gzip.compress(MARIADB.read_bytes())[:40] + b"junk" * 50), "gzip file is corrupt"),
    ],
    ids=["empty", "png", "truncated", "truncated-gz", "corrupt-gz"],
)
def test_bad_dumps_are_refused_with_the_reason(tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad dump; $(rm -rf).sql"
    make(path)
    with pytest.raises(dump_reader.DumpError, match=reason):
        dump_reader.validate(str(path))


def test_missing_file() -> None:
    with pytest.raises(dump_reader.DumpError, match="No such file"):
        dump_reader.validate("/nonexistent/backup.sql")


def test_incomplete_accepted_on_request(tmp_path: Path) -> None:
    path = tmp_path / "cut.sql"
    path.write_bytes(MARIADB.read_bytes()[:4300])
    scan, _ = dump_reader.validate(str(path), allow_incomplete=True)
    assert not scan.complete


def split(dump: Path, tmp_path: Path, load_data: bool = False, bulk: bool = False) -> parallel_load.Split:
    """The dump split as the restore splits it, each table's part as the loaders would get it."""
    return parallel_load.Splitter(str(dump), str(tmp_path / "split"), load_data=load_data, bulk=bulk).run()


def sql_of(parts: parallel_load.Split, table: str) -> bytes:
    return Path(parts.parts[table].sql_path).read_bytes()


def test_split_puts_each_table_in_its_own_file_and_objects_after(tmp_path: Path) -> None:
    parts = split(MARIADB, tmp_path)
    assert sorted(parts.parts) == ["blob_store", "flow", "flow_summary", "knowledge", "message"]
    flow = sql_of(parts, "flow")
    assert flow.startswith(parallel_load.LOAD_SETTINGS) and b"SET NAMES utf8mb4" in flow
    assert b"INSERT INTO `flow`" in flow
    assert b"message" not in flow and b"CREATE DATABASE" not in flow and b"USE `" not in flow
    assert b"KEY `idx_flow_name`" not in flow  # built after the rows, sorted:
    assert parts.parts["flow"].after == ["ALTER TABLE %(table)s ADD KEY `idx_flow_name` (`name`)"]
    assert parts.parts["flow"].stats_off
    assert b") STATS_AUTO_RECALC=0 ENGINE=InnoDB" in flow
    objects = Path(parts.objects).read_bytes()
    assert objects.startswith(b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT")  # the preamble, for its own session
    assert b"TRIGGER message_touch" in objects and b"PROCEDURE `flow_count`" in objects
    assert b"VIEW `flow_summary` AS select" in objects and b"INSERT INTO" not in objects


def test_mysql_batch_values_are_unescaped() -> None:
    assert root_access.unescape("BEGIN\\n  SELECT 1;\\nEND\\ttab \\\\ back") == "BEGIN\n  SELECT 1;\nEND\ttab \\ back"


def test_quick_check_reads_kind_database_and_trailer_without_counting() -> None:
    scan, info = dump_reader.quick_check(str(MARIADB))
    assert (scan.kind, scan.database, scan.complete) == ("mariadb-dump", "one_data_bisheng", True)
    assert scan.rows == {} and len(info["sha256"]) == 64


@pytest.mark.parametrize("cut", [3000, 6000])
def test_quick_check_refuses_a_truncated_dump(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.sql"
    path.write_bytes(MARIADB.read_bytes()[:cut])
    with pytest.raises(dump_reader.DumpError, match="is incomplete"):
        dump_reader.quick_check(str(path))


def test_whole_insert_statements_count_like_lines(tmp_path: Path) -> None:
    """The fast path (whole INSERTs) and the line path agree, on both dump styles."""
    for dump in (MARIADB, MYSQL):
        fast = dump_reader.Scan()
        list(dump_reader.statements(dump_reader.Reader(str(dump)).units(), fast))
        slow = dump_reader.Scan()
        list(dump_reader.statements(dump_reader.Reader(str(dump)).lines(), slow))
        assert fast.rows == slow.rows and fast.tables == slow.tables and fast.complete == slow.complete


CREATE_WITH_KEYS = [
    b"CREATE TABLE `orders` (\n",
    b"  `id` int(11) NOT NULL,\n",
    b"  `customer_id` int(11) DEFAULT NULL,\n",
    b"  `sku` varchar(24) DEFAULT NULL,\n",
    b"  PRIMARY KEY (`id`),\n",
    b"  UNIQUE KEY `sku` (`sku`),\n",
    b"  KEY `customer_id` (`customer_id`),\n",
    b"  KEY `by_both` (`customer_id`,`sku`)\n",
    b") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n",
]


def test_plain_secondary_keys_are_built_after_the_rows() -> None:
    lines, alter = dump_reader.defer_secondary_keys(CREATE_WITH_KEYS, "orders")
    assert b"".join(lines) == (
        b"CREATE TABLE `orders` (\n  `id` int(11) NOT NULL,\n  `customer_id` int(11) DEFAULT NULL,\n"
        b"  `sku` varchar(24) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `sku` (`sku`)\n"
        b") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
    )
    assert alter == (
        b"ALTER TABLE `orders` ADD KEY `customer_id` (`customer_id`), ADD KEY `by_both` (`customer_id`,`sku`);\n"
    )


def test_a_table_with_foreign_keys_keeps_its_keys() -> None:
    with_fk = [*CREATE_WITH_KEYS[:-2], b"  KEY `by_both` (`customer_id`,`sku`),\n"]
    with_fk += [b"  CONSTRAINT `fk` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`)\n", CREATE_WITH_KEYS[-1]]
    assert dump_reader.defer_secondary_keys(with_fk, "orders") == (with_fk, b"")


@pytest.mark.parametrize(
    ("values", "rows"),
    [
        (b"(1,'a'),(2,'b')", 2),
        (b"(1,'),(x'),(2,'(')", 2),
        (b"(1,'it\\'s (a) \\\\'),(2,'\\\\\\'('),(3,NULL)", 3),
        (b"(1,'it''s ('),(2,0x28)", 2),
    ],
)
def test_rows_are_counted_outside_string_literals(values: bytes, rows: int) -> None:
    assert dump_reader.count_rows(b"INSERT INTO `t` VALUES " + values + b";\n") == rows


MYSQL8 = DATA / "mysqldump8-gtid.sql"


def test_split_leaves_out_table_locks(tmp_path: Path) -> None:
    """Another session creating a child table while this one holds LOCK TABLES breaks its INSERTs (ERROR 1100)."""
    parts = split(MARIADB, tmp_path)
    for part in parts.parts.values():
        body = Path(part.sql_path).read_bytes()
        assert b"LOCK TABLES" not in body and b"UNLOCK TABLES" not in body
    assert b"LOCK TABLES" not in Path(parts.objects).read_bytes()


def test_mysqldump8_gtid_purged_is_not_run_and_its_session_settings_reach_every_table(tmp_path: Path) -> None:
    scan, _ = dump_reader.validate(str(MYSQL8))
    assert scan.kind == "mysqldump" and scan.database == "shop" and scan.rows == {"customer": 2, "orders": 3}
    assert scan.skipped == ["SET @@GLOBAL.GTID_PURGED (the source server's GTID set)"]
    parts = split(MYSQL8, tmp_path)
    for table in ("customer", "orders"):
        body = sql_of(parts, table)
        assert b"GTID_PURGED" not in body
        assert b"FOREIGN_KEY_CHECKS=0" in body and b"SET @@SESSION.SQL_LOG_BIN= 0;" in body
        assert b"SET NAMES utf8mb4" in body and b"TIME_ZONE='+00:00'" in body
        assert b"/*!50503 SET character_set_client = utf8mb4 */;" in body  # with its table, not the objects
    objects = Path(parts.objects).read_bytes()
    assert b"GTID_PURGED" not in objects and b"SET @@SESSION.SQL_LOG_BIN = @MYSQLDUMP_TEMP_LOG_BIN;" in objects
    assert b"character_set_client = utf8mb4" not in objects.split(b"SQL_NOTES=0 */;")[1]


class SwapDatabase:
    """Just enough of root_access.Database for swap_in and resume: schemas of tables, statements recorded."""

    def __init__(self, schemas: dict[str, list[str]] | None = None) -> None:
        fresh = {"app": ["old"], "app__shadow": ["new"]}
        self.schemas: dict[str, list[str]] = schemas if schemas is not None else fresh
        self.statements: list[str] = []

    def sql(self, statement: str) -> list[list[str]]:
        self.statements.append(statement)
        if statement.startswith("RENAME TABLE"):
            for move in statement[len("RENAME TABLE ") : -1].split(", "):
                source, target = (part.replace("`", "").split(".") for part in move.split(" TO "))
                self.schemas[source[0]].remove(source[1])
                self.schemas.setdefault(target[0], []).append(target[1])
        elif statement.startswith("DROP DATABASE"):
            self.schemas.pop(statement.rsplit(maxsplit=1)[-1].strip("`;"), None)
        elif statement.startswith("CREATE DATABASE"):
            self.schemas.setdefault(statement.split()[-3].strip("`"), [])
        return []

    def exists(self, schema: str) -> bool:
        return schema in self.schemas

    def tables(self, schema: str) -> list[str]:
        return list(self.schemas.get(schema, []))

    def objects(self, schema: str) -> dict[str, list[str]]:
        return {"views": [], "triggers": [], "routines": [], "events": []}

    def row_counts(self, schema: str, tables: list[str]) -> dict[str, int]:
        return {t: 5 for t in tables}

    def checksums(self, schema: str, tables: list[str]) -> dict[str, str]:
        return {t: "1" for t in tables}

    def script(self, database: str, text: str) -> None:
        self.statements.append(f"script in {database}: {text}")


class SwapJournal:
    """The journal's rows in memory: the phases each went through."""

    def __init__(self, entry: dict[str, object] | None = None) -> None:
        self.statuses: list[str] = []
        self.entry = entry

    def start(self, *args: object, **kwargs: object) -> int:
        return 7

    def phase(self, entry: int, status: str) -> None:
        self.statuses.append(status)

    def finish(self, entry: int, status: str, *args: object) -> None:
        self.statuses.append(status)

    def latest(self, target: str, statuses: tuple[str, ...] = ("done",)) -> dict[str, object] | None:
        return self.entry if self.entry is not None and self.entry["status"] in statuses else None


def journal_row(status: str, old_tables: list[str], new_tables: list[str], **extra: object) -> dict[str, object]:
    row: dict[str, object] = dict(
        id=7,
        status=status,
        kept_schema="app__old",
        source_schema="app__shadow",
        old_tables=old_tables,
        new_tables=new_tables,
        old_objects="OLD OBJECTS",
        new_objects="NEW OBJECTS",
        checksums="",
        row_counts="",
    )
    row.update(extra)
    return row


def test_a_swap_journals_each_phase_before_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(restore, "capture_objects", lambda db, schema: ("", db.objects(schema)))
    db, journal = SwapDatabase(), SwapJournal()
    restore.swap_in(db, journal, "app", "app__shadow", "app__old", "NEW", "sha", "d.sql", lambda: [])
    assert journal.statuses == ["renamed", "objects"]  # the module then says done, after its own checks


def test_a_restore_into_an_empty_database_killed_after_the_rename_comes_back_complete() -> None:
    # The disaster case: nothing was there to keep, so the kept schema is empty, yet the RENAME did run.
    db = SwapDatabase({"app": ["t1", "t2"], "app__old": []})
    journal = SwapJournal(journal_row("renamed", [], ["t1", "t2"], row_counts='{"t1": 5, "t2": 5}'))
    said = restore.resume(db, journal, "app", None)
    assert "finished an interrupted restore" in (said or "")
    assert "script in app: NEW OBJECTS" in db.statements and journal.statuses == ["objects", "done"]
    assert db.schemas["app"] == ["t1", "t2"]


def test_a_kill_in_swapping_with_the_rename_done_is_told_by_the_tables_not_the_kept_schema() -> None:
    db = SwapDatabase({"app": ["t1"], "app__old": [], "app__shadow": []})
    journal = SwapJournal(journal_row("swapping", [], ["t1"]))
    assert "finished" in (restore.resume(db, journal, "app", None) or "")
    assert journal.statuses[-1] == "done"


def test_a_kill_in_swapping_before_the_rename_puts_the_old_objects_back() -> None:
    db = SwapDatabase({"app": ["t1"], "app__old": [], "app__shadow": ["t1"]})
    journal = SwapJournal(journal_row("swapping", ["t1"], ["t1"]))
    assert "never moved" in (restore.resume(db, journal, "app", None) or "")
    assert "script in app: OLD OBJECTS" in db.statements and journal.statuses == ["aborted"]
    assert "app__old" not in db.schemas and db.schemas["app__shadow"] == ["t1"]


def test_a_restore_whose_rows_differ_on_resume_is_swapped_back() -> None:
    db = SwapDatabase({"app": ["t1"], "app__old": ["t1"]})
    journal = SwapJournal(journal_row("objects", ["t1"], ["t1"], row_counts='{"t1": 6}'))
    assert "the old data is back" in (restore.resume(db, journal, "app", None) or "")
    assert journal.statuses == ["objects", "swapping_back", "aborted"]
    assert db.schemas["app"] == ["t1"] and "app__old" not in db.schemas


@pytest.mark.parametrize("moved_back", [False, True])
def test_a_kill_during_swap_back_finishes_the_swap_back(moved_back: bool) -> None:
    back = {"app": ["t1"], "app__old": [], "app__shadow": ["t1"]}
    db = SwapDatabase(back if moved_back else {"app": ["t1"], "app__old": ["t1"]})
    journal = SwapJournal(journal_row("swapping_back", ["t1"], ["t1"]))
    assert "finished putting back" in (restore.resume(db, journal, "app", None) or "")
    assert sum(s.startswith("RENAME TABLE") for s in db.statements) == (0 if moved_back else 1)
    assert "script in app: OLD OBJECTS" in db.statements and journal.statuses == ["aborted"]
    assert db.schemas["app"] == ["t1"] and "app__old" not in db.schemas and "app__shadow" not in db.schemas


def test_a_failed_check_after_the_swap_swaps_back_before_the_journal_says_done(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(restore, "capture_objects", lambda db, schema: ("OLD OBJECTS", {}))
    monkeypatch.setattr(restore, "drop_objects", lambda db, schema, names: None)
    db, journal = SwapDatabase(), SwapJournal()
    with pytest.raises(restore.RestoreError, match="rows differ; the old data and objects were put back"):
        restore.swap_in(db, journal, "app", "app__shadow", "app__old", "NEW", "sha", "d.sql", lambda: ["rows differ"])
    assert db.schemas["app"] == ["old"] and "done" not in journal.statuses
    assert journal.statuses == ["renamed", "objects", "swapping_back", "aborted"]
    assert db.statements[-2] == "script in app: OLD OBJECTS"


def test_a_passing_check_leaves_the_new_data_in_and_the_old_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(restore, "capture_objects", lambda db, schema: ("", {}))
    monkeypatch.setattr(restore, "drop_objects", lambda db, schema, names: None)
    db = SwapDatabase()
    restore.swap_in(db, SwapJournal(), "app", "app__shadow", "app__old", "", "sha", "d.sql", lambda: [])
    assert db.schemas["app"] == ["new"] and db.schemas["app__old"] == ["old"]


def test_a_swap_refuses_when_the_database_has_other_tables_than_the_plan_saw(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The issue-25 loss: the live tables were gone by the swap, and the swap moved nothing into the kept copy."""
    monkeypatch.setattr(restore, "capture_objects", lambda db, schema: ("", {}))
    db, journal = SwapDatabase({"app": [], "app__shadow": ["new"]}), SwapJournal()
    with pytest.raises(restore.RestoreError, match=r"app changed since the restore began: its tables old .* nothing"):
        restore.swap_in(db, journal, "app", "app__shadow", "app__old", "", "sha", "d.sql", expected_tables=["old"])
    assert not any(s.startswith(("RENAME", "CREATE DATABASE")) for s in db.statements) and journal.statuses == []


class LosingDatabase(SwapDatabase):
    """A server on which the kept copy holds fewer rows than the table it came from (what must never pass)."""

    def row_counts(self, schema: str, tables: list[str]) -> dict[str, int]:
        return {t: (0 if schema == "app__old" else 5) for t in tables}


def test_a_kept_copy_emptier_than_what_it_replaced_swaps_back(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(restore, "capture_objects", lambda db, schema: ("OLD OBJECTS", {}))
    monkeypatch.setattr(restore, "drop_objects", lambda db, schema, names: None)
    db, journal = LosingDatabase(), SwapJournal()
    with pytest.raises(
        restore.RestoreError, match=r"the kept copy app__old does not hold what app held \(old: 0 rows of 5\)"
    ):
        restore.swap_in(db, journal, "app", "app__shadow", "app__old", "", "sha", "d.sql", expected_tables=["old"])
    assert db.schemas["app"] == ["old"] and journal.statuses == ["renamed", "swapping_back", "aborted"]


class InnodbDatabase(SwapDatabase):
    """A server whose InnoDB dictionary answers: table ids by schema/table, kept by a RENAME unless `swapped`."""

    def __init__(self, swapped: bool = False) -> None:
        super().__init__()
        self.swapped, self.counted = swapped, []

    def sql(self, statement: str) -> list[list[str]]:
        if "INNODB_SYS_TABLES" in statement:
            prefix = statement.split("= '")[1].split("'", maxsplit=1)[0]
            ids = {"old": "41", "new": "42"}
            if self.swapped and prefix == "app__old/":
                ids = {"old": "99"}  # another table under the old name
            return [[prefix + t, i] for t, i in ids.items() if t in self.schemas.get(prefix[:-1], [])]
        return super().sql(statement)

    def row_counts(self, schema: str, tables: list[str]) -> dict[str, int]:
        self.counted.append(schema)
        return super().row_counts(schema, tables)


@pytest.mark.parametrize("swapped", [False, True])
def test_the_kept_copy_is_told_by_innodbs_table_ids_not_by_counting_rows(monkeypatch, swapped: bool) -> None:  # type: ignore[no-untyped-def]
    """A RENAME keeps a table's InnoDB id: the kept copy is the very tables the database held, told from the
    dictionary while the APIs are down, without a COUNT(*) of every row (2.5 s of downtime in the bench)."""
    monkeypatch.setattr(restore, "capture_objects", lambda db, schema: ("", {}))
    monkeypatch.setattr(restore, "drop_objects", lambda db, schema, names: None)
    db = InnodbDatabase(swapped)
    if swapped:
        with pytest.raises(restore.RestoreError, match=r"does not hold what app held \(old is not the table it was\)"):
            restore.swap_in(db, SwapJournal(), "app", "app__shadow", "app__old", "", "sha", "d.sql", lambda: [])
        assert db.schemas["app"] == ["old"]  # swapped back
    else:
        restore.swap_in(db, SwapJournal(), "app", "app__shadow", "app__old", "", "sha", "d.sql", lambda: [])
        assert db.schemas["app"] == ["new"] and db.schemas["app__old"] == ["old"]
    assert db.counted == []  # not a row counted


def test_kept_and_shadow_names_fit_a_schema_name_and_kept_names_are_utc() -> None:
    long = "a" * 60
    assert len(restore.kept_name(long)) == 64 and len(restore.shadow_name(long)) == 64
    assert restore.kept_name(long) != restore.kept_name("a" * 59 + "b", 0)
    assert restore.kept_name("app", 0) == "app__old_19700101000000"  # epoch 0 in UTC, whatever TZ says
    assert restore.shadow_name("app") == "app__restore" and restore.not_restorable(restore.kept_name(long))


class PruneJournal:
    def __init__(self, copies: list[str]) -> None:
        self.copies = copies

    def kept_copies(self, target: str) -> list[str]:
        return self.copies


def test_prune_keeps_the_newest_copies_by_the_journal_and_drops_nothing_it_does_not_name() -> None:
    """A name's clock time may sort wrong, and a LIKE on a name holding % or _ finds other databases' copies."""
    db = SwapDatabase({"a%b__old_2": [], "a%b__old_9": [], "axb__old_1": [], "a%b__old_5": []})
    journal = PruneJournal(["a%b__old_2", "a%b__old_9", "a%b__old_5", "a%b__old_gone"])  # newest first
    assert restore.prune(db, journal, "a%b", 1) == ["a%b__old_9", "a%b__old_5"]
    assert sorted(db.schemas) == ["a%b__old_2", "axb__old_1"]


@pytest.mark.parametrize("name", ["mysql", "MySQL", "sys", "performance_schema", "information_schema", "ods_fix"])
def test_system_schemas_are_never_restore_targets(name: str) -> None:
    assert "system schema" in (restore.not_restorable(name) or "")


@pytest.mark.parametrize("name", ["onedata__old_20261202110251", "onedata__restore"])
def test_the_restores_own_copies_are_not_targets(name: str) -> None:
    assert "--rollback" in (restore.not_restorable(name) or "")


def test_application_databases_are_targets() -> None:
    assert restore.not_restorable("one_data_bisheng") is None and restore.not_restorable("mysql_app") is None


def test_definers_are_listed_once_each() -> None:
    scan, _ = dump_reader.validate(str(MARIADB))
    assert scan.definers == ["root@localhost"]


def test_missing_definers_are_the_ones_the_server_lacks() -> None:
    class Users:
        def sql(self, statement: str) -> list[list[str]]:
            return [["root", "localhost"], ["app", "%"]]

    assert restore.missing_definers(Users(), ["root@localhost", "nobody_here@%", "app@%"]) == ["nobody_here@%"]
    assert restore.missing_definers(Users(), []) == []


def test_views_on_views_are_recreated_after_the_views_they_name() -> None:
    creates = {
        "a_top": "CREATE VIEW `a_top` AS select * from `m_middle`",
        "m_middle": "CREATE VIEW `m_middle` AS select * from `z_base` join `t`",
        "z_base": "CREATE VIEW `z_base` AS select * from `t`",
    }
    assert restore.views_in_order(creates) == ["z_base", "m_middle", "a_top"]


MYSQL8_DATABASES = DATA / "mysqldump8-databases.sql"


def test_mysqldump8_databases_without_gtids_loads_into_the_shadow_with_its_8_0_comments(tmp_path: Path) -> None:
    """--databases --set-gtid-purged=OFF --complete-insert --skip-extended-insert, as mysqldump 8.0 writes it."""
    scan, _ = dump_reader.validate(str(MYSQL8_DATABASES))
    assert (scan.kind, scan.database, scan.complete) == ("mysqldump", "shop", True)
    assert scan.rows == {"customer": 2, "orders": 3} and scan.skipped == []
    assert (scan.triggers, scan.routines) == (["orders_count"], ["FUNCTION order_total"])
    assert scan.definers == ["shop_app@%"]  # reported when the target lacks it
    parts = split(MYSQL8_DATABASES, tmp_path)
    customer = sql_of(parts, "customer")
    assert b"/*!80016" not in customer and b"CREATE DATABASE" not in customer and b"USE `" not in customer
    assert b"/*!80023 INVISIBLE */" in customer and b"GENERATED ALWAYS AS" in customer
    assert customer.count(b"INSERT INTO `customer` (`id`, `name`, `orders`, `api_token`) VALUES") == 2
    assert b"FOREIGN_KEY_CHECKS=0" in sql_of(parts, "orders")
    objects = Path(parts.objects).read_bytes()
    assert b"/*!50017 DEFINER=`shop_app`@`%`*/ /*!50003 TRIGGER `orders_count`" in objects
    assert b"FUNCTION `order_total`" in objects and b"/*!80016" not in objects
    assert b"SQL_LOG_BIN" not in objects + customer  # --set-gtid-purged=OFF writes none


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_backup_that_is_not_a_regular_file_is_refused_without_blocking(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "dump.sql"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: a plain open() would block forever
    elif kind == "device":
        path.symlink_to("/dev/zero")  # endless: a read-until-the-end would never finish
    else:
        path.mkdir()
    with pytest.raises(dump_reader.DumpError, match="not a regular file"):
        dump_reader.quick_check(str(path))
    with pytest.raises(dump_reader.DumpError, match="not a regular file"):
        dump_reader.validate(str(path))


def test_a_gzip_bomb_is_refused_before_it_is_inflated_whole(tmp_path: Path) -> None:
    bomb = tmp_path / "dump.sql.gz"
    header = MARIADB.read_bytes()[:2000]
    zeros = bytes(16 << 20)
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        out.write(header)
        for _ in range(20):
            out.write(zeros)  # 320 MB of zeros in under 2 MB of gzip
    assert bomb.stat().st_size < 2 << 20
    with pytest.raises(dump_reader.DumpError, match="inflates to more than 500 times its size"):
        dump_reader.quick_check(str(bomb))


def test_concatenated_gzip_members_are_read_on(tmp_path: Path) -> None:
    packed = tmp_path / "dump.sql.gz"
    data = MARIADB.read_bytes()
    packed.write_bytes(gzip.compress(data[:5000]) + gzip.compress(data[5000:]))
    scan, info = dump_reader.validate(str(packed))
    assert info["sql_bytes"] == len(data) and scan.complete and scan.rows["flow"] == 3
