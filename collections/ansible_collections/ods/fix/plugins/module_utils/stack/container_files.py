# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Read files from a container and put one back, running or stopped (what `docker cp` does)."""

import io
import tarfile

# The last nginx config that passed `nginx -t`, kept on the target.
GOOD_NAME = "nginx.conf.good"


def read_archive(container, path, limit=None):
    """{member name: bytes or None} of path in the container (running or not), or None when it is absent."""
    try:
        stream, _stat = container.get_archive(path)
    except Exception:  # docker.errors.NotFound: no such path
        return None
    data = b"".join(stream)
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if member.isfile():
                wanted = limit is None or member.name in limit
                found[member.name] = archive.extractfile(member).read() if wanted else None
    return found


def tar_one(name, data):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# The last nginx config that passed `nginx -t` and proxied the API: every file nginx loaded, by its path.
GOOD_SET = "nginx-config.good.tar"


def tar_files(files):
    """A tar of {absolute path: bytes}, members named by their path from / (for put_archive at /)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def untar_files(data):
    """{absolute path: bytes} of a tar made by tar_files."""
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None:
                found["/" + member.name.lstrip("/")] = handle.read()
    return found


def read_files(container, paths):
    """{path: bytes or None} of single files in a container, running or stopped."""
    found = {}
    for path in paths:
        files = read_archive(container, path) or {}
        name = path.rstrip("/").rsplit("/", 1)[-1]
        found[path] = files.get(name)
    return found
