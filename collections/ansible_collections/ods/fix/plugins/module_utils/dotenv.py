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


def read_entries(path, missing_ok=True):
    """{KEY: (value, line number)} of the dotenv file at path, the last line of a key winning.

    With missing_ok, a file that does not exist reads as {}; otherwise the OSError is raised.
    """
    try:
        with io.open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except (IOError, OSError):
        if missing_ok:
            return {}
        raise
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        pair = parse_line(line)
        if pair is not None:
            entries[pair[0]] = (pair[1], number)
    return entries


def set_values(text, values):
    """(new_text, changed_keys): text with each KEY=value set in place, comments and order kept.

    A key that is not there yet is appended at the end. Values are written
    unquoted unless they hold a space, a quote or a #.
    """
    lines = text.splitlines(True)
    changed, seen = [], set()
    for index, line in enumerate(lines):
        pair = parse_line(line)
        if pair is None or pair[0] not in values:
            continue
        key = pair[0]
        seen.add(key)
        if pair[1] != values[key]:
            ending = "\n" if line.endswith("\n") else ""
            prefix = "export " if line.lstrip().startswith("export ") else ""
            lines[index] = "%s%s=%s%s" % (prefix, key, render_value(values[key]), ending)
            changed.append(key)
    missing = [key for key in values if key not in seen]
    if missing:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.extend("%s=%s\n" % (key, render_value(values[key])) for key in missing)
        changed.extend(missing)
    return "".join(lines), changed


def render_value(value):
    if any(c in value for c in " \t#'\""):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    return value
