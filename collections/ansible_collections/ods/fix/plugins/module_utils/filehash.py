# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The SHA-256 of a file, read a megabyte at a time (dumps and bundles are gigabytes).

milvus_io keeps a copy of its own: it runs alone inside the agent API, where the collection cannot be imported.
"""

import hashlib

BLOCK = 1 << 20


def sha256_handle(handle):
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(BLOCK), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path):
    with open(path, "rb") as handle:
        return sha256_handle(handle)
