"""Install node_modules from a package-lock.json (v2/v3) without npm.

The milvus-minio image needs s3rver's node_modules. A fresh Debian host has no
npm, and npm inside `docker build` cannot reach the registry through the
TLS-intercepting proxy, so the tarballs are fetched here with the host's CA
bundle and checked against the lockfile's integrity hashes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import ssl
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from pyrunner.errors import OdsFixError

REGISTRY = "https://registry.npmjs.org"


def tarball_url(name: str, version: str) -> str:
    basename = name.rsplit("/", 1)[-1]
    return f"{REGISTRY}/{name}/-/{basename}-{version}.tgz"


def verify_integrity(data: bytes, integrity: str) -> bool:
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm, data).digest()
    return base64.b64encode(digest).decode() == expected


def _extract(data: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            parts = PurePosixPath(member.name).parts[1:]  # strip "package/"
            if not parts or ".." in parts or not (member.isfile() or member.isdir()):
                continue
            target = dest.joinpath(*parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
            target.chmod(0o755 if member.mode & 0o111 else 0o644)


def install(lockfile: Path, dest: Path, log: Callable[[str], None] = lambda _: None) -> int:
    """Populate dest/node_modules from lockfile; returns the number of packages."""
    lock = json.loads(lockfile.read_text())
    context = ssl.create_default_context()
    count = 0
    for path, meta in lock.get("packages", {}).items():
        if not path or meta.get("dev") or meta.get("link"):
            continue
        name = meta.get("name") or path.rsplit("node_modules/", 1)[-1]
        url = meta.get("resolved") or tarball_url(name, meta["version"])
        try:
            with urllib.request.urlopen(url, timeout=60, context=context) as response:
                data = response.read()
        except OSError as exc:
            raise OdsFixError(f"cannot download {name}@{meta['version']} from the npm registry: {exc}") from exc
        if not verify_integrity(data, meta["integrity"]):
            raise OdsFixError(f"integrity check failed for {name}@{meta['version']} ({url})")
        _extract(data, dest / path)
        count += 1
        log(f"{name}@{meta['version']}")
    return count
