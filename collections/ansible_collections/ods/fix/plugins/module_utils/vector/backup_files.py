# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Vector backup files on disk: check one completely, read its manifest, write one from a container's archive.

The format is described in backup_format. Everything here is the standard library:
it runs on the controller (checking a backup before it is copied) and on targets.
"""

import hashlib
import io
import json
import os
import tarfile
import zlib

from ansible_collections.ods.fix.plugins.module_utils.file_hash import sha256_file
from ansible_collections.ods.fix.plugins.module_utils.vector.backup_format import (
    FORMAT,
    MANIFEST,
    ROWS,
    SCHEMA,
    VectorError,
    read_npy_shape,
)


class HashingReader:
    """A file object that hashes what is read through it (one pass: the members and the whole file)."""

    def __init__(self, handle):
        self.handle, self.digest, self.bytes = handle, hashlib.sha256(), 0

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        self.bytes += len(data)
        return data

    def drain(self):
        while self.read(1 << 20):
            pass


def _member_digest(stream, name):
    digest = hashlib.sha256()
    head = stream.read(1 << 16)
    shape = None
    if name.endswith(".npy"):
        try:
            shape = read_npy_shape(io.BytesIO(head))
        except VectorError as exc:
            raise VectorError(f"{name} in the backup: {exc}") from exc
    digest.update(head)
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest(), shape


def _count_lines(stream):
    """(sha256, lines) of a gzip member, decompressed as it streams."""
    digest, lines = hashlib.sha256(), 0
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
        lines += inflate.decompress(block).count(b"\n")
    lines += inflate.flush().count(b"\n")
    if not inflate.eof:
        raise VectorError("a rows file ends before its gzip stream does (truncated)")
    return digest.hexdigest(), lines


def _scan(path):
    """One pass over the tar: each member's sha256, the .npy shapes, the rows files' line counts, the JSON texts."""
    sums, shapes, lines, texts = {}, {}, {}, {}
    with open(path, "rb") as raw:
        reader = HashingReader(raw)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as archive:
                for member in archive:
                    if not member.isfile():
                        continue
                    stream = archive.extractfile(member)
                    if member.name.endswith(".json"):
                        texts[member.name] = stream.read(16 << 20)
                        sums[member.name] = hashlib.sha256(texts[member.name]).hexdigest()
                    elif member.name.endswith(ROWS):
                        sums[member.name], lines[member.name] = _count_lines(stream)
                    else:
                        sums[member.name], shapes[member.name] = _member_digest(stream, member.name)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise VectorError(f"the backup {path} is truncated or corrupt: {exc}") from exc
        reader.drain()
    return sums, shapes, lines, texts, {"sha256": reader.digest.hexdigest(), "bytes": reader.bytes}


def check(path, collections=None):
    """See _check; a manifest that parses but lacks what the format puts in it is corrupt too."""
    try:
        return _check(path, collections)
    except (KeyError, TypeError, AttributeError) as exc:
        raise VectorError(f"the backup {path} has a malformed manifest (no {exc})") from exc


def _check(path, collections=None):
    """Everything about the backup at path, or VectorError saying what is wrong with it.

    Reads the whole file once: every member's sha256 against the manifest, each
    vector file's shape against the manifest's rows and dimensions, each rows
    file's line count. Returns sha256, bytes, manifest, schemas (name to schema)
    and selected (the collections to restore).
    """
    if not os.path.exists(path):
        raise VectorError(f"the backup {path} does not exist")
    if not os.path.isfile(path):
        raise VectorError(f"the backup {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise VectorError(f"the backup {path} is not readable")
    if os.path.getsize(path) == 0:
        raise VectorError(f"the backup {path} is empty")
    sums, shapes, lines, texts, whole = _scan(path)
    try:
        manifest = json.loads(texts[MANIFEST].decode("utf-8"))
    except KeyError:
        raise VectorError(f"the backup {path} has no {MANIFEST}: not an ods-fix vector backup") from None
    except ValueError as exc:
        raise VectorError(f"the backup's {MANIFEST} does not parse: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise VectorError(
            "the backup {} is in format {!r}; this ods-fix reads {}".format(path, manifest.get("format"), FORMAT)
        )
    schemas = {}
    for entry in manifest["collections"]:
        name = entry["name"]
        for member, expected in sorted(entry["files"].items()):
            if member not in sums:
                raise VectorError(f"the backup {path} lacks {member} (truncated?)")
            if sums[member] != expected:
                raise VectorError(f"{member} in the backup {path} is corrupt: its sha256 differs from the manifest's")
        rows_member = f"{name}/{ROWS}"
        if lines.get(rows_member) != entry["rows"]:
            raise VectorError(
                "%s has %s rows, the manifest says %d" % (rows_member, lines.get(rows_member), entry["rows"])
            )
        for field, dim in entry["dims"].items():
            shape = shapes.get(f"{name}/{field}.npy")
            if shape != (entry["rows"], dim):
                raise VectorError(
                    "%s/%s.npy holds %s vectors, the manifest says %d x %d" % (name, field, shape, entry["rows"], dim)
                )
        schemas[name] = json.loads(texts[f"{name}/{SCHEMA}"].decode("utf-8"))
    names = [entry["name"] for entry in manifest["collections"]]
    unknown = sorted(set(collections or []) - set(names))
    if unknown:
        raise VectorError("the backup has no collection {} (it has: {})".format(", ".join(unknown), ", ".join(names)))
    return {
        "sha256": whole["sha256"],
        "bytes": whole["bytes"],
        "manifest": manifest,
        "schemas": schemas,
        "selected": [n for n in names if not collections or n in collections],
    }


def read_manifest(path):
    """The manifest of a backup file, or None when it has none that parses (headers only: cheap)."""
    try:
        with tarfile.open(path, mode="r:") as archive:
            return json.load(archive.extractfile(MANIFEST))
    except (tarfile.TarError, KeyError, ValueError, OSError, AttributeError):
        return None


class ChunkReader:
    """A read()-able file object over an iterator of byte chunks (docker's get_archive stream)."""

    def __init__(self, chunks):
        self.chunks, self.buffer = iter(chunks), b""

    def read(self, size=-1):
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if size < 0:
            data, self.buffer = self.buffer, b""
        else:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def write_from_container(chunks, prefix, dest):
    """Write the backup file dest (mode 0600) from docker's archive of the export directory, names
    stripped of the directory, the manifest last (it is written last). Returns the file's sha256."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    manifest = None
    with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as target:
        with tarfile.open(fileobj=ChunkReader(chunks), mode="r|") as source:
            for member in source:
                if not member.isfile():
                    continue
                member.name = member.name[len(prefix) :].lstrip("/")
                member.uid = member.gid = 0
                member.uname = member.gname = ""
                member.mode = 0o600
                if member.name == MANIFEST:
                    manifest = (member, source.extractfile(member).read())
                    continue
                target.addfile(member, source.extractfile(member))
        if manifest is not None:
            target.addfile(manifest[0], io.BytesIO(manifest[1]))
    return sha256_file(dest)
