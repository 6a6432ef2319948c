# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Evidence bundles (疑似入侵, 数据泄露): a staging directory, a manifest, a sealed tar.gz, its verification.

Format ods-fix-evidence/1: a gzip-compressed tar whose first member is
manifest.json (format, kind, host, project, who, when, and for every other
member its path, size, sha256 and the time it was captured), then the
captured files. Members are mode 0600, the bundle itself 0600. verify()
checks that every member is listed with its hash and every listed file is
there: a changed, added or removed file fails it. Standard library only:
pyrunner loads this file for `ods-fix incident verify`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import io
import json
import os
import tarfile
import time

FORMAT = "ods-fix-evidence/1"
MANIFEST = "manifest.json"
RECORDS = ".records.json"  # the staging directory's own bookkeeping, not part of the bundle


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%03dZ" % (int(time.time() * 1000) % 1000)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


class Staging(object):
    """A private directory (0700) filling up with redacted evidence files, each recorded with its hash and time."""

    def __init__(self, root, redact=None):
        self.root = root
        self.redact = redact or (lambda text: text)
        if not os.path.isdir(root):
            os.makedirs(root, mode=0o700)
        os.chmod(root, 0o700)
        self.records = self._load()

    def _load(self):
        try:
            with open(os.path.join(self.root, RECORDS)) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return []

    def save(self):
        path = os.path.join(self.root, RECORDS)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.records, handle)

    def write(self, relpath, content, source=""):
        """Redact, then write relpath (text or bytes) 0600 and record it; returns the record."""
        relpath = relpath.strip("/")
        if not relpath or relpath == MANIFEST or relpath.startswith(".") or ".." in relpath.split("/"):
            raise ValueError("bad evidence path %r" % relpath)
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        data = self.redact(content).encode("utf-8")
        path = os.path.join(self.root, relpath)
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        record = {"path": relpath, "bytes": len(data), "sha256": sha256_bytes(data), "captured_at": now()}
        if source:
            record["source"] = source
        self.records = [r for r in self.records if r["path"] != relpath] + [record]
        self.save()
        return record


def _add(archive, name, data, mtime):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = mtime
    archive.addfile(info, io.BytesIO(data))


def seal(staging_root, bundle_path, meta):
    """Write the bundle (0600, never over an existing file) from the staging directory; returns its summary."""
    staging = Staging(staging_root)
    records = sorted(staging.records, key=lambda r: r["path"])
    manifest = dict(meta)
    manifest.update({"format": FORMAT, "sealed_at": now(), "files": records})
    manifest_data = (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    directory = os.path.dirname(os.path.abspath(bundle_path))
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    fd = os.open(bundle_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    mtime = int(time.time())
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        _add(archive, MANIFEST, manifest_data, mtime)
        for record in records:
            with open(os.path.join(staging_root, record["path"]), "rb") as handle:
                _add(archive, record["path"], handle.read(), mtime)
    with open(bundle_path, "rb") as handle:
        digest = sha256_bytes(handle.read())
    return {
        "bundle": bundle_path,
        "sha256": digest,
        "files": len(records),
        "bytes": os.path.getsize(bundle_path),
        "manifest_sha256": sha256_bytes(manifest_data),
    }


def verify(bundle_path):
    """(manifest or None, problems): every member listed, with its sha256; every listed file present."""
    problems = []
    try:
        archive = tarfile.open(bundle_path, mode="r:gz")
    except (IOError, OSError, tarfile.TarError, EOFError) as exc:
        return None, ["%s is not a readable evidence bundle (tar.gz): %s" % (bundle_path, exc)]
    with archive:
        try:
            members = [m for m in archive.getmembers()]
        except (tarfile.TarError, EOFError, OSError) as exc:
            return None, ["%s is truncated or corrupt: %s" % (bundle_path, exc)]
        by_name = dict((m.name, m) for m in members)
        if MANIFEST not in by_name:
            return None, ["%s has no %s" % (bundle_path, MANIFEST)]
        try:
            manifest = json.loads(archive.extractfile(by_name[MANIFEST]).read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            return None, ["%s: %s is not JSON: %s" % (bundle_path, MANIFEST, exc)]
        if manifest.get("format") != FORMAT:
            problems.append("format is %r, not %s" % (manifest.get("format"), FORMAT))
        listed = dict((r.get("path"), r) for r in manifest.get("files") or [])
        for name, member in sorted(by_name.items()):
            if name == MANIFEST:
                continue
            record = listed.get(name)
            if record is None:
                problems.append("%s is in the bundle but not in the manifest (added)" % name)
                continue
            if not member.isfile():
                problems.append("%s is not a regular file" % name)
                continue
            digest = sha256_bytes(archive.extractfile(member).read())
            if digest != record.get("sha256"):
                problems.append(
                    "%s changed: sha256 %s, the manifest says %s" % (name, digest[:16], str(record.get("sha256"))[:16])
                )
        for name in sorted(set(listed) - set(by_name)):
            problems.append("%s is in the manifest but not in the bundle (removed)" % name)
    return manifest, problems
