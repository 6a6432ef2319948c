"""Pure logic behind rotate-keys, incident and data-leak: catalog, SQL, evidence, redaction, forensics, audit."""

from __future__ import annotations

import datetime
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils import accesslog, evidence, forensics, keyrotation, redact

CATALOG = [
    {"name": "ALLDATA_SECRET_KEY", "kind": "generated", "services": ["alldata-api"]},
    {"name": "MYSQL_PASSWORD", "kind": "database", "user_key": "MYSQL_USER", "services": ["alldata-api"]},
    {"name": "OPENAI_API_KEY", "kind": "provider", "services": ["bisheng-api"]},
]


# --- key rotation ---------------------------------------------------------------------------------------


def test_default_selection_leaves_provider_keys_out() -> None:
    chosen, left_out = keyrotation.select(keyrotation.normalize_catalog(CATALOG), [])
    assert [e["name"] for e in chosen] == ["ALLDATA_SECRET_KEY", "MYSQL_PASSWORD"]
    assert [e["name"] for e in left_out] == ["OPENAI_API_KEY"]


def test_named_keys_are_taken_once_in_the_order_given() -> None:
    chosen, left_out = keyrotation.select(
        keyrotation.normalize_catalog(CATALOG), ["OPENAI_API_KEY", "MYSQL_PASSWORD", "OPENAI_API_KEY"]
    )
    assert [e["name"] for e in chosen] == ["OPENAI_API_KEY", "MYSQL_PASSWORD"] and left_out == []


def test_unknown_key_names_the_catalog() -> None:
    with pytest.raises(keyrotation.CatalogError, match="unknown key NOPE: the secrets catalog has ALLDATA_SECRET_KEY"):
        keyrotation.select(keyrotation.normalize_catalog(CATALOG), ["NOPE"])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "X", "kind": "magic"}, "kind 'magic' is not one of"),
        ({"name": "X", "kind": "database"}, "needs user or user_key"),
        ({"name": "X", "bytes": 4}, "bytes must be between 8 and 512"),
        ({"kind": "generated"}, "needs a name"),
    ],
)
def test_bad_catalog_entries_are_refused(entry: dict[str, object], message: str) -> None:
    with pytest.raises(keyrotation.CatalogError, match=message):
        keyrotation.normalize_catalog([entry])


@pytest.mark.parametrize(
    ("version", "flavor", "dual"),
    [
        ("10.11.18-MariaDB-0+deb12u1-log", "mariadb", False),
        ("8.0.13", "mysql", False),
        ("8.0.14", "mysql", True),
        ("8.4.3", "mysql", True),
        ("5.7.44-log", "mysql", False),
    ],
)
def test_dual_passwords_only_on_mysql_8_0_14_and_later(version: str, flavor: str, dual: bool) -> None:
    info = keyrotation.server_info(version)
    assert (info["flavor"], info["dual_password"]) == (flavor, dual)


def test_password_sql_per_server() -> None:
    mariadb = keyrotation.server_info("10.11.6-MariaDB")
    mysql8 = keyrotation.server_info("8.0.36")
    assert keyrotation.set_password_sql(mariadb, "root", "localhost", "n'ew\\") == (
        "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('n''ew\\\\');"
    )
    assert keyrotation.set_password_sql(mariadb, "ods", "%", "x", retain=True) == (
        "SET PASSWORD FOR 'ods'@'%' = PASSWORD('x');"
    )  # MariaDB has no RETAIN CURRENT PASSWORD
    assert keyrotation.set_password_sql(mysql8, "ods", "%", "x", retain=True) == (
        "ALTER USER 'ods'@'%' IDENTIFIED BY 'x' RETAIN CURRENT PASSWORD;"
    )
    assert keyrotation.set_password_sql(mysql8, "ods", "%", "x") == "ALTER USER 'ods'@'%' IDENTIFIED BY 'x';"
    assert keyrotation.discard_old_sql("ods", "%") == "ALTER USER 'ods'@'%' DISCARD OLD PASSWORD;"


def test_generated_values_are_hex_of_the_size_asked() -> None:
    first, second = keyrotation.generate(32), keyrotation.generate(32)
    assert len(first) == 64 and int(first, 16) >= 0 and first != second


