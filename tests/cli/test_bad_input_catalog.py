"""Bad input, against a real sandbox: every case refused in one line, with its documented exit code, changing nothing.

Each case runs the CLI as a user does (a subprocess) against a running stack, and checks:
- the exit code: 2 for a usage error, 1 for bad input or configuration;
- exactly one line on stderr, what it says, and no traceback;
- nothing changed on the target: every container's id and start time, the settings file's sha256, every table's
  CHECKSUM TABLE, and the files ods-fix keeps outside the project.

Needs Docker and the sandbox images (scripts/test builds them first); it runs in a lane of its own beside the
Molecule scenarios (marker `sandbox`), not in the quick pytest stage.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import DATA

pytestmark = pytest.mark.sandbox

ODS_FIX = str(Path(sys.executable).parent / "ods-fix")
PROJECT = "ods-bad-input"
OFFSET = int(os.environ.get("ODS_MOLECULE_PORT_OFFSET", "21000"))


@dataclass
class Stack:
    directory: Path
    inventory: Path
    work: Path
    env: dict[str, str]
    mysql: str
    settings: Path
    state: Path
    databases: list[str] = field(default_factory=list)
    # The catalog's cases run one after another on this stack: a case's "after", when it equals its "before", is
    # the next case's "before" (nothing else runs between them). Any other test that changes the stack clears it.
    unchanged: dict[str, object] | None = None


def run(argv: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("docker") is None or run(["docker", "info"], dict(os.environ)).returncode != 0:
        pytest.skip("needs a Docker engine (scripts/test starts one)")
    root = tmp_path_factory.mktemp("bad-input")
    sandbox = root / "sandbox"
    env = dict(os.environ, ODS_FIX_SANDBOX_DIR=str(sandbox), ODS_FIX_HOME=str(root / "home"), NO_COLOR="1")
    # What an interrupted earlier run left of this project (its database volume holds other passwords): gone
    # first, as Molecule's destroy-first sequence does for the scenarios.
    run([ODS_FIX, "sandbox", "down", "--project", PROJECT], env)
    up = run(
        [
            ODS_FIX,
            "sandbox",
            "up",
            "--services",
            "database,cache,data_api,web",
            "--project",
            PROJECT,
            "--port-offset",
            str(OFFSET),
        ],
        env,
    )
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        status = json.loads(run([ODS_FIX, "sandbox", "status", "--json"], env).stdout)
        inventory = root / "inventory.yml"
        inventory.write_text(
            "ods_dev:\n  hosts:\n    sandbox:\n      ansible_connection: local\n"
            "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
            f"      ods_project_dir: {sandbox}\n"
        )
        work = root / "work"
        work.mkdir(mode=0o700)
        sha = hashlib.sha1(str(sandbox).encode()).hexdigest()[:10]
        yield Stack(
            sandbox,
            inventory,
            work,
            env,
            status["services"][status["roles"]["database"]]["name"],
            Path(status["settings_file"]),
            Path(f"/var/lib/ods-fix/{sandbox.name}-{sha}"),
            list(status["databases"]),
        )
    finally:
        run([ODS_FIX, "sandbox", "down", "--project", PROJECT], env)
        shutil.rmtree(f"/var/lib/ods-fix/{sandbox.name}-{hashlib.sha1(str(sandbox).encode()).hexdigest()[:10]}", True)


def snapshot(stack: Stack) -> dict[str, object]:
    """What must not change: the containers (id, start time), the settings file, every table, the kept files."""
    listing = run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"], stack.env)
    ids = sorted(listing.stdout.split())
    started = run(["docker", "inspect", "--format", "{{.Id}} {{.State.StartedAt}} {{.State.Status}}", *ids], stack.env)
    tables = run(
        ["docker", "exec", "-i", stack.mysql, "mysql", "-N", "-B"],
        stack.env,
        input=(
            "SET SESSION group_concat_max_len = 100000; SELECT CONCAT('CHECKSUM TABLE ', GROUP_CONCAT(CONCAT('`',"
            " TABLE_SCHEMA, '`.`', TABLE_NAME, '`')), ';') FROM information_schema.TABLES WHERE TABLE_TYPE ="
            " 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema',"
            " 'ods_fix') INTO @sql; PREPARE stmt FROM @sql; EXECUTE stmt;"
            # ods_fix is ods-fix's own journal: it records a refused restore too
            " SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME <> 'ods_fix' ORDER BY 1;"
            " SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1;"
        ),
    )
    kept = sorted(str(p.relative_to(stack.state)) for p in stack.state.rglob("*")) if stack.state.exists() else []
    return {
        "containers": started.stdout.split("\n"),
        "settings": hashlib.sha256(stack.settings.read_bytes()).hexdigest(),
        "tables": tables.stdout,
        "kept": kept,
    }


@dataclass
class Case:
    name: str
    argv: list[str]
    code: int
    says: str
    env: dict[str, str] = field(default_factory=dict)
    inventory: bool = True  # add -i <the sandbox's inventory>
    cwd: Path | None = None  # where it runs (default: this test's folder)


def files(work: Path) -> dict[str, Path]:
    """Bad files, made once: what a user may hand ods-fix by mistake."""
    made = {}
    png = work / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    made["png"] = png
    empty = work / "empty.sql"
    empty.write_bytes(b"")
    made["empty"] = empty
    cut = work / "cut.sql"
    cut.write_bytes(
        b"-- MariaDB dump 10.19\n--\n-- Host: localhost    Database: one_data_bisheng\nCREATE TABLE `t` (\n"
    )
    made["cut"] = cut
    truncated = work / "truncated.sql.gz"
    truncated.write_bytes(gzip.compress(b"-- MariaDB dump\nCREATE TABLE `t` (`a` int);\n" * 200)[:60])
    made["truncated"] = truncated
    bomb = work / "bomb.sql.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        out.write(b"-- MariaDB dump 10.19\n-- Host: localhost    Database: one_data_bisheng\n")
        zeros = bytes(16 << 20)
        for _ in range(20):
            out.write(zeros)
    made["bomb"] = bomb
    other = work / "other-db.sql"
    other.write_text(
        "-- MariaDB dump 10.19\n-- Host: localhost    Database: shop\nCREATE DATABASE `shop`;\nUSE `shop`;\n"
        "CREATE TABLE `t` (`a` int);\n-- Dump completed on 2026-12-04\n"
    )
    made["other"] = other
    system = work / "mysql.sql"
    system.write_text(
        "-- MariaDB dump 10.19\n-- Host: localhost    Database: mysql\nCREATE DATABASE `mysql`;\nUSE `mysql`;\n"
        "CREATE TABLE `t` (`a` int);\n-- Dump completed on 2026-12-04\n"
    )
    made["system"] = system
    fifo = work / "fifo.sql"
    os.mkfifo(fifo)
    made["fifo"] = fifo
    made["directory"] = work
    made["device"] = Path("/dev/zero")
    made["missing"] = work / "no-such-file.sql"
    value = work / "value.txt"
    value.write_text("")
    made["empty_value"] = value
    existing = work / "existing.tar.gz"
    existing.write_bytes(b"already here")
    made["existing_bundle"] = existing
    bad_inventory = work / "bad-inventory.yml"
    bad_inventory.write_text("all:\n  hosts: [oops\n")
    made["bad_inventory"] = bad_inventory
    no_project = work / "no-project.yml"
    no_project.write_text("ods_dev:\n  hosts:\n    sandbox:\n      ansible_connection: local\n")
    made["no_project"] = no_project
    limit_file = work / "limit.txt"
    made["limit_missing"] = limit_file
    not_bundle = work / "not-a-bundle.tar.gz"
    not_bundle.write_bytes(os.urandom(300))
    made["not_bundle"] = not_bundle
    made.update(refused_dumps(work))
    return made


def refused_dumps(work: Path) -> dict[str, Path]:
    """A real mariadb-dump of one_data_bisheng, each with one statement that reaches outside that database, at
    line 45 (after its first table's rows); and one made with --master-data=1."""
    text = (DUMPS / "mariadb-default.sql").read_bytes()
    after = text.index(b"UNLOCK TABLES;\n") + len(b"UNLOCK TABLES;\n")
    made = {}
    for name, statement in TAMPERED.items():
        tampered = work / f"tampered-{name}.sql"
        tampered.write_bytes(text[:after] + statement.encode() + b"\n" + text[after:])
        made[f"tampered {name}"] = tampered
    made["master data"] = DUMPS / "mariadb-master-data-1.sql"
    return made


DUMPS = DATA / "dumps"
# One statement of each class the restore refuses (unit/.../mysql/test_dump_policy.py has them all, without a server).
TAMPERED = {
    "grant": "GRANT ALL ON *.* TO 'evil'@'%' IDENTIFIED BY 'canary-pw-not-shown';",
    "create user": "CREATE USER 'evil'@'%' IDENTIFIED BY 'canary-pw-not-shown';",
    "set global": "SET GLOBAL local_infile = 1;",
    "flush privileges": "/*! FLUSH PRIVILEGES */;",
    "into outfile": "SELECT * FROM flow INTO OUTFILE '/var/lib/mysql/pwned.txt';",
    "load data infile": "LOAD DATA INFILE '/etc/passwd' INTO TABLE flow;",
    "drop another database": "DROP DATABASE one_data_alldata;",
    "use another database": "USE `one_data_alldata`;",
    "write mysql schema": "INSERT INTO `mysql`.`global_priv` VALUES ('%','evil','{}');",
    "client shell": "\\! touch /tmp/pwned;",
    "trigger writes mysql": "CREATE TRIGGER t1 AFTER INSERT ON flow FOR EACH ROW DELETE FROM mysql.global_priv;",
    "event drops a database": "CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP DO DROP DATABASE one_data_alldata;",
}


def cases(f: dict[str, Path]) -> list[Case]:
    nl = "http://x.example\nMYSQL_HOST=evil"
    return [
        # --- usage errors, exit 2: refused by the CLI before anything runs --------------------------------
        Case("unknown command", ["no-such-fix"], 2, "No such command", inventory=False),
        Case("unknown option", ["diagnose", "--no-such-option"], 2, "No such option"),
        Case("not a number", ["diagnose", "--log-lines", "many"], 2, "'--log-lines'"),
        Case("keep 0", ["mysql-restore", "--backup", str(f["png"]), "--keep", "0", "--yes"], 2, "'--keep'"),
        Case("keep negative", ["mysql-restore", "--backup", str(f["png"]), "--keep", "-1", "--yes"], 2, "'--keep'"),
        Case("workers 0", ["mysql-restore", "--backup", str(f["png"]), "--workers", "0", "--yes"], 2, "'--workers'"),
        Case(
            "milvus workers 0",
            ["milvus-restore", "--backup", str(f["png"]), "--workers", "0", "--yes"],
            2,
            "'--workers'",
        ),
        Case("window 0", ["data-leak", "--window-hours", "0", "--yes"], 2, "'--window-hours'"),
        Case("restore without --yes", ["mysql-restore", "--backup", str(f["png"])], 2, "--yes"),
        Case("rotate without --yes", ["rotate-keys"], 2, "--yes"),
        Case("incident without --yes", ["incident"], 2, "--yes"),
        Case("data-leak without --yes", ["data-leak"], 2, "--yes"),
        Case("milvus-restore without --yes", ["milvus-restore", "--backup", str(f["png"])], 2, "--yes"),
        Case("isolate unknown", ["incident", "--isolate", "explode", "--yes"], 2, "'--isolate'"),
        Case("focus unknown", ["perf", "--focus", "gpu"], 2, "'--focus'"),
        Case("forks 0", ["diagnose", "--forks", "0"], 2, "'--forks'"),
        Case("serial bad", ["diagnose", "--serial", "ten"], 2, "--serial"),
        Case("max-fail bad", ["diagnose", "--max-fail", "150%"], 2, "--max-fail"),
        Case("keep runs not a number", ["list"], 2, "ODS_FIX_KEEP_RUNS", {"ODS_FIX_KEEP_RUNS": "abc"}, False),
        Case(
            "value from file and env",
            ["rotate-keys", "--key", "A", "--value-from-file", "x", "--value-from-env", "Y", "--yes"],
            2,
            "one of",
        ),
        Case("sandbox unknown layout", ["sandbox", "up", "--layout", "cloud"], 2, "'--layout'", inventory=False),
        # --- bad input or configuration, exit 1: refused before anything changes --------------------------
        Case("missing inventory", ["diagnose", "-i", str(f["missing"])], 1, "does not exist", inventory=False),
        Case(
            "malformed inventory", ["diagnose", "-i", str(f["bad_inventory"])], 1, "cannot be parsed", inventory=False
        ),
        Case("project dir unset", ["diagnose", "-i", str(f["no_project"])], 1, "ods_project_dir", inventory=False),
        Case("unknown limit host", ["diagnose", "--limit", "no-such-host"], 1, "no-such-host"),
        Case("limit regex", ["diagnose", "--limit", "~["], 1, "invalid pattern"),
        Case("limit missing file", ["diagnose", "--limit", f"@{f['limit_missing']}"], 1, "limit"),
        Case("backup missing", ["mysql-restore", "--backup", str(f["missing"]), "--yes"], 1, "No such file"),
        Case("backup png", ["mysql-restore", "--backup", str(f["png"]), "--yes"], 1, "does not look like a SQL dump"),
        Case("backup empty", ["mysql-restore", "--backup", str(f["empty"]), "--yes"], 1, "is empty"),
        Case("backup cut", ["mysql-restore", "--backup", str(f["cut"]), "--yes"], 1, "is incomplete"),
        Case("backup truncated gz", ["mysql-restore", "--backup", str(f["truncated"]), "--yes"], 1, "truncated"),
        Case("backup gzip bomb", ["mysql-restore", "--backup", str(f["bomb"]), "--yes"], 1, "inflates to more than"),
        Case("backup fifo", ["mysql-restore", "--backup", str(f["fifo"]), "--yes"], 1, "not a regular file"),
        Case("backup directory", ["mysql-restore", "--backup", str(f["directory"]), "--yes"], 1, "not a regular file"),
        Case("backup device", ["mysql-restore", "--backup", str(f["device"]), "--yes"], 1, "not a regular file"),
        Case("backup of another database", ["mysql-restore", "--backup", str(f["other"]), "--yes"], 1, "--database"),
        Case(
            "restore into mysql",
            ["mysql-restore", "--backup", str(f["system"]), "--database", "mysql", "--yes"],
            1,
            "system schema",
        ),
        Case(
            "restore into a kept copy",
            ["mysql-restore", "--backup", str(f["other"]), "--database", "shop__old_20261204000000", "--yes"],
            1,
            "--rollback",
        ),
        Case("rollback with nothing kept", ["mysql-restore", "--rollback", "--yes"], 1, "nothing to roll back"),
        *[
            Case(
                f"dump with {name}",
                ["mysql-restore", "--backup", str(f[f"tampered {name}"]), "--database", "one_data_bisheng", "--yes"],
                1,
                "the backup cannot be restored: line 45: ",
            )
            for name in TAMPERED
        ],
        Case(
            "dump made with --master-data=1",
            ["mysql-restore", "--backup", str(f["master data"]), "--database", "one_data_bisheng", "--yes"],
            1,
            "line 25: CHANGE MASTER TO",
        ),
        Case(
            "remote backup missing", ["mysql-restore", "--remote-backup", str(f["missing"]), "--yes"], 1, "No such file"
        ),
        Case("milvus backup missing", ["milvus-restore", "--backup", str(f["missing"]), "--yes"], 1, "does not exist"),
        Case("milvus backup fifo", ["milvus-restore", "--backup", str(f["fifo"]), "--yes"], 1, "not a regular file"),
        Case("milvus backup png", ["milvus-restore", "--backup", str(f["png"]), "--yes"], 1, "corrupt"),
        Case("origin with a newline", ["cors", "--origin", nl], 1, "not an origin"),
        Case("origin with a tab", ["cors", "--origin", "http://a.example\tb"], 1, "not an origin"),
        Case("unknown service", ["api-500", "--services", "no-such-service"], 1, "no-such-service"),
        Case("unknown cors service", ["cors", "--origin", "http://a.example", "--services", "nope"], 1, "nope"),
        Case("unknown key", ["rotate-keys", "--key", "NO_SUCH_KEY", "--yes"], 1, "NO_SUCH_KEY"),
        Case(
            "value file missing",
            ["rotate-keys", "--key", "MYSQL_PASSWORD", "--value-from-file", str(f["missing"]), "--yes"],
            1,
            "cannot read",
        ),
        Case(
            "value file empty",
            ["rotate-keys", "--key", "MYSQL_PASSWORD", "--value-from-file", str(f["empty_value"]), "--yes"],
            1,
            "empty",
        ),
        Case(
            "value env unset",
            ["rotate-keys", "--key", "MYSQL_PASSWORD", "--value-from-env", "ODS_NOT_SET_ANYWHERE", "--yes"],
            1,
            "ODS_NOT_SET_ANYWHERE",
        ),
        Case(
            "rotate rollback with nothing kept", ["rotate-keys", "--rollback", "--yes"], 1, "no rotation to roll back"
        ),
        Case(
            "incident bundle exists", ["incident", "--bundle", str(f["existing_bundle"]), "--yes"], 1, "already exists"
        ),
        Case(
            "data-leak bundle exists",
            ["data-leak", "--bundle", str(f["existing_bundle"]), "--yes"],
            1,
            "already exists",
        ),
        Case(
            "verify a missing bundle", ["incident", "verify", str(f["missing"])], 1, "does not exist", inventory=False
        ),
        Case(
            "verify random bytes", ["incident", "verify", str(f["not_bundle"])], 1, "does not verify", inventory=False
        ),
        Case("archive rule malformed", ["mysql-disk", "--archive", "no-colons"], 1, "archive"),
        Case(
            "archive unknown table",
            ["mysql-disk", "--archive", "one_data_alldata.no_such_table:created:90"],
            1,
            "no_such_table",
        ),
        Case("latency threshold 0", ["api-slow", "--latency-threshold-ms", "0"], 2, "'--latency-threshold-ms'"),
        Case("backup of a database the server lacks", ["mysql-backup", "--database", "no_such_db"], 1, "no_such_db"),
        Case(
            "backup output under a file",
            ["mysql-backup", "--database", "one_data_bisheng", "--output", str(f["png"]) + "/dir"],
            1,
            "not a directory",
        ),
        Case("verify a directory", ["incident", "verify", str(f["directory"])], 1, "not a file", inventory=False),
        Case("sandbox fault unknown", ["sandbox", "break", "no-such-fault"], 1, "unknown fault", inventory=False),
        # --- which stack: refused before anything runs -----------------------------------------------------
        Case(
            "project dir missing",
            ["diagnose", "--project-dir", str(f["missing"])],
            1,
            "does not exist",
            inventory=False,
        ),
        Case(
            "project dir without a stack",
            ["diagnose", "--project-dir", str(f["directory"])],
            1,
            "holds no compose file",
            inventory=False,
        ),
        Case(
            "project name unknown",
            ["api-500", "--project-name", "no-such-project"],
            1,
            "matches no Compose project",
            inventory=False,
        ),
        Case("project dir beside -i", ["cors", "--project-dir", str(f["directory"])], 2, "cannot be used with -i"),
        Case(
            "sandbox beside a project name",
            ["mysql-connect", "--sandbox", "--project-name", "x"],
            2,
            "cannot be used with --sandbox",
            inventory=False,
        ),
        Case(
            "no stack where you stand",
            ["mysql-connect"],
            1,
            "no Compose stack in or around",
            inventory=False,
            cwd=f["directory"],
        ),
        Case("doctor max repeats 0", ["doctor", "--max-repeats", "0"], 2, "'--max-repeats'"),
        Case("watch interval 0", ["watch", "--interval", "0"], 2, "'--interval'"),
        Case("watch max repeats negative", ["watch", "--max-repeats", "-1"], 2, "'--max-repeats'"),
        Case("watch notify not http", ["watch", "--notify", "ftp://hooks.example/x"], 1, "not an http(s) URL"),
        Case("watch over an inventory", ["watch"], 1, "watch follows one stack on this machine"),
        Case(
            "watch project unknown",
            ["watch", "--project-name", "no-such-project"],
            1,
            "matches no Compose project",
            inventory=False,
        ),
        Case(
            "discover write into a file that is a directory's child of a file",
            ["discover", "--write", str(f["png"]) + "/x"],
            1,
            "write",
        ),
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        placeholder = {name: Path(f"/placeholder/{name}") for name in FILE_NAMES}
        names = [case.name for case in cases(placeholder)]
        metafunc.parametrize("case", names, ids=names)


FILE_NAMES = [
    "png", "empty", "cut", "truncated", "bomb", "other", "system", "fifo", "directory", "device", "missing",
    "empty_value", "existing_bundle", "bad_inventory", "no_project", "limit_missing", "not_bundle", "master data",
    *(f"tampered {name}" for name in TAMPERED),
]  # fmt: skip


@pytest.fixture(scope="module")
def catalog(stack: Stack) -> dict[str, Case]:
    return {case.name: case for case in cases(files(stack.work))}


def test_the_catalog_is_long_enough() -> None:
    assert len(cases({name: Path("/x") for name in FILE_NAMES})) >= 60


def test_bad_input_is_refused_in_one_line_and_changes_nothing(
    stack: Stack, catalog: dict[str, Case], case: str
) -> None:
    bad = catalog[case]
    argv = [ODS_FIX, *bad.argv] + (["-i", str(stack.inventory)] if bad.inventory else [])
    before = stack.unchanged or snapshot(stack)
    stack.unchanged = None
    result = run(argv, dict(stack.env, **bad.env), cwd=bad.cwd)
    after = snapshot(stack)
    stack.unchanged = after if after == before else None
    err = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == bad.code, (result.returncode, result.stdout[-2000:], result.stderr)
    assert len(err) == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr
    assert bad.says.lower() in err[0].lower(), err[0]
    assert after == before, f"{case} changed the target"


def test_a_change_while_another_run_holds_the_project_is_refused_naming_it(stack: Stack) -> None:
    """Two runs that change things on one project never interleave: a restore, and a fix that only restarts
    services (api-500 would start the APIs a restore's swap stopped), are both refused while a run holds it."""
    stack.unchanged = None
    from ansible_collections.ods.fix.plugins.module_utils import project_lock  # noqa: PLC0415

    held = project_lock.acquire(str(stack.directory / ".ods-fix"), "mysql-restore", lease=300)
    try:
        for argv in (
            [
                "mysql-restore",
                "--backup",
                str(DUMPS / "mariadb-default.sql"),
                "--database",
                "one_data_bisheng",
                "--yes",
            ],
            ["api-500"],
            ["cors", "--origin", "http://a.example"],
        ):
            before = snapshot(stack)
            result = run([ODS_FIX, *argv, "-i", str(stack.inventory)], stack.env)
            err = [line for line in result.stderr.splitlines() if line.strip()]
            assert result.returncode == 1 and len(err) == 1, (argv, result.stdout[-1500:], result.stderr)
            assert f"holds this project: mysql-restore, pid {held['pid']}, since" in err[0], err[0]
            assert snapshot(stack) == before, f"{argv[0]} changed the target while another run held it"
        check = run([ODS_FIX, "api-500", "--check", "--json", "-i", str(stack.inventory)], stack.env)
        assert "a fix is at work on this project: another ods-fix run holds this project: mysql-restore" in check.stdout
    finally:
        project_lock.release(str(stack.directory / ".ods-fix"), held["token"])


def test_a_settings_file_compose_would_refuse_is_refused_in_one_line_and_left_as_it_is(stack: Stack) -> None:
    stack.unchanged = None
    original = stack.settings.read_bytes()
    broken = original + b'JWT_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n'
    stack.settings.write_bytes(broken)
    try:
        for argv in (["diagnose"], ["rotate-keys", "--yes"]):
            result = run([ODS_FIX, *argv, "-i", str(stack.inventory)], stack.env)
            err = [line for line in result.stderr.splitlines() if line.strip()]
            assert result.returncode == 1 and len(err) == 1, (argv, result.stdout[-1500:], result.stderr)
            assert 'opens a " quote that is never closed' in err[0] and "Traceback" not in result.stdout, err[0]
            assert stack.settings.read_bytes() == broken  # not "repaired", not rewritten
    finally:
        stack.settings.write_bytes(original)


RESTORED_AS_THEY_ARE = [  # mariadb-dump's options whose dumps restore (unit/.../test_dump_policy.py says why)
    "default", "add-drop-database", "no-create-db", "add-drop-trigger", "replace", "insert-ignore",
    "flush-privileges", "master-data-2", "dump-slave", "skip-add-drop-table", "skip-tz-utc",
    "hex-blob-complete-insert",
]  # fmt: skip


def test_a_dump_made_with_each_standard_option_restores_on_the_real_server(stack: Stack) -> None:
    """Each into a database of its own, named with --database; its rows, view, trigger and routines there."""
    stack.unchanged = None
    for option in RESTORED_AS_THEY_ARE:
        target = "opt_" + option.replace("-", "_")
        dump = DUMPS / f"mariadb-{option}.sql"
        try:
            result = run(
                [ODS_FIX, "mysql-restore", "--backup", str(dump), "--database", target, "--yes", "--json",
                 "-i", str(stack.inventory)],
                stack.env,
            )  # fmt: skip
            assert result.returncode == 0, (option, result.stdout[-2000:], result.stderr)
            rows = run(
                ["docker", "exec", "-i", stack.mysql, "mysql", "-N", "-B", target],
                stack.env,
                input="SELECT (SELECT COUNT(*) FROM flow) + (SELECT COUNT(*) FROM message) + "
                "(SELECT COUNT(*) FROM blob_store), (SELECT COUNT(*) FROM flow_summary), flow_name(1), "
                "(SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE());",
            )
            assert rows.stdout.split("\t") == ["9", "3", "客服助手", "1\n"], (option, rows.stdout, rows.stderr)
        finally:  # the database and the (empty) copy its restore kept
            mysql = ["docker", "exec", "-i", stack.mysql, "mysql", "-N", "-B"]
            listed = run([*mysql, "-e", "SHOW DATABASES"], stack.env).stdout.split()
            drops = "".join(f"DROP DATABASE `{name}`;" for name in listed if name.startswith(target))
            run(mysql, stack.env, input=drops)
