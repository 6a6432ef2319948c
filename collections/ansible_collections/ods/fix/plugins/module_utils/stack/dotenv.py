# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Read a dotenv file (deploy/.env) as Compose v2 reads it, and change one value in place, keeping the rest.

The grammar is Compose's own (compose-go's dotenv parser; checked against Compose 2.40's `config`):
- `KEY=value`, `export KEY=value`, `KEY: value`; blank lines and `#` lines are skipped;
- an unquoted value ends at the line's end, or at a `#` after whitespace (an inline comment), and is trimmed;
- a single- or double-quoted value ends at its closing quote and may span lines (a PEM key); what follows the
  quote on its line is not part of it;
- in double quotes \\n \\r \\t \\\\ \\" \\$ are escapes; in single quotes only \\'; an unclosed quote is an error
  (Compose refuses the file: DotenvError here).
Values are read as written: ${VAR} references are not expanded (what ods-fix changes is the text).

Every entry keeps where its value is in the text, so set_values() rewrites that span only, in the quoting it
had: the file is otherwise written back byte for byte.
"""

import re

DOUBLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$"}
CONTROL = frozenset(chr(c) for c in range(32)) | {"\x7f"}
KEY = re.compile(r"[A-Za-z0-9_.]+")
SPACE = " \t\v\f\r"


class DotenvError(ValueError):
    """The file is not one Compose can read; the message names the line."""


class Entry:
    """One KEY=value of the file: its value, and where the whole entry and its raw value are in the text."""

    __slots__ = ("end", "key", "line", "quote", "raw_end", "raw_start", "spans", "start", "value")

    def __init__(self, key, value, line, start, raw_start, raw_end, end, quote, spans=False):
        self.key, self.value, self.line = key, value, line
        self.start, self.raw_start, self.raw_end, self.end, self.quote = start, raw_start, raw_end, end, quote
        self.spans = spans  # its quotes hold several lines of the file

    @property
    def multiline(self):
        """The value holds several lines (a PEM key), written over several lines or with \\n escapes."""
        return "\n" in self.value


def entries(text):
    """Every KEY=value of the text, in order; DotenvError for what Compose would refuse."""
    found, pos, size = [], 0, len(text)
    while pos < size:
        line_end = text.find("\n", pos)
        line_end = size if line_end < 0 else line_end
        body = text[pos:line_end]
        stripped = body.strip(SPACE)
        if not stripped or stripped.startswith("#"):
            pos = line_end + 1
            continue
        start = pos + len(body) - len(body.lstrip(SPACE))
        entry, pos = _entry(text, start, text.count("\n", 0, start) + 1)
        if entry is not None:
            found.append(entry)
    return found


def _entry(text, start, line):
    """(Entry or None, where the next entry may start) for the entry at start."""
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    head = text[start:line_end]
    rest = head[len("export") :] if head.startswith("export") and head[6:7] in tuple(SPACE) else head
    match = re.match(r"[ \t]*([^=:\s]*)[ \t]*([=:]?)", rest)
    key, sign = match.group(1), match.group(2)
    if not sign:  # KEY alone: Compose takes it from the environment; nothing of it is in the file
        if key and not KEY.fullmatch(key):
            raise DotenvError(f"line {line}: {key[:40]!r} is not a variable name")
        return None, line_end + 1
    if not KEY.fullmatch(key):
        raise DotenvError(f"line {line}: {key[:40]!r} is not a variable name")
    value_at = start + (len(head) - len(rest)) + match.end()
    while value_at < line_end and text[value_at] in SPACE:
        value_at += 1
    quote = text[value_at : value_at + 1]
    if quote in ("'", '"'):
        close = _closing(text, value_at, quote)
        if close < 0:
            raise DotenvError(f"line {line}: the value of {key} opens a {quote} quote that is never closed")
        raw = text[value_at + 1 : close]
        value = _unescape(raw, quote)
        after = text.find("\n", close)
        after = len(text) if after < 0 else after
        return Entry(key, value, line, start, value_at, close + 1, after, quote, "\n" in raw), after + 1
    raw = text[value_at:line_end]
    comment = re.search(r"[ \t]#", raw)
    if comment:
        raw = raw[: comment.start()]
    raw = raw.rstrip(SPACE)
    return Entry(key, raw, line, start, value_at, value_at + len(raw), line_end, ""), line_end + 1


def _closing(text, opening, quote):
    """Where the quote opened at `opening` closes (an escaped quote does not), or -1."""
    index = opening + 1
    while True:
        index = text.find(quote, index)
        if index < 0:
            return -1
        backslashes = 0
        while text[index - 1 - backslashes] == "\\" and index - 1 - backslashes > opening:
            backslashes += 1
        if backslashes % 2 == 0:
            return index
        index += 1


def _unescape(raw, quote):
    if quote == "'":
        return raw.replace("\\'", "'")
    out, index = [], 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw) and raw[index + 1] in DOUBLE_ESCAPES:
            out.append(DOUBLE_ESCAPES[raw[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse(text):
    """{KEY: value}, the last entry of a key winning; DotenvError for a file Compose refuses."""
    return {entry.key: entry.value for entry in entries(text)}


def read(path):
    """Values of the dotenv file at path; {} when it does not exist. DotenvError when Compose could not read it."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except OSError:
        return {}
    return parse(text)


