# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Read files from a container and put one back, running or stopped (what `docker cp` does)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
