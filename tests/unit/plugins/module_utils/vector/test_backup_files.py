"""The vector backup format: the complete check before a restore, the digest, the kept-copy names."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import struct
import tarfile
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.vector import backup_files, backup_format
from ansible_collections.ods.fix.plugins.module_utils.vector.backup_format import VectorError

SCHEMA = {
    "name": "docs",
    "fields": [
        {"name": "id", "type": "INT64", "params": {}, "is_primary": True, "auto_id": True},
        {"name": "text", "type": "VARCHAR", "params": {"max_length": 65535}, "is_primary": False, "auto_id": False},
        {"name": "embedding", "type": "FLOAT_VECTOR", "params": {"dim": 4}, "is_primary": False, "auto_id": False},
    ],
    "indexes": [{"field": "embedding", "index_type": "HNSW", "metric_type": "L2", "params": {"M": 16}}],
}


def make_backup(path: Path, rows: int = 3, dim: int = 4, tamper: dict[str, Any] | None = None) -> Path:
    """A backup as milvus_backup writes it; tamper replaces members after the manifest is computed."""
    lines = "".join(json.dumps({"id": i, "text": f"文档 {i}"}) + "\n" for i in range(rows))
    vectors = b"".join(struct.pack(f"<{dim}f", *[i + j / 10 for j in range(dim)]) for i in range(rows))
    members = {
        "docs/schema.json": json.dumps(SCHEMA).encode(),
        "docs/rows.jsonl.gz": gzip.compress(lines.encode()),
        "docs/embedding.npy": backup_format.npy_header(rows, dim) + vectors,
    }
    entry = {
        "name": "docs",
        "rows": rows,
        "dims": {"embedding": dim},
        "content_digest": "0",
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    members["manifest.json"] = json.dumps(
        {"format": backup_format.FORMAT, "created": "2026-11-28T00:00:00Z", "collections": [entry]}
    ).encode()
    members.update(tamper or {})
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_good_backup_is_read_completely(tmp_path: Path) -> None:
    path = make_backup(tmp_path / "b.tar")
    info = backup_files.check(str(path))
    assert info["selected"] == ["docs"]
    assert info["schemas"]["docs"]["indexes"][0]["index_type"] == "HNSW"
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["bytes"] == path.stat().st_size


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ({"docs/embedding.npy": backup_format.npy_header(3, 4) + b"\0" * 48}, "sha256 differs"),
        ({"docs/rows.jsonl.gz": b"not gzip"}, "truncated or corrupt"),
        ({"manifest.json": b"{"}, "does not parse"),
        ({"manifest.json": json.dumps({"format": "other/9"}).encode()}, "in format 'other/9'"),
        ({"manifest.json": json.dumps({"format": backup_format.FORMAT}).encode()}, "malformed manifest"),
        ({"docs/embedding.npy": b"PNG"}, "not a NumPy .npy file"),
    ],
)
def test_a_damaged_backup_is_refused_naming_what_is_wrong(tmp_path: Path, tamper: dict[str, Any], says: str) -> None:
    path = make_backup(tmp_path / "b.tar", tamper=tamper)
    with pytest.raises(VectorError, match=says):
        backup_files.check(str(path))


def test_missing_empty_truncated_and_not_a_tar(tmp_path: Path) -> None:
    with pytest.raises(VectorError, match="does not exist"):
        backup_files.check(str(tmp_path / "nope.tar"))
    (tmp_path / "empty.tar").write_bytes(b"")
    with pytest.raises(VectorError, match="is empty"):
        backup_files.check(str(tmp_path / "empty.tar"))
    whole = make_backup(tmp_path / "b.tar").read_bytes()
    (tmp_path / "half.tar").write_bytes(whole[:2000])  # inside the members (the rest of a tar is padding)
    with pytest.raises(VectorError, match=r"truncated|lacks"):
        backup_files.check(str(tmp_path / "half.tar"))
    (tmp_path / "text.tar").write_text("hello\n")
    with pytest.raises(VectorError, match="truncated or corrupt"):
        backup_files.check(str(tmp_path / "text.tar"))


def test_a_fifo_or_a_device_as_the_backup_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.tar")
    (tmp_path / "zero.tar").symlink_to("/dev/zero")
    for name in ("fifo.tar", "zero.tar"):
        with pytest.raises(VectorError, match="is not a regular file"):
            backup_files.check(str(tmp_path / name))


def test_a_collection_the_backup_lacks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VectorError, match="no collection other"):
        backup_files.check(str(make_backup(tmp_path / "b.tar")), ["other"])


def test_npy_header_is_numpy_v1_and_fixed_length() -> None:
    small, big = backup_format.npy_header(0, 768), backup_format.npy_header(200000, 768)
    assert len(small) == len(big) == backup_format.NPY_HEADER_LEN
    assert backup_format.read_npy_shape(io.BytesIO(big)) == (200000, 768)
    assert big[:8] == b"\x93NUMPY\x01\x00" and big.endswith(b"\n")


def test_digest_ignores_row_order_and_generated_ids() -> None:
    rows = [({"id": 1, "text": "a"}, [b"\1\2"]), ({"id": 2, "text": "b"}, [b"\3\4"])]
    one, two = backup_format.Digest(["id"]), backup_format.Digest(["id"])
    for scalars, vectors in rows:
        one.add(scalars, vectors)
    for scalars, vectors in reversed(rows):
        two.add(dict(scalars, id=scalars["id"] + 100), vectors)
    assert one.hexdigest() == two.hexdigest()
    three = backup_format.Digest(["id"])
    three.add({"id": 1, "text": "a"}, [b"\1\2"])
    three.add({"id": 2, "text": "b"}, [b"\3\5"])
    assert three.hexdigest() != one.hexdigest()


def test_kept_copies_are_recognised_by_their_dated_name() -> None:
    kept = backup_format.kept_name("kb_docs", 0)
    assert kept == "kb_docs_replaced_19700101T000000"
    assert backup_format.kept_copy_of(kept) == "kb_docs"
    assert backup_format.kept_copy_of("kb_docs") is None
    assert backup_format.kept_copy_of("kb_replaced_docs") is None


def test_schema_differences_and_dimension_mismatch_are_named() -> None:
    other = json.loads(json.dumps(SCHEMA))
    other["fields"][2]["params"]["dim"] = 8
    assert backup_format.dimension_mismatch(SCHEMA, other) == ["embedding: dim 8 live, 4 in the backup"]
    assert backup_format.same_schema(SCHEMA, json.loads(json.dumps(SCHEMA))) == []
    assert backup_format.same_schema(SCHEMA, other) == [
        "field embedding is FLOAT_VECTOR (dim=8), the backup's is FLOAT_VECTOR (dim=4)"
    ]


def test_the_agent_program_runs_alone_as_it_does_in_the_agent_api() -> None:
    """What milvus_vectors sends to `python -` in the container: the format, then the agent, with no collection."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from ansible_collections.ods.fix.plugins.modules import milvus_vectors  # noqa: PLC0415

    program = milvus_vectors.SCRIPT + b"\nsay('result', format=FORMAT, kept=kept_name('docs', 0))\n"
    out = subprocess.run([sys.executable, "-I", "-"], input=program, capture_output=True, check=True, timeout=60)
    assert json.loads(out.stdout) == {
        "format": backup_format.FORMAT,
        "kept": backup_format.kept_name("docs", 0),
        "event": "result",
    }
