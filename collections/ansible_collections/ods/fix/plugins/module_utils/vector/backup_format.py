# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The vector backup format of Milvus collections: its names, the .npy header, the content digest, schemas.

Pure and the standard library only, unit-tested (tests/unit/.../test_backup_files.py). Inside the agent API it runs
too: milvus_vectors sends this file's source ahead of milvus_agent.py's to ``python -`` there.

The format (``ods-fix-milvus/1``), an uncompressed POSIX tar::

    manifest.json                 format, created, server version, per collection:
                                  rows, dims, content digest, sha256 of each member
    <collection>/schema.json      fields (name, type, params, primary, auto_id), indexes
                                  (field, type, metric, params), dynamic field, consistency
    <collection>/rows.jsonl.gz    one JSON object per row: every scalar field, the id included
    <collection>/<field>.npy      each float vector field: NumPy .npy, float32, [rows, dim];
                                  row i belongs to line i of rows.jsonl.gz

Embeddings are stored raw: float32 vectors do not compress (gzip saves a few
per cent at a fraction of the insert rate). The content digest is independent
of row order and of auto-generated ids, so a collection restored with new ids
still compares equal to its backup.
"""

import hashlib
import json
import struct
import time

FORMAT = "ods-fix-milvus/1"
MANIFEST = "manifest.json"
ROWS = "rows.jsonl.gz"
SCHEMA = "schema.json"
NPY_HEADER_LEN = 128
# Milvus caps a request at 64 MB by default; 16 MB batches keep the client and
# the server busy at once without coming near it.
BATCH_BYTES = 16 << 20
KEPT_MARK = "_replaced_"
SUPPORTED = ("BOOL", "INT8", "INT16", "INT32", "INT64", "FLOAT", "DOUBLE", "VARCHAR", "JSON", "FLOAT_VECTOR")


class VectorError(Exception):
    """An expected failure, with ``kind`` input (nothing changed) or fix."""

    def __init__(self, message, kind="input"):
        super().__init__(message)
        self.kind = kind


def npy_header(rows, dim):
    """A NumPy .npy v1 header for float32 [rows, dim], always NPY_HEADER_LEN bytes long.

    A fixed length lets the export write the header before it knows the row count
    and rewrite it in place at the end.
    """
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, dim)
    body_len = NPY_HEADER_LEN - 10
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body_len) + text.ljust(body_len - 1).encode("latin1") + b"\n"


def read_npy_shape(handle):
    """(rows, dim) of a float32 .npy file opened at its start; VectorError if it is not one."""
    magic = handle.read(10)
    if len(magic) < 10 or magic[:6] != b"\x93NUMPY":
        raise VectorError("not a NumPy .npy file")
    major = magic[6:7]
    if major == b"\x01":
        size = struct.unpack("<H", magic[8:10])[0]
        header = handle.read(size)
    else:
        size = struct.unpack("<I", magic[8:10] + handle.read(2))[0]
        header = handle.read(size)
    text = header.decode("latin1")
    if "'<f4'" not in text or "'fortran_order': False" not in text:
        raise VectorError("not a float32, C-ordered array")
    shape = text.split("'shape':")[1].split(")")[0].strip(" (")
    parts = [p for p in shape.split(",") if p.strip()]
    if len(parts) != 2:
        raise VectorError("not a two-dimensional array")
    return int(parts[0]), int(parts[1])


def kept_name(name, when):
    """The dated name a replaced collection is kept under: docs_replaced_20261128T173000."""
    return "{}{}{}".format(name, KEPT_MARK, time.strftime("%Y%m%dT%H%M%S", time.gmtime(when)))


def kept_copy_of(candidate):
    """The collection a kept copy was kept for (docs for docs_replaced_20261128T173000), else None."""
    base, mark, stamp = candidate.rpartition(KEPT_MARK)
    if mark and len(stamp) == 15 and stamp[8] == "T" and (stamp[:8] + stamp[9:]).isdigit():
        return base
    return None


class Digest:
    """Order-independent digest of a collection's content: the sum of each row's sha256 (first 8 bytes)."""

    def __init__(self, skip=()):
        self.skip, self.total, self.rows = set(skip), 0, 0

    def add(self, scalars, vectors):
        """scalars: the row's scalar fields (skipped ones ignored); vectors: float32 bytes of each vector field."""
        canon = json.dumps(
            dict((k, v) for k, v in scalars.items() if k not in self.skip),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        digest = hashlib.sha256(canon)
        for data in vectors:
            digest.update(b"\0")
            digest.update(data)
        self.total = (self.total + int.from_bytes(digest.digest()[:8], "big")) & 0xFFFFFFFFFFFFFFFF
        self.rows += 1

    def hexdigest(self):
        return f"{self.total:016x}"


def skipped_fields(schema):
    """Fields left out of the digest: an auto-generated primary key changes with every restore."""
    return [f["name"] for f in schema["fields"] if f.get("is_primary") and f.get("auto_id")]


def vector_fields(schema):
    return [f["name"] for f in schema["fields"] if f["type"] == "FLOAT_VECTOR"]


def same_schema(a, b):
    """The differences between two schemas (fields, types, params, indexes), as lines; [] when equal."""
    differences = []
    fields_a = dict((f["name"], f) for f in a["fields"])
    fields_b = dict((f["name"], f) for f in b["fields"])
    for name in sorted(set(fields_a) | set(fields_b)):
        fa, fb = fields_a.get(name), fields_b.get(name)
        if fa is None or fb is None:
            differences.append("field {} only in the {}".format(name, "backup" if fb is None else "live collection"))
        elif (fa["type"], fa.get("params")) != (fb["type"], fb.get("params")):
            differences.append(
                "field {} is {} {}, the backup's is {} {}".format(
                    name, fb["type"], describe_params(fb), fa["type"], describe_params(fa)
                )
            )
    if sorted(json.dumps(i, sort_keys=True) for i in a.get("indexes", [])) != sorted(
        json.dumps(i, sort_keys=True) for i in b.get("indexes", [])
    ):
        differences.append("the indexes differ")
    return differences


def describe_params(field):
    params = field.get("params") or {}
    return "({})".format(", ".join("{}={}".format(*item) for item in sorted(params.items()))) if params else ""


def dimension_mismatch(backup_schema, live_schema):
    """'embedding: dim 384 live, 768 in the backup' lines for vector fields whose dimension differs."""
    live = dict((f["name"], f) for f in live_schema["fields"])
    lines = []
    for field in backup_schema["fields"]:
        other = live.get(field["name"])
        same_kind = other is not None and field["type"] == other["type"] == "FLOAT_VECTOR"
        if same_kind and other["params"].get("dim") != field["params"].get("dim"):
            lines.append(
                "{}: dim {} live, {} in the backup".format(
                    field["name"], other["params"]["dim"], field["params"]["dim"]
                )
            )
    return lines
