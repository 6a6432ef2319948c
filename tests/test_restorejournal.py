"""The restore journal (module_utils/restorejournal.py) against a fake server: the SQL it sends and what it makes
of the rows it gets back. Molecule's mysql_restore_kill scenario checks the same journal on a real MariaDB."""

from __future__ import annotations

import json

from ansible_collections.ods.fix.plugins.module_utils import restorejournal
from ansible_collections.ods.fix.plugins.module_utils.restorejournal import Journal


class FakeServer:
    """Answers the journal's statements the way MariaDB would, from a table held as a list of rows."""

    def __init__(self, table: bool = True, columns: tuple[str, ...] = tuple(restorejournal.STATE_COLUMNS)):
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
        if statement.startswith("SELECT MAX(id)"):
            return [["7"]]
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
    assert old.sent[0] == restorejournal.STATE_DDL
    alter = old.sent[-1]
    assert alter.startswith("ALTER TABLE ods_fix.restores ") and "IF NOT EXISTS" not in alter  # MySQL 8 has none
    assert alter.count("ADD COLUMN") == len(restorejournal.STATE_COLUMNS)

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
    entry = Journal(server).latest("ods", statuses=restorejournal.UNFINISHED)
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