def read_entries(path, missing_ok=True):
    """{KEY: (value, line number)} of the dotenv file at path, the last entry of a key winning.

    With missing_ok, a file that does not exist reads as {}; otherwise the OSError is raised.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except OSError:
        if missing_ok:
            return {}
        raise
    return {entry.key: (entry.value, entry.line) for entry in entries(text)}


def multiline_keys(text):
    """The keys whose values span lines (a PEM key, a certificate)."""
    return sorted({entry.key for entry in entries(text) if entry.multiline})


def check_value(key, value, multiline=False):
    """ValueError for a value a setting must not hold: a control character, or a new line (it could pass for
    another KEY= to a reader that does not quote) unless it replaces a value of several lines."""
    bad = sorted({f"{c!r}" for c in value if c in CONTROL and not (multiline and c == "\n")})
    if bad:
        raise ValueError("the value of {} holds control characters ({}): refused".format(key, ", ".join(bad)))


def set_values(text, values):
    """(new_text, changed_keys): each KEY's value rewritten where the file's last entry of it has it, in its
    quoting; every other byte as it was. A key that is not there yet is appended at the end."""
    last = {entry.key: entry for entry in entries(text)}
    for key, value in values.items():
        check_value(key, value, multiline=key in last and last[key].multiline)
    edits, changed = [], []
    for key, value in values.items():
        entry = last.get(key)
        if entry is None or entry.value == value:
            continue
        edits.append((entry.raw_start, entry.raw_end, render_value(value, entry.quote, entry.spans)))
        changed.append(key)
    for start, end, rendered in sorted(edits, reverse=True):
        text = text[:start] + rendered + text[end:]
    missing = [key for key in values if key not in last]
    if missing:
        if text and not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{key}={render_value(values[key])}\n" for key in missing)
        changed.extend(missing)
    return text, changed


def render_value(value, quote="", multiline=False):
    """The value as written after KEY=, in the entry's quoting where it can hold it; parse() reads it back exactly.

    Unquoted holds no space, no quote first, no #, no $ (Compose expands it) and no newline;
    single quotes hold anything but a backslash before a quote; double quotes hold anything, escaped. A new
    line stays a line in a value that had lines (a PEM key), and is \\n otherwise.
    """
    plain = value[:1] not in ("'", '"') and not any(c in value for c in " \t\n$#")
    if quote == "" and plain:
        return value
    if quote == "'" and "\\'" not in value and not value.endswith("\\"):
        return "'{}'".format(value.replace("'", "\\'"))
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\t", "\\t")
    escaped = escaped.replace("\r", "\\r")
    if not multiline:
        escaped = escaped.replace("\n", "\\n")
    return f'"{escaped}"'
