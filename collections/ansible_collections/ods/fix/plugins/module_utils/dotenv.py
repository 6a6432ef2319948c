# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Read a dotenv file (deploy/.env) the way docker-compose and python-dotenv do."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io


def parse_line(line):
    """(key, value) for a KEY=VALUE line, None for comments, blanks and junk."""
    text = line.strip()
    if not text or text.startswith("#") or "=" not in text:
        return None
    key, _, value = text.partition("=")
    key = key.strip()
    if key.startswith("export "):
        key = key[len("export ") :].strip()
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    elif " #" in value:
        value = value.split(" #", 1)[0].rstrip()
    if not key:
        return None
    return key, value


def parse(text):
    values = {}
    for line in text.splitlines():
        pair = parse_line(line)
        if pair is not None:
            values[pair[0]] = pair[1]
    return values


def read(path):
    """Values of the dotenv file at path; {} when it does not exist."""
    try:
        with io.open(path, "r", encoding="utf-8") as handle:
            return parse(handle.read())
    except (IOError, OSError):
        return {}
