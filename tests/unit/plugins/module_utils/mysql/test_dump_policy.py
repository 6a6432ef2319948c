"""What a restore runs from a dump: the real tools' output with each option, and one refused statement of each class.

The dumps in data/dumps/ were made by mariadb-dump 10.11 (scripts/make-dump-fixtures); the mysqldump 8.0 ones
are written from its documentation (no MySQL 8 server runs here).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils.mysql import dump_policy, dump_reader, parallel_load

from tests import DATA

DUMPS = DATA / "dumps"
DEFAULT = DUMPS / "mariadb-default.sql"
ALL = ("blob_store", "flow", "message")


def scan_of(path: Path, pick: str | None = None, policy: dump_policy.Policy | None = None) -> dump_reader.Scan:
    scan, reader = dump_reader.Scan(), dump_reader.Reader(str(path))
    for _ in dump_reader.statements(reader.units(), scan, pick, reader, policy):
        pass
    dump_reader.check_complete(str(path), scan, False, pick)
    return scan


# Each option of mariadb-dump that changes what it writes, and what the restore does with its dump.
RESTORED = [
    ("mariadb-default.sql", None),
    ("mariadb-add-drop-database.sql", None),
    ("mariadb-no-create-db.sql", None),
    ("mariadb-add-drop-trigger.sql", None),
    ("mariadb-replace.sql", None),
    ("mariadb-insert-ignore.sql", None),
    ("mariadb-flush-privileges.sql", None),  # one database: no FLUSH is written
    ("mariadb-master-data-2.sql", None),  # CHANGE MASTER as a comment
    ("mariadb-dump-slave.sql", None),  # a server that replicates nothing: comments only
    ("mariadb-skip-add-drop-table.sql", None),
    ("mariadb-skip-tz-utc.sql", None),
    ("mariadb-hex-blob-complete-insert.sql", None),
    ("mariadb-databases-two.sql", "one_data_bisheng"),
    ("mariadb-all-databases.sql.gz", "one_data_bisheng"),
    ("mariadb-all-databases-flush-privileges.sql.gz", "one_data_bisheng"),
]


@pytest.mark.parametrize(("name", "pick"), RESTORED, ids=[n for n, _ in RESTORED])
def test_a_dump_made_with_a_standard_option_is_restored_whole(name: str, pick: str | None) -> None:
    scan = scan_of(DUMPS / name, pick)
    assert sorted(scan.tables) == list(ALL) and sum(scan.rows.values()) == 9
    assert (scan.views, scan.triggers, scan.events) == (["flow_summary"], ["message_touch"], ["tidy_messages"])
    assert sorted(scan.routines) == ["FUNCTION flow_name", "PROCEDURE flow_count"]


REFUSED = [
    (
        "mariadb-master-data-1.sql",
        None,
        "line 25: CHANGE MASTER TO MASTER_LOG_FILE='...', MASTER_LOG_POS=4831: it changes the server's replication",
    ),
    ("mariadb-compact.sql", None, "is incomplete"),  # no trailer: --allow-incomplete
    ("mariadb-skip-comments.sql", None, "is incomplete"),
    ("mariadb-databases-two.sql", None, "holds several databases (one_data_bisheng, other_db)"),
    ("mariadb-all-databases.sql.gz", None, "line 23: it is a dump of the whole server"),
]


@pytest.mark.parametrize(("name", "pick", "reason"), REFUSED, ids=[n for n, _, _ in REFUSED])
def test_a_dump_that_reaches_beyond_one_database_is_refused_with_its_line(
    name: str, pick: str | None, reason: str
) -> None:
    with pytest.raises(dump_reader.DumpError) as refused:
        scan_of(DUMPS / name, pick)
    assert reason in str(refused.value)


def test_compact_and_skip_comments_dumps_restore_when_allowed_incomplete() -> None:
    for name in ("mariadb-compact.sql", "mariadb-skip-comments.sql"):
        scan, reader = dump_reader.Scan(), dump_reader.Reader(str(DUMPS / name))
        list(dump_reader.statements(reader.units(), scan, None, reader))
        dump_reader.check_complete(name, scan, allow_incomplete=True)
        assert sorted(scan.tables) == list(ALL) and sum(scan.rows.values()) == 9


def test_add_drop_database_never_reaches_the_server(tmp_path: Path) -> None:
    """The statement that emptied the live database (issue 25): never in a table's part, nor in the objects."""
    split = parallel_load.Splitter(str(DUMPS / "mariadb-add-drop-database.sql"), str(tmp_path / "s")).run()
    scripts = [Path(p.sql_path).read_bytes() for p in split.parts.values()] + [Path(split.objects).read_bytes()]
    for script in scripts:
        assert b"DROP DATABASE" not in script and b"CREATE DATABASE" not in script and b"USE `" not in script
    assert split.scan.databases == ["one_data_bisheng"]


