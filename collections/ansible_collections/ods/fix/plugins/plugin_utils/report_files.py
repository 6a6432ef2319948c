# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Write report files on the controller: directories 0700, files 0600."""

import os


def write_files(dest, files):
    """files: [(name, text)]; names must not contain a directory. Returns the paths written."""
    dest = os.path.expanduser(str(dest))
    os.makedirs(dest, mode=0o700, exist_ok=True)
    written = []
    for raw_name, content in files:
        name = str(raw_name)
        if os.path.basename(name) != name or name in (".", ".."):
            raise ValueError(f"file name {name!r} must not contain a directory")
        path = os.path.join(dest, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write((content if isinstance(content, str) else str(content)).encode("utf-8"))
        written.append(path)
    return written