@pytest.mark.parametrize(("raw", "value"), [("abc\n", "abc"), ("abc\r\n", "abc"), ("abc", "abc"), ("a b\n\n", "a b\n")])
def test_a_supplied_value_loses_one_trailing_newline(raw: str, value: str) -> None:
    assert keyrotation.strip_value(raw) == value


def test_audit_log_is_private_and_holds_names_only(tmp_path: Path) -> None:
    log = tmp_path / "audit" / "key-rotation.log"
    keyrotation.audit(str(log), {"event": "rotated", "keys": ["MYSQL_PASSWORD"], "actor": "me@host"})
    keyrotation.audit(str(log), {"event": "verified", "keys": ["MYSQL_PASSWORD"], "actor": "me@host"})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["rotated", "verified"] and "time" in lines[0]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_action_plugin_scrubs_supplied_values_from_results() -> None:
    result = {"msg": "set sk-secret-1 in place", "actions": ["kept sk-secret-1"], "nested": {"x": ["sk-secret-1"]}}
    assert "sk-secret-1" not in json.dumps(keyrotation.scrub(result, ["sk-secret-1"]))


# --- evidence bundles ----------------------------------------------------------------------------------


def staged(tmp_path: Path) -> evidence.Staging:
    redactor = redact.Redactor({"DB_PASSWORD": "hunter2-secret"})
    staging = evidence.Staging.create(str(tmp_path / "base"), "incident-", redactor.redact)
    staging.write("logs/app.log", "login with hunter2-secret ok\n")
    staging.write("volatile/app/processes.txt", b"PID CMD\n1 server\n")
    return staging


def make_bundle(tmp_path: Path) -> Path:
    staging = staged(tmp_path)
    bundle = tmp_path / "b.tar.gz"
    evidence.seal(staging.root, staging.records, str(bundle), {"kind": "incident", "host": "dev-01"})
    return bundle


