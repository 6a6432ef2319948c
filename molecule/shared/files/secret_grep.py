"""Which secret values appear in any file under the given paths, in any form (names only, never values).

usage: secret_grep.py [--env FILE ...] [--values FILE ...] [--exclude PART ...] PATH [PATH ...]
--values reads a JSON object, name to value (canaries whose values hold what no .env line could).
Each value is looked for as it is, JSON-escaped (ASCII and not), URL-encoded (both ways) and base64 (standard and
URL-safe, padded or not).
--exclude leaves out files whose name holds PART: the settings file's own backups hold its secrets by design (0600,
outside the project, for a rollback).
A secret is the value of a key whose name says so (PASSWORD, SECRET, KEY, TOKEN, CANARY), 8 characters or more.
Prints {"secrets": N, "files": M, "hits": [{"file": ..., "key": ...}]}; gzip and tar members are read too.
"""

import argparse
import base64
import gzip
import io
import json
import os
import re
import tarfile
from urllib.parse import quote, quote_plus

SECRET_NAME = re.compile(r"PASS|SECRET|KEY|TOKEN|CANARY", re.IGNORECASE)


def env_secrets(path):
    found = {}
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                value = value.strip().strip("'\"")
                if SECRET_NAME.search(key) and len(value) >= 8:
                    found[value] = key.strip()
    return found


def forms(value):
    """The bytes a value takes once serialised or encoded, itself first."""
    raw = value.encode()
    found = [raw]
    for text in (
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
    ):
        found.append(text.encode())
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        found.extend([encode(raw), encode(raw).rstrip(b"=")])
    return list(dict.fromkeys(found))


def blobs(path):
    with open(path, "rb") as handle:
        data = handle.read()
    yield path, data
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return
        yield path + " (gunzipped)", data
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if member.isfile():
                    yield f"{path}:{member.name}", archive.extractfile(member).read()
    except tarfile.TarError:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--values", action="append", default=[])
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("paths", nargs="+")
    args = parser.parse_intermixed_args()  # --exclude may come after the paths
    secrets = {}
    for path in args.env:
        secrets.update(env_secrets(path))
    for path in args.values:
        with open(path, encoding="utf-8") as handle:
            secrets.update((value, key) for key, value in json.load(handle).items())
    looked_for = dict((value, forms(value)) for value in secrets)
    hits, count = [], 0
    for root in args.paths:
        walk = [(root, [], [""])] if os.path.isfile(root) else os.walk(root)
        for directory, _, files in walk:
            for name in files:
                path = os.path.join(directory, name) if name else directory
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                if any(part in os.path.basename(path) for part in args.exclude):
                    continue
                count += 1
                for label, data in blobs(path):
                    for value, key in secrets.items():
                        if any(form in data for form in looked_for[value]):
                            hits.append({"file": label, "key": key})
    print(json.dumps({"secrets": len(secrets), "files": count, "hits": hits}))


if __name__ == "__main__":
    main()
