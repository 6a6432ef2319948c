"""Evidence bundles (module_utils/security/evidence.py): sealed, verified, never overwritten, private."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils.security import (
    evidence,
    redact,
)


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