def test_a_sealed_bundle_verifies_and_holds_no_secret(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    manifest, problems = evidence.verify(str(bundle))
    assert problems == [] and manifest is not None
    assert [f["path"] for f in manifest["files"]] == ["logs/app.log", "volatile/app/processes.txt"]
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600
    with tarfile.open(bundle) as archive:
        log = archive.extractfile("logs/app.log").read()  # type: ignore[union-attr]
        assert archive.getnames()[0] == "manifest.json"
    assert log == b"login with [REDACTED:DB_PASSWORD] ok\n"


def test_an_existing_bundle_is_never_overwritten(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    staging = staged(tmp_path)
    with pytest.raises(FileExistsError):
        evidence.seal(staging.root, staging.records, str(bundle), {})


def repack(bundle: Path, change: str) -> Path:
    members = {}
    with tarfile.open(bundle) as archive:
        for member in archive.getmembers():
            members[member.name] = archive.extractfile(member).read()  # type: ignore[union-attr]
    if change == "modify":
        members["logs/app.log"] += b"one more line\n"
    elif change == "add":
        members["implant.sh"] = b"#!/bin/sh\n"
    elif change == "remove":
        del members["volatile/app/processes.txt"]
    out = bundle.with_name(f"{change}.tar.gz")
    with tarfile.open(out, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("modify", "logs/app.log changed: sha256"),
        ("add", "implant.sh is in the bundle but not in the manifest (added)"),
        ("remove", "volatile/app/processes.txt is in the manifest but not in the bundle (removed)"),
    ],
)
def test_tampering_fails_verification(tmp_path: Path, change: str, problem: str) -> None:
    _, problems = evidence.verify(str(repack(make_bundle(tmp_path), change)))
    assert any(problem in p for p in problems), problems


def test_a_truncated_or_foreign_file_is_not_a_bundle(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    truncated = tmp_path / "t.tar.gz"
    truncated.write_bytes(bundle.read_bytes()[:200])
    assert evidence.verify(str(truncated))[0] is None
    foreign = tmp_path / "f.tar.gz"
    foreign.write_bytes(os.urandom(2000))
    assert "not a readable evidence bundle" in evidence.verify(str(foreign))[1][0]


def test_staging_refuses_paths_outside_it(tmp_path: Path) -> None:
    staging = evidence.Staging.create(str(tmp_path / "s"), "x-")
    for bad in ("../x", "manifest.json", ".records.json", "", "a//b", "logs/../../x"):
        with pytest.raises(ValueError):
            staging.write(bad, "x")


@pytest.mark.parametrize("attack", ["link", "other-owner", "group-writable", "a-file"])
def test_a_staging_base_someone_else_could_have_made_is_refused(tmp_path: Path, attack: str) -> None:
    base = tmp_path / "ods-fix-evidence"
    if attack == "link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        base.symlink_to(tmp_path / "elsewhere")
    elif attack == "a-file":
        base.write_text("")
    else:
        base.mkdir(mode=0o700)
        if attack == "group-writable":
            base.chmod(0o775)
        else:
            os.chown(base, 4242, 4242)  # the tests run as root: another user made it first
    with pytest.raises(evidence.EvidenceError):
        evidence.Staging.create(str(base), "incident-")


def test_each_capture_gets_a_fresh_private_directory_and_a_planted_link_is_never_followed(tmp_path: Path) -> None:
    base = tmp_path / "base"
    first, second = evidence.Staging.create(str(base), "i-"), evidence.Staging.create(str(base), "i-")
    assert first.root != second.root and stat.S_IMODE(os.stat(first.root).st_mode) == 0o700
    victim = tmp_path / "bashrc"
    victim.write_text("mine\n")
    os.makedirs(os.path.join(first.root, "logs"))
    os.symlink(victim, os.path.join(first.root, "logs", "mysql.log"))  # planted inside: still not followed
    with pytest.raises(OSError):
        first.write("logs/mysql.log", "evidence")
    assert victim.read_text() == "mine\n"


def test_seal_takes_only_the_records_it_is_given_and_never_a_path_outside(tmp_path: Path) -> None:
    staging = staged(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("root's private key")
    planted = [*staging.records, {"path": "../../secret.txt", "bytes": 1, "sha256": "0"}]
    with pytest.raises(ValueError):
        evidence.seal(staging.root, planted, str(tmp_path / "x.tar.gz"), {})
    os.symlink(secret, os.path.join(staging.root, "link.txt"))
    with pytest.raises(OSError):
        evidence.seal(staging.root, [{"path": "link.txt", "sha256": "0"}], str(tmp_path / "y.tar.gz"), {})


def test_a_log_is_streamed_and_redacted_line_by_line(tmp_path: Path) -> None:
    staging = evidence.Staging.create(str(tmp_path / "b"), "s-", redact.Redactor({"PW": "hunter2-secret"}).redact)
    with staging.stream("logs/big.log") as out:
        for _ in range(1000):
            out.write("a line with hunt")
            out.write("er2-secret in two pieces\n")
    data = Path(staging.root, "logs", "big.log").read_bytes()
    assert b"hunter2" not in data and data.count(b"[REDACTED:PW]") == 1000
    assert staging.records[-1]["bytes"] == len(data)


# --- redaction for evidence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "public"),
    [
        ("MYSQL_HOST", "mysql", True),
        ("ANYTHING", "mysql", True),  # one of the stack's own services
        ("MYSQL_PORT", "3306", True),
        ("LOG_LEVEL", "INFO", True),
        ("MYSQL_DATABASE", "one_data_alldata", True),
        ("CORS_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000", True),
        ("PATH", "/usr/local/bin:/usr/bin", True),
        ("DB_PW", "hunterpass", False),  # a word, but held by a password's name
        ("SESSION_SEED", "hunterpass", False),  # a word held by a name that says nothing
        ("ODS_CANARY", "canary-5e1f9c0a", False),
        ("ANY", "3f9a0c9d8e7f6a5b", False),
        ("ANY", "sk-AbCdEf", False),
        ("DATABASE_URL", "mysql://ods:pw@mysql/db", False),
    ],
)
def test_public_values_are_judged_by_where_they_come_from(name: str, value: str, public: bool) -> None:
    assert redact.is_public_value(value, name, hosts=("mysql", "redis")) is public


def test_evidence_redaction_takes_every_value_whatever_its_name() -> None:
    redactor = redact.evidence_redactor(
        {"MYSQL_HOST": "mysql", "SESSION_SEED": "a9f3c2e1d0b8", "MYSQL_PASSWORD": "abcd"},
        [{"ODS_CANARY": "canary-0042x", "PATH": "/usr/bin:/bin"}],
    )
    text = redactor.redact("mysql up; seed a9f3c2e1d0b8; pw abcd; canary-0042x; PATH /usr/bin:/bin")
    assert text == (
        "mysql up; seed [REDACTED:SESSION_SEED]; pw [REDACTED:MYSQL_PASSWORD]; [REDACTED:ODS_CANARY]; "
        "PATH /usr/bin:/bin"
    )


# --- forensics --------------------------------------------------------------------------------------------

PROC_TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0
   1: 040014AC:8C4A 020014AC:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 20 4 30 10 -1
"""
PROC_TCP6 = (
    "  sl  local_address                         remote_address                        st tx_queue rx_queue\n"
    "   0: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF0000077100CB:115C 01 00000000:00000000 "
    "00:00000000 00000000     0        0 4444 1\n"
)


def test_proc_net_tables_are_read() -> None:
    sockets = forensics.parse_proc_net(PROC_TCP, "tcp") + forensics.parse_proc_net(PROC_TCP6, "tcp6")
    assert [(s["local"], s["remote"], s["state"], s["inode"]) for s in sockets] == [
        ("0.0.0.0:4444", "0.0.0.0:0", "LISTEN", "4242"),
        ("172.20.0.4:35914", "172.20.0.2:3306", "ESTABLISHED", "4343"),
        ("127.0.0.1:8080", "203.0.113.7:4444", "ESTABLISHED", "4444"),
    ]
    assert not forensics.outside("172.20.0.2", ["172.20.0.0/16"])
    assert forensics.outside("203.0.113.7", ["172.20.0.0/16"])
    assert not forensics.outside("127.0.0.1", [])


def test_foreign_processes_leave_out_the_main_program_and_health_checks() -> None:
    top = {
        "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "Processes": [
            [
                "root",
                "20041",
                "1",
                "0",
                "20:21",
                "?",
                "0",
                "/bin/sh -c curl -fsS http://127.0.0.1:8080/api/v1/health || exit 1",
            ],
            ["root", "20042", "20041", "0", "20:21", "?", "0", "curl -fsS http://127.0.0.1:8080/api/v1/health"],
            ["root", "300", "1", "0", "20:15", "?", "0", "python server.py"],
            ["root", "301", "300", "0", "20:15", "?", "0", "python server.py --worker"],
            ["root", "302", "1", "0", "20:16", "?", "0", "runc init"],
            ["root", "9999", "1", "0", "20:30", "?", "0", "sleep 3600"],
        ],
    }
    found = forensics.foreign_processes(top, "300", "curl -fsS http://127.0.0.1:8080/api/v1/health || exit 1")
    assert found == [{"pid": "9999", "user": "root", "command": "sleep 3600"}]


def test_notable_changes_are_leaves_without_mounts_and_run_time_files() -> None:
    diff = [
        {"Path": "/app", "Kind": 0},
        {"Path": "/app/deploy", "Kind": 1},
        {"Path": "/run/nginx.pid", "Kind": 1},
        {"Path": "/usr/local/lib/.cache", "Kind": 1},
        {"Path": "/usr/local/lib/.cache/kworkerd", "Kind": 1},
        {"Path": "/etc/passwd", "Kind": 0},
        {"Path": "/app/__pycache__/x.pyc", "Kind": 1},
    ]
    assert forensics.notable_changes(diff, ["/app/deploy"]) == [
        {"path": "/etc/passwd", "kind": "changed"},
        {"path": "/usr/local/lib/.cache/kworkerd", "kind": "added"},
    ]


# --- the access-log audit ----------------------------------------------------------------------------------

API_LINE = (
    "2026-12-01T20:14:12.374Z 2026-12-01 20:14:12,374 INFO [alldata-api.access] 172.20.0.1 - - "
    '[01/Dec/2026:20:14:12 +0000] "GET /api/v1/flows?id=1%20union%20select%201 HTTP/1.1" 500 35 "-" "curl/8"'
)
NGINX_LINE = '172.20.0.1 - - [01/Dec/2026:20:15:00 +0000] "TRACE /api/v1/health HTTP/1.1" 405 157 "-" "x"'


def request(minute: int, **fields: object) -> dict[str, object]:
    when = datetime.datetime(2026, 12, 1, 20, minute, 5, tzinfo=datetime.UTC)
    base: dict[str, object] = {
        "source": "web",
        "ip": "10.0.0.1",
        "time": when,
        "method": "GET",
        "path": "/api/v1/health",
        "status": 200,
        "size": 100,
        "agent": "",
    }
    return {**base, **fields}


def test_combined_lines_are_found_behind_any_prefix() -> None:
    api, nginx = accesslog.parse(API_LINE, "alldata-api"), accesslog.parse(NGINX_LINE, "web")
    assert api is not None and nginx is not None
    assert (api["ip"], api["method"], api["status"], api["size"]) == ("172.20.0.1", "GET", 500, 35)
    assert (nginx["method"], nginx["status"]) == ("TRACE", 405)
    assert accesslog.parse("2026-12-01 ERROR [x] health: db check failed", "x") is None


def test_the_audit_names_bursts_probes_methods_and_big_answers() -> None:
    requests = [request(0) for _ in range(10)]
    requests += [request(1, path=f"/admin{i}", status=404, ip="203.0.113.7") for i in range(25)]
    requests += [request(2, path="/api/../../etc/passwd", status=400), request(2, path="/.env", status=404)]
    requests += [request(2, method="TRACE", status=405)]
    requests += [request(3, path="/api/v1/datasources", size=200) for _ in range(5)]
    requests += [request(4, path="/api/v1/datasources", size=50_000, ip="203.0.113.7")]
    summary = accesslog.audit(requests, large_bytes=1 << 20)
    assert summary["requests"] == len(requests)
    assert summary["top_ips"][0]["ip"] == "203.0.113.7" and summary["top_ips"][0]["errors"] == 25
    assert [b["errors"] for b in summary["error_bursts"]] == [28]  # the 25 probes and, within 60 s, 3 more
    assert {s["reason"] for s in summary["suspicious"]} == {"path traversal", "secrets or VCS files"}
    assert summary["unusual_methods"] == {"TRACE": 1}
    assert [(r["path"], r["size"]) for r in summary["large_responses"]] == [("/api/v1/datasources", 50_000)]
    lines = accesslog.highlights(summary)
    assert any(
        line.startswith("error burst from 2026-12-01T20:01:05+00:00 to 2026-12-01T20:02:05+00:00: 28 errors")
        for line in lines
    )
    assert "| 203.0.113.7 | 26 | 25 |" in accesslog.render_markdown(summary, "the window")


def test_the_window_keeps_only_its_requests() -> None:
    requests = [request(0), request(10), request(20)]
    since = datetime.datetime(2026, 12, 1, 20, 5, tzinfo=datetime.UTC)
    until = datetime.datetime(2026, 12, 1, 20, 15, tzinfo=datetime.UTC)
    assert accesslog.audit(requests, since=since, until=until)["requests"] == 1


def test_a_burst_across_a_minute_boundary_counts_once_and_whole() -> None:
    base = datetime.datetime(2026, 12, 1, 20, 0, 50, tzinfo=datetime.UTC)
    errors = [
        dict(request(0, status=404), time=base + datetime.timedelta(seconds=i)) for i in range(25)
    ]  # 20:00:50-20:01:14
    quiet = [dict(request(0, status=404), time=base + datetime.timedelta(minutes=5))]
    bursts = accesslog.error_bursts(errors + quiet, 20)
    assert [(b["start"], b["end"], b["errors"]) for b in bursts] == [
        ("2026-12-01T20:00:50+00:00", "2026-12-01T20:01:14+00:00", 25)
    ]
    assert accesslog.error_bursts(errors[:19], 20) == []
