"""The restore journal (module_utils/mysql/restore_journal.py) against a fake server: the SQL it sends and what it makes
of the rows it gets back. Molecule's mysql_restore_kill scenario checks the same journal on a real MariaDB."""

from __future__ import annotations

import json

from ansible_collections.ods.fix.plugins.module_utils.mysql import restore_journal
from ansible_collections.ods.fix.plugins.module_utils.mysql.restore_journal import Journal


class FakeServer:
    """Answers the journal's statements the way MariaDB would, from a table held as a list of rows."""

    def __init__(self, table: bool = True, columns: tuple[str, ...] = tuple(restore_journal.STATE_COLUMNS)):
        self.table, self.columns = table, set(columns)
        self.sent: list[str] = []
        self.row: list[str] | None = None

    def sql(self, statement: str) -> list[list[str]]:
        self.sent.append(statement)
        if "information_schema.TABLES" in statement:
            return [["1"]] if self.table else []
        if "COLUMN_NAME = 'source_schema'" in statement:
            return [["1"]] if "source_schema" in self.columns else []
        if statement.startswith("SELECT COLUMN_NAME"):
            return [[c] for c in sorted(self.columns)]
        if statement.startswith("INSERT INTO ods_fix.restores"):
            return [["7"]] if statement.endswith("SELECT LAST_INSERT_ID();") else []
        if statement.startswith("SELECT target"):
            return [["ods"]]
        if statement.startswith("SELECT id,"):
            return [self.row] if self.row else []
        return []


def hexed(text: str) -> str:
    return text.encode("utf-8").hex().upper()


def test_a_journal_from_before_the_new_columns_gets_them_in_one_alter_without_if_not_exists() -> None:
    old = FakeServer(columns=())
    Journal(old).ensure()
    assert old.sent[0] == restore_journal.STATE_DDL
    alter = old.sent[-1]
    assert alter.startswith("ALTER TABLE ods_fix.restores ") and "IF NOT EXISTS" not in alter  # MySQL 8 has none
    assert alter.count("ADD COLUMN") == len(restore_journal.STATE_COLUMNS)

    current = FakeServer()
    Journal(current).ensure()
    assert not any(s.startswith("ALTER") for s in current.sent)


def test_the_latest_entry_decodes_its_scripts_and_table_lists() -> None:
    server = FakeServer()
    script = "CREATE VIEW v AS\nSELECT 1;\n"
    server.row = [
        "12", "ab" * 32, "ods__kept_1", "renamed", "2026-12-04 10:00:00", "ods__shadow",
        hexed("d.sql"), hexed('{"t1": "c1"}'), hexed('{"t1": 5}'), hexed(script), "",
        hexed('["t1"]'), hexed('["t1", "t2"]'),
    ]  # fmt: skip
    entry = Journal(server).latest("ods", statuses=restore_journal.UNFINISHED)
    assert entry is not None
    assert entry["id"] == 12 and entry["status"] == "renamed" and entry["source_schema"] == "ods__shadow"
    assert entry["old_objects"] == script and entry["new_objects"] == ""
    assert entry["old_tables"] == ["t1"] and entry["new_tables"] == ["t1", "t2"]
    assert json.loads(entry["row_counts"]) == {"t1": 5}
    query = server.sent[-1]
    assert "WHERE target = 'ods' AND status IN ('swapping', 'renamed', 'objects', 'swapping_back')" in query


def test_an_old_journal_is_read_without_touching_it_its_new_columns_as_empty() -> None:
    """check mode plans too: reading must not ALTER, and the columns it lacks are read as NULL."""
    server = FakeServer(columns=())
    Journal(server).latest("ods")
    assert not any(s.startswith(("ALTER", "CREATE")) for s in server.sent)
    assert "IFNULL(NULL, '')" in server.sent[-1] and "source_schema" not in server.sent[-1].split("FROM")[1]


def test_no_journal_yet_means_no_entry_and_no_last_target() -> None:
    server = FakeServer(table=False)
    assert Journal(server).latest("ods") is None
    assert Journal(server).last_target() is None
    assert Journal(FakeServer()).last_target() == "ods"


def test_an_entry_is_started_with_every_value_quoted_then_moved_through_its_phases() -> None:
    server = FakeServer()
    journal = Journal(server)
    entry = journal.start("ods", "ab" * 32, "it's.sql", "ods__kept_1", "", "", old_tables=["t1"], counts={"t1": 5})
    assert entry == 7
    insert = next(s for s in server.sent if s.startswith("INSERT"))
    assert "'it''s.sql'" in insert and "'[\"t1\"]'" in insert and "'{\"t1\": 5}'" in insert
    journal.phase(entry, "renamed")
    journal.finish(entry, "done", checksums={"t1": "c"}, counts={"t1": 5})
    assert server.sent[-2] == "UPDATE ods_fix.restores SET status = 'renamed' WHERE id = 7;"
    assert server.sent[-1].startswith("UPDATE ods_fix.restores SET status = 'done', finished_at = NOW(), checksums = ")
    assert server.sent[-1].endswith("WHERE id = 7;")


def test_an_entry_takes_its_own_id_from_last_insert_id_in_the_same_session_never_max_id() -> None:
    """Two projects on one server add rows at once: MAX(id) may be the other's, and its row would be updated."""
    server = FakeServer()
    Journal(server, project="local").start("ods", "ab" * 32, "d.sql", "ods__kept_1", "", "")
    insert = next(s for s in server.sent if s.startswith("INSERT"))
    assert insert.endswith("SELECT LAST_INSERT_ID();") and "'local'" in insert
    assert not any("MAX(id)" in s for s in server.sent)


def test_the_last_target_is_this_projects_last_restore_whatever_became_of_it() -> None:
    server = FakeServer()
    assert Journal(server, project="local").last_target() == "ods"
    query = server.sent[-1]
    assert "WHERE project = 'local'" in query and "status" not in query and query.endswith("ORDER BY id DESC LIMIT 1;")


def test_kept_copies_come_from_the_journal_newest_first() -> None:
    server = FakeServer()
    server.sql = lambda statement: (  # type: ignore[method-assign]
        [["1"]] if "information_schema.TABLES" in statement else [["a__old_3"], ["a__old_2"], ["a__old_3"], [""]]
    )
    assert Journal(server).kept_copies("a") == ["a__old_3", "a__old_2"]
