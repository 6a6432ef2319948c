# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The SHA-256 of a file, read a megabyte at a time (dumps and bundles are gigabytes).

Two files keep a copy of their own, for they run alone: milvus_agent inside the agent API, and evidence in the CLI
(``ods-fix incident verify`` loads it from its file, with the standard library only).
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