def inject(tmp_path: Path, statement: str, after: str = "UNLOCK TABLES;\n", source: Path = DEFAULT) -> tuple[Path, int]:
    """The default dump with a statement after the first `after` line: (path, the statement's line)."""
    text, mark = source.read_bytes(), after.encode()
    at = text.index(mark) + len(mark)
    path = tmp_path / "tampered.sql"
    path.write_bytes(text[:at] + statement.encode() + b"\n" + text[at:])
    return path, text[:at].count(b"\n") + 1


SECRET = "hunter2-do-not-show"
CLASSES = {
    "grant": (f"GRANT ALL ON *.* TO 'x'@'%' IDENTIFIED BY '{SECRET}';", "accounts and privileges"),
    "revoke": ("REVOKE ALL ON *.* FROM 'app'@'%';", "accounts and privileges"),
    "create user": (f"CREATE USER 'evil'@'%' IDENTIFIED BY '{SECRET}';", "accounts"),
    "alter user": (f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{SECRET}';", "accounts"),
    "drop user": ("DROP USER 'app'@'%';", "accounts"),
    "set password": (f"SET PASSWORD FOR 'root'@'localhost' = PASSWORD('{SECRET}');", "accounts"),
    "flush privileges": ("/*! FLUSH PRIVILEGES */;", "FLUSH"),
    "set global": ("SET GLOBAL local_infile = 1;", "whole server"),
    "set @@global": ("SET @@GLOBAL.event_scheduler = ON;", "whole server"),
    "install plugin": ("INSTALL PLUGIN connect SONAME 'ha_connect';", "installs code"),
    "install soname": ("INSTALL SONAME 'ha_connect';", "installs code"),
    "shutdown": ("SHUTDOWN;", "stops the server"),
    "change master": ("CHANGE MASTER TO MASTER_HOST='evil.example';", "replication"),
    "change replication source": ("CHANGE REPLICATION SOURCE TO SOURCE_HOST='evil.example';", "replication"),
    "start slave": ("START SLAVE;", "replication"),
    "into outfile": ("SELECT * FROM flow INTO OUTFILE '/var/lib/mysql/x.txt';", "writes a file"),
    "into dumpfile": ("SELECT 'x' INTO DUMPFILE '/etc/cron.d/x';", "writes a file"),
    "load data infile": ("LOAD DATA INFILE '/etc/passwd' INTO TABLE flow;", "reads a file"),
    "load data local": ("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE flow;", "reads a file"),
    "client shell": ("\\! touch /tmp/pwned;", "command of the mysql client"),
    "client system": ("system touch /tmp/pwned;", "command of the mysql client"),
    "client source": ("source /tmp/other.sql;", "command of the mysql client"),
    "client dot": ("\\. /tmp/other.sql;", "command of the mysql client"),
    "insert into mysql": ("INSERT INTO `mysql`.`global_priv` VALUES ('%','evil','{}');", "another schema"),
    "update mysql": ("UPDATE mysql.global_priv SET Priv = '{}';", "another schema (mysql)"),
    "delete sys": ("DELETE FROM sys.sys_config;", "another schema (sys)"),
    "create table elsewhere": ("CREATE TABLE `other_db`.`t` (id INT);", "another schema (other_db)"),
    "drop table elsewhere": ("DROP TABLE IF EXISTS other_db.keepme;", "another schema (other_db)"),
    "drop database": ("DROP DATABASE other_db;", "DROP DATABASE `other_db` is not followed by its CREATE DATABASE"),
    "drop own database": ("/*!40000 DROP DATABASE IF EXISTS `one_data_bisheng`*/;", "is not followed by its CREATE"),
    "use another": ("USE `other_db`;", "names another database than the dump's own"),
    "insert select": ("INSERT INTO `flow` SELECT * FROM other_db.keepme;", "not an INSERT of values"),
    "create table as select": ("CREATE TABLE `copy` (id INT) SELECT 1 AS id;", "SELECT"),
    "connect engine": (
        "CREATE TABLE `passwd` (line TEXT) ENGINE=CONNECT TABLE_TYPE=DOS FILE_NAME='/etc/passwd';",
        "ENGINE=CONNECT",
    ),
    "data directory": ("CREATE TABLE `t2` (id INT) ENGINE=InnoDB DATA DIRECTORY='/tmp';", "DATA DIRECTORY"),
    "trigger writes mysql": (
        "CREATE TRIGGER t1 AFTER INSERT ON flow FOR EACH ROW INSERT INTO mysql.global_priv VALUES ('%','e','{}');",
        "another schema (mysql)",
    ),
    "event drops a database": (
        "CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP DO DROP DATABASE other_db;",
        "changes other databases",
    ),
    "procedure with dynamic sql": (
        "CREATE PROCEDURE p() BEGIN SET @s = CONCAT('GR', 'ANT ALL ON *.* TO x'); PREPARE st FROM @s; EXECUTE st; END;",
        "dynamic SQL",
    ),
    "view reads mysql": ("CREATE VIEW v AS SELECT User, Password FROM mysql.user;", "another schema (mysql)"),
    "call": ("CALL flow_count(@n);", "not a statement the dump tools write"),
    "sequence": ("CREATE SEQUENCE s1 START WITH 1;", "not a statement the dump tools write"),
    "session setting": ("SET SESSION sql_safe_updates = 0, debug_dbug = 'd,crash';", "not a session setting"),
    "set to an expression": ("SET @x = (SELECT COUNT(*) FROM flow);", "not a plain value"),
}


@pytest.mark.parametrize("case", list(CLASSES))
def test_a_statement_outside_the_database_is_refused_naming_its_line_and_hiding_its_strings(
    tmp_path: Path, case: str
) -> None:
    statement, reason = CLASSES[case]
    path, line = inject(tmp_path, statement)
    policy = dump_policy.Policy(own=["one_data_bisheng"], server_schemas=["other_db", "one_data_bisheng"])
    with pytest.raises(dump_reader.DumpError) as refused:
        scan_of(path, policy=policy)
    message = str(refused.value)
    assert message.startswith(f"line {line}: ") and reason in message
    assert SECRET not in message and "\n" not in message


@pytest.mark.parametrize("case", ["grant", "into outfile", "insert into mysql", "drop database", "client shell"])
def test_a_refused_statement_stops_the_split_before_any_later_table_is_handed_to_the_load(
    tmp_path: Path, case: str
) -> None:
    path, _ = inject(tmp_path, CLASSES[case][0])  # after the first table's data, before the second table
    handed: list[str] = []
    splitter = parallel_load.Splitter(str(path), str(tmp_path / "s"), on_part=lambda part: handed.append(part.name))
    with pytest.raises(dump_reader.DumpError):
        splitter.run()
    assert handed == []  # not even the first table: its part ends only when the next statement is allowed


@pytest.mark.parametrize(
    "insert",
    [
        "INSERT INTO `flow` VALUES (7,CONCAT(USER(),'x'),NULL);",
        "INSERT INTO `flow` VALUES (9,(SELECT authentication_string FROM mysql.user LIMIT 1),NULL);",
        "INSERT INTO `flow` VALUES (10,'a',NULL) ON DUPLICATE KEY UPDATE name = (SELECT 1);",
    ],
)
def test_values_that_are_expressions_are_refused_where_the_insert_runs_as_written(tmp_path: Path, insert: str) -> None:
    """Without LOAD DATA, a table's INSERTs run as written: a function or subquery among the values is refused.
    (LOAD DATA reads them as text; a count or a warning that differs sends the table here, to its INSERTs.)"""
    path, _ = inject(tmp_path, insert)
    with pytest.raises(dump_reader.DumpError, match="holds an expression where a value should be"):
        parallel_load.Splitter(str(path), str(tmp_path / "s"), load_data=False).run()


@pytest.mark.parametrize(
    "values",
    [
        b"(1,'a'),(2,NULL)",
        b"(1,0x00FF,_binary 'x',b'101',X'0A',-1.5e-3,'it''s','back\\\\slash \\' quote')",
        b"\n(1,'\xe5\xae\xa2'),\n(2,'(paren),(comma)')",
    ],
)
def test_literal_values_pass(values: bytes) -> None:
    dump_policy.values_only(b"INSERT INTO `t` VALUES " + values + b";\n")


def test_the_dumps_own_settings_and_objects_pass_and_alter_database_runs_on_the_restored_one() -> None:
    policy = dump_policy.Policy(own=["one_data_bisheng"])
    assert policy.check(b"ALTER DATABASE `one_data_bisheng` CHARACTER SET latin1 COLLATE latin1_swedish_ci") == (
        "rewrite",
        b"ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci",
    )
    with pytest.raises(dump_policy.Unsafe, match="changes another database"):
        policy.check(b"ALTER DATABASE `other_db` CHARACTER SET latin1")
    for allowed in (
        b"SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO'",
        b"SET @@SESSION.SQL_LOG_BIN= 0",
        b"SET NAMES utf8mb4",
        b"SET character_set_client = @saved_cs_client",
        b"DROP TRIGGER IF EXISTS message_touch",
        b"CREATE DEFINER=`root`@`localhost` TRIGGER message_touch BEFORE INSERT ON message FOR EACH ROW "
        b"SET NEW.content = TRIM(NEW.content)",
    ):
        assert policy.check(allowed) is None


def test_a_statement_in_a_versioned_comment_is_read_as_the_server_runs_it() -> None:
    assert dump_policy.normalize([b"/*!40000 DROP DATABASE IF EXISTS `x`*/;\n"]) == b"DROP DATABASE IF EXISTS `x`"
    assert dump_policy.normalize([b"/* GRANT */ SELECT 1; -- GRANT\n"]) == b"SELECT 1"
    assert dump_policy.normalize([b"/*M!100203 EXECUTE IMMEDIATE 'x' */;\n"]) == b"EXECUTE IMMEDIATE 'x'"


def test_the_gzipped_all_databases_fixtures_are_real_dumps() -> None:
    with gzip.open(DUMPS / "mariadb-all-databases.sql.gz") as handle:
        assert handle.readline().startswith(b"/*M!999999")


def uncommented(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("--")) + "\n"


# mysqldump 8.0, for the same options: no MySQL 8 server runs here, so each variant is the documented output of the
# option (the MySQL 8.0 Reference Manual's mysqldump page) applied to a handwritten `--databases shop` dump.
MYSQL8 = (DATA / "mysqldump8-databases.sql").read_text()
CREATE_SHOP = "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`"
SOURCE = "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000003', SOURCE_LOG_POS=157;\n"


def before_shop(text: str, statements: str) -> str:
    """The dump with statements where mysqldump writes its replication ones: before the database's section."""
    return text.replace("\n--\n-- Current Database: `shop`", "\n" + statements + "--\n-- Current Database: `shop`")


DROP_TRIGGER = "/*!50032 DROP TRIGGER IF EXISTS `orders_count` */;\n"
MYSQL_SCHEMA = (
    "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `mysql`;\nUSE `mysql`;\nCREATE TABLE `db` (`Host` char(255));\n"
    "INSERT INTO `db` VALUES ('%');\n/*!40000 FLUSH PRIVILEGES */;\n"
)
MYSQL8_OPTIONS = {
    "--add-drop-database": (
        lambda t: t.replace(CREATE_SHOP, "/*!40000 DROP DATABASE IF EXISTS `shop`*/;\n\n" + CREATE_SHOP),
        None,
    ),
    "--no-create-db": (lambda t: t.replace(CREATE_SHOP, "-- " + CREATE_SHOP), None),
    "--add-drop-trigger": (
        lambda t: t.replace("DELIMITER ;;\n/*!50003 CREATE*/", DROP_TRIGGER + "DELIMITER ;;\n/*!50003 CREATE*/"),
        None,
    ),
    "--replace": (lambda t: t.replace("INSERT INTO", "REPLACE INTO"), None),
    "--insert-ignore": (lambda t: t.replace("INSERT INTO", "INSERT IGNORE INTO"), None),
    "--skip-add-drop-table": (lambda t: re.sub(r"DROP TABLE IF EXISTS `\w+`;\n", "", t), None),
    "--skip-tz-utc": (lambda t: t.replace("/*!40103 SET TIME_ZONE='+00:00' */;\n", ""), None),
    "--source-data=2": (lambda t: before_shop(t, "-- " + SOURCE), None),
    "--source-data=1": (
        lambda t: before_shop(t, SOURCE),
        "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='...', SOURCE_LOG_POS=157: it changes the server's replication",
    ),
    "--master-data=1 (before 8.0.26)": (
        lambda t: before_shop(t, "CHANGE MASTER TO MASTER_LOG_FILE='binlog.000003', MASTER_LOG_POS=157;\n"),
        "it changes the server's replication",
    ),
    "--dump-replica --apply-replica-statements": (
        lambda t: before_shop(t, "STOP REPLICA;\n" + SOURCE + "START REPLICA;\n"),
        "STOP REPLICA: it changes the server's replication",
    ),
    "--all-databases --flush-privileges": (lambda t: before_shop(t, MYSQL_SCHEMA), "it is a dump of the whole server"),
    "--compact": (uncommented, "is incomplete"),
    "--skip-comments": (uncommented, "is incomplete"),
}


@pytest.mark.parametrize("option", list(MYSQL8_OPTIONS))
def test_mysqldump8_with_each_option_restores_or_is_refused_as_its_mariadb_twin(tmp_path: Path, option: str) -> None:
    make, refused = MYSQL8_OPTIONS[option]
    path = tmp_path / "mysqldump8.sql"
    path.write_text(make(MYSQL8))
    assert path.read_text() != MYSQL8  # the option changed what was written
    if refused is None:
        scan = scan_of(path)
        assert scan.kind == "mysqldump" and scan.rows == {"customer": 2, "orders": 3}
        assert scan.triggers == ["orders_count"] and scan.routines == ["FUNCTION order_total"]
    else:
        with pytest.raises(dump_reader.DumpError, match=re.escape(refused)):
            scan_of(path)
    if option == "--all-databases --flush-privileges":  # restored once a database is named
        assert scan_of(path, "shop").rows == {"customer": 2, "orders": 3}
