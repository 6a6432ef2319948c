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

import hashlib
import io
import json
import os
import stat
import tarfile
import tempfile
import time
import zlib

FORMAT = "ods-fix-evidence/1"
MANIFEST = "manifest.json"


class EvidenceError(Exception):
    """The staging directory or a file in it is not what it must be; the message says why."""


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%03dZ" % (int(time.time() * 1000) % 1000)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def private_dir(path, create=True):
    """Check (and with create, make) a directory only this user can touch: lstat, not a link, this user's,
    written by nobody else. Any local user could have made /var/tmp/ods-fix-evidence first, to read or plant."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise EvidenceError(f"{path} does not exist") from None
        os.makedirs(path, mode=0o700)
        info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise EvidenceError(f"{path} is not a directory (a link, or a file): evidence is not staged there")
    if info.st_uid != os.geteuid():
        raise EvidenceError("%s belongs to uid %d, not this user: evidence is not staged there" % (path, info.st_uid))
    if info.st_mode & 0o022:
        raise EvidenceError(
            f"{path} can be written by others (mode {stat.S_IMODE(info.st_mode):o}): evidence is not staged there"
        )
    return path


def checked_relpath(relpath):
    relpath = (relpath or "").strip("/")
    parts = relpath.split("/")
    if not relpath or relpath == MANIFEST or relpath.startswith(".") or ".." in parts or "" in parts:
        raise ValueError(f"bad evidence path {relpath!r}")
    return relpath


class Staging:
    """A fresh private directory (mkdtemp, 0700, under a checked base) filling up with redacted evidence files.

    Each file is recorded with its hash and time in memory: the records go from capture to seal as the capture's
    result, never through a file in the directory that something else could have changed.
    """

    def __init__(self, root, redact=None, records=None):
        self.root = private_dir(root, create=False)
        self.redact = redact or (lambda text: text)
        self.records = [dict(r) for r in records or []]

    @classmethod
    def create(cls, base, prefix, redact=None):
        return cls(tempfile.mkdtemp(prefix=prefix, dir=private_dir(base)), redact)

    def _open(self, relpath):
        path = os.path.join(self.root, relpath)
        directory = os.path.dirname(path)
        if directory != self.root:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)

    def _record(self, relpath, size, digest, source):
        record = {"path": relpath, "bytes": size, "sha256": digest, "captured_at": now()}
        if source:
            record["source"] = source
        self.records = [r for r in self.records if r["path"] != relpath] + [record]
        return record

    def write(self, relpath, content, source=""):
        """Redact, then write relpath (text or bytes) 0600 and record it; returns the record."""
        with self.stream(relpath, source) as out:
            out.write(content.decode("utf-8", "replace") if isinstance(content, bytes) else content)
        return self.records[-1]

    def stream(self, relpath, source=""):
        """A writer for a file too big to hold (a container's whole log): text in, redacted line by line."""
        return _Stream(self, checked_relpath(relpath), source)


class _Stream:
    def __init__(self, staging, relpath, source):
        self.staging, self.relpath, self.source = staging, relpath, source
        self.handle = os.fdopen(staging._open(relpath), "wb")
        self.digest, self.size, self.pending = hashlib.sha256(), 0, ""

    def write(self, text):
        """Write text; only whole lines are redacted and written, the rest waits for its end."""
        self.pending += text
        cut = self.pending.rfind("\n") + 1
        if cut:
            self._emit(self.pending[:cut])
            self.pending = self.pending[cut:]

    def _emit(self, text):
        data = self.staging.redact(text).encode("utf-8")
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pending:
            self._emit(self.pending)
        self.handle.close()
        self.staging._record(self.relpath, self.size, self.digest.hexdigest(), self.source)
        return False


def _add(archive, name, data, mtime):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = mtime
    archive.addfile(info, io.BytesIO(data))


def _open_member(root, record):
    """A staged file, opened without following a link and only inside the staging directory."""
    relpath = checked_relpath(record.get("path"))
    fd = os.open(os.path.join(root, relpath), os.O_RDONLY | os.O_NOFOLLOW)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise EvidenceError(f"{relpath} is not a regular file")
    return relpath, os.fdopen(fd, "rb")


def seal(staging_root, records, bundle_path, meta):
    """Write the bundle (0600, never over an existing file) from the staged files the records name."""
    root = private_dir(staging_root, create=False)
    records = sorted((dict(r) for r in records), key=lambda r: r["path"])
    manifest = dict(meta)
    manifest.update({"format": FORMAT, "sealed_at": now(), "files": records})
    manifest_data = (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(bundle_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    mtime = int(time.time())
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        _add(archive, MANIFEST, manifest_data, mtime)
        for record in records:
            relpath, handle = _open_member(root, record)
            with handle:
                info = tarfile.TarInfo(relpath)
                info.size, info.mode, info.mtime = os.fstat(handle.fileno()).st_size, 0o600, mtime
                archive.addfile(info, handle)
    return {
        "bundle": bundle_path,
        "sha256": _file_digest(bundle_path),
        "files": len(records),
        "bytes": os.path.getsize(bundle_path),
        "manifest_sha256": sha256_bytes(manifest_data),
    }


# A bundle is text, JSON and logs: gzip makes it 3 to 20 times smaller. One whose members add up to more than this
# many times its size is refused before they are read (a gzip bomb), and no member is ever read whole.
MAX_RATIO = 200
MAX_MANIFEST = 64 << 20


def verify(bundle_path):
    """(manifest or None, problems): every member listed, with its sha256; every listed file present.

    The bundle is read as a stream, once, in blocks: the manifest first (the format puts it there), then each
    member hashed as it comes.
    """
    try:
        size = os.stat(bundle_path).st_size
        archive = tarfile.open(bundle_path, mode="r|gz")
    except (OSError, tarfile.TarError, EOFError) as exc:
        return None, [f"{bundle_path} is not a readable evidence bundle (tar.gz): {exc}"]
    problems, seen, inflated, manifest, listed = [], set(), 0, None, {}
    try:
        with archive:
            for member in archive:
                inflated += member.size
                if inflated > MAX_RATIO * max(size, 1) + (1 << 20):
                    return manifest, [
                        *problems,
                        "%s inflates to more than %d times its size: not a bundle ods-fix wrote (a gzip bomb?)"
                        % (bundle_path, MAX_RATIO),
                    ]
                if manifest is None:
                    manifest, problems = _manifest(bundle_path, archive, member)
                    if manifest is None:
                        return None, problems
                    listed = dict((r["path"], r) for r in manifest["files"])
                    continue
                name = member.name
                seen.add(name)
                record = listed.get(name)
                if record is None:
                    problems.append(f"{name} is in the bundle but not in the manifest (added)")
                elif not member.isfile():
                    problems.append(f"{name} is not a regular file (a link or a directory)")
                else:
                    digest = _digest(archive.extractfile(member))
                    if digest != record.get("sha256"):
                        problems.append(
                            "{} changed: sha256 {}, the manifest says {}".format(
                                name, digest[:16], str(record.get("sha256"))[:16]
                            )
                        )
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        return manifest, [*problems, f"{bundle_path} is truncated or corrupt: {exc}"]
    if manifest is None:
        return None, [f"{bundle_path} has no {MANIFEST}"]
    for name in sorted(set(listed) - seen):
        problems.append(f"{name} is in the manifest but not in the bundle (removed)")
    return manifest, problems


def _digest(handle):
    # Not file_hash's: the CLI loads this file alone (paths.load_module_util), with the standard library only.
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _file_digest(path):
    with open(path, "rb") as handle:
        return _digest(handle)


def _manifest(bundle_path, archive, member):
    """(manifest, problems) from the bundle's first member, or (None, why it is no manifest)."""
    if member.name != MANIFEST:
        return None, [f"{bundle_path} has no {MANIFEST} first: not a bundle ods-fix wrote"]
    if not member.isfile():
        return None, [f"{bundle_path}: {MANIFEST} is not a regular file"]
    if member.size > MAX_MANIFEST:
        return None, ["%s: %s is %d bytes, too big for a manifest" % (bundle_path, MANIFEST, member.size)]
    try:
        manifest = json.loads(archive.extractfile(member).read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return None, [f"{bundle_path}: {MANIFEST} is not JSON: {exc}"]
    if not isinstance(manifest, dict):
        return None, [f"{bundle_path}: {MANIFEST} is not an object but a {type(manifest).__name__}"]
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(r, dict) and isinstance(r.get("path"), str) for r in files):
        return None, [f"{bundle_path}: {MANIFEST}'s files are not a list of records with a path"]
    problems = []
    if manifest.get("format") != FORMAT:
        problems.append("format is {!r}, not {}".format(manifest.get("format"), FORMAT))
    return manifest, problems
