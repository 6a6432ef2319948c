"""Build the sandbox images locally: a debootstrap base, then one image per service.

No registry is reachable, so everything starts FROM a Debian base made with
debootstrap and `docker import`. Each image is labelled with a hash of its
build context; an image whose hash matches is not rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyrunner import paths
from pyrunner.errors import OdsFixError
from pyrunner.sandbox import npm_fetch

Log = Callable[[str], None]

BASE_IMAGE = "ods-sandbox/debian:bookworm"
HASH_LABEL = "org.ods-fix.context-hash"
MILVUS_WHEEL = "milvus==2.3.5"
DEBIAN_MIRROR = os.environ.get("ODS_FIX_DEBIAN_MIRROR", "http://deb.debian.org/debian")


@dataclass(frozen=True)
class ImageSpec:
    name: str
    services: tuple[str, ...]  # the services that run it, in either sandbox layout
    extra: str | None = None  # a directory prepared on the host and copied into the context
    base: str = BASE_IMAGE  # what its FROM is: when that changes, it is rebuilt
    shared: tuple[str, ...] = ()  # files or directories of other images' contexts (relative to images/) it uses

    @property
    def tag(self) -> str:
        return f"ods-sandbox/{self.name}:latest"


IMAGES: tuple[ImageSpec, ...] = (
    ImageSpec("mysql", ("mysql",)),
    ImageSpec("redis", ("redis",)),
    ImageSpec("etcd", ("milvus-etcd", "etcd")),
    ImageSpec("minio", ("milvus-minio", "minio"), extra="node_modules"),
    ImageSpec("milvus", ("milvus-standalone", "milvus"), extra="wheels"),
    ImageSpec("api", ("alldata-api", "bisheng-api", "data-api", "agent-api"), extra="wheels"),
    ImageSpec("api-slim", ("data-api", "agent-api"), extra="wheels", base="ods-sandbox/api:latest"),
    ImageSpec("web", ("web",)),
    ImageSpec("web-frontend", ("web-frontend",), shared=("web/build.py", "web/src")),
    ImageSpec("devhost", ("devhost",)),  # not a stack service: a dev machine reached over SSH (molecule/fleet)
)


@dataclass
class BuildResult:
    image: str
    built: bool
    seconds: float


def images_for(services: Iterable[str] | None) -> list[ImageSpec]:
    if services is None:
        return list(IMAGES)
    wanted = set(services)
    return [spec for spec in IMAGES if wanted.intersection(spec.services)]


def _pip_download(args: list[str], dest: Path, log: Log) -> None:
    machine = platform.machine()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--only-binary=:all:",
        "--dest",
        str(dest),
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
        "--abi",
        "abi3",
        "--abi",
        "none",
        "--platform",
        f"manylinux_2_28_{machine}",
        "--platform",
        f"manylinux2014_{machine}",
        "--platform",
        "any",
        *args,
    ]
    log(f"downloading wheels: {' '.join(args)}")
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise OdsFixError(f"cannot download wheels ({' '.join(args)}): {last}")


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:16]


def prepare_extra(spec: ImageSpec, source: Path, cache: Path, log: Log) -> Path | None:
    """Fetch what a context needs from the registries, once; returns the cached directory."""
    if spec.name in ("api", "api-slim"):
        requirements = source / "requirements.txt"
        dest = cache / f"{spec.name}-wheels-{_digest(requirements.read_bytes())}"
        if not (dest / ".complete").exists():
            _pip_download(["-r", str(requirements)], dest, log)
            (dest / ".complete").touch()
        return dest
    if spec.name == "milvus":
        dest = cache / f"milvus-wheel-{_digest(MILVUS_WHEEL.encode())}"
        if not (dest / ".complete").exists():
            _pip_download(["--no-deps", MILVUS_WHEEL], dest, log)
            (dest / ".complete").touch()
        return dest
    if spec.name == "minio":
        lockfile = source / "package-lock.json"
        dest = cache / f"minio-modules-{_digest(lockfile.read_bytes())}"
        if not (dest / ".complete").exists():
            shutil.rmtree(dest, ignore_errors=True)
            log("fetching s3rver's node_modules from the npm registry")
            count = npm_fetch.install(lockfile, dest)
            log(f"{count} npm packages verified")
            (dest / ".complete").touch()
        return dest / "node_modules"
    return None


def _context_files(
    source: Path, extra: Path | None, extra_name: str | None, shared: tuple[str, ...] = ()
) -> list[tuple[str, Path]]:
    files = [(str(p.relative_to(source)), p) for p in sorted(source.rglob("*")) if p.is_file()]
    for item in shared:
        path = source.parent / item
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [(str(p.relative_to(path.parent)), p) for p in found]
    if extra is not None and extra_name is not None:
        files += [
            (f"{extra_name}/{p.relative_to(extra)}", p)
            for p in sorted(extra.rglob("*"))
            if p.is_file() and p.name != ".complete"
        ]
    return files


def _context_hash(files: list[tuple[str, Path]], base_id: str) -> str:
    h = hashlib.sha256(base_id.encode())
    for arcname, path in files:
        h.update(arcname.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def ensure_base(client: Any, log: Log) -> BuildResult:
    start = time.monotonic()
    if client.images.list(name=BASE_IMAGE):
        return BuildResult(BASE_IMAGE, False, 0.0)
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        raise OdsFixError(
            f"the sandbox base image {BASE_IMAGE} is missing; building it needs root and debootstrap "
            "(apt-get install -y debootstrap)"
        )
    paths.cache_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix="rootfs-") as tmp:
        rootfs = Path(tmp) / "bookworm"
        log(f"debootstrap --variant=minbase bookworm ({DEBIAN_MIRROR}), about 30 s")
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), DEBIAN_MIRROR],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            last = (result.stdout + result.stderr).strip().splitlines()[-1:]
            raise OdsFixError(f"debootstrap failed: {' '.join(last)}")
        for trash in ("usr/share/doc", "usr/share/man", "usr/share/info", "var/lib/apt/lists", "var/cache/apt"):
            shutil.rmtree(rootfs / trash, ignore_errors=True)
        (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
        (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        (rootfs / "etc/apt/apt.conf.d/90sandbox").write_text(
            'APT::Install-Recommends "false";\nAcquire::Languages "none";\n'
        )
        repository, tag = BASE_IMAGE.split(":")
        with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
            client.api.import_image_from_stream(tar.stdout, repository=repository, tag=tag)
    log(f"imported {BASE_IMAGE}")
    return BuildResult(BASE_IMAGE, True, time.monotonic() - start)


def build_image(client: Any, spec: ImageSpec, log: Log) -> BuildResult:
    start = time.monotonic()
    source = paths.sandbox_source() / "images" / spec.name
    cache = paths.cache_dir() / "sandbox"
    cache.mkdir(parents=True, exist_ok=True)
    extra = prepare_extra(spec, source, cache, log)
    files = _context_files(source, extra, spec.extra, spec.shared)
    base_id = client.images.get(spec.base).id
    context_hash = _context_hash(files, base_id)
    existing = client.images.list(name=spec.tag)
    if existing and existing[0].labels.get(HASH_LABEL) == context_hash:
        return BuildResult(spec.tag, False, time.monotonic() - start)
    log(f"building {spec.tag}")
    with tempfile.TemporaryFile() as context:
        with tarfile.open(fileobj=context, mode="w") as tar:
            for arcname, path in files:
                tar.add(path, arcname=arcname)
        context.seek(0)
        stream = client.api.build(
            fileobj=context,
            custom_context=True,
            tag=spec.tag,
            rm=True,
            forcerm=True,
            labels={HASH_LABEL: context_hash},
            decode=True,
            pull=False,
        )
        for chunk in stream:
            if "error" in chunk:
                raise OdsFixError(f"building {spec.tag} failed: {chunk['error'].strip()}")
            line = chunk.get("stream", "").rstrip()
            if line.startswith("Step "):
                log(f"{spec.name}: {line}")
    return BuildResult(spec.tag, True, time.monotonic() - start)


def build(client: Any, services: Iterable[str] | None = None, log: Log = lambda _: None) -> list[BuildResult]:
    """Build what the given services need (all when None); cached images are kept."""
    results = [ensure_base(client, log)]
    results += [build_image(client, spec, log) for spec in images_for(services)]
    return results


def missing_images(client: Any, services: Iterable[str] | None = None) -> list[str]:
    needed = [BASE_IMAGE] + [spec.tag for spec in images_for(services)]
    return [tag for tag in needed if not client.images.list(name=tag)]
