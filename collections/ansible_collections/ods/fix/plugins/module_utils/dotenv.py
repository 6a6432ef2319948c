# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Read a dotenv file (deploy/.env) the way docker-compose and python-dotenv do."""

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}
CONTROL = frozenset(chr(c) for c in range(32)) | {"\x7f"}


def unquote(value):
    """The value of the text after KEY=, as Compose reads it: a quoted value ends at its closing
    quote (a comment may follow), \\ escapes are undone in double quotes, an unquoted one ends at ' #'."""
    if value[:1] == "'":
        end = value.find("'", 1)
        return value[1:end] if end > 0 else value
    if value[:1] == '"':
        out, index = [], 1
        while index < len(value):
            char = value[index]
            if char == "\\" and index + 1 < len(value):
                nxt = value[index + 1]
                out.append(ESCAPES.get(nxt, "\\" + nxt))
                index += 2
                continue
            if char == '"':
                return "".join(out)
            out.append(char)
            index += 1
        return value  # no closing quote: kept as written
    if " #" in value or "\t#" in value:
        value = value.replace("\t#", " #").split(" #", 1)[0]
    return value.rstrip()


def parse_line(line):
    """(key, value) for a KEY=VALUE line, None for comments, blanks and junk."""
    text = line.strip()
    if not text or text.startswith("#") or "=" not in text:
        return None
    key, _unused, value = text.partition("=")
    key = key.strip()
    if key.startswith("export "):
        key = key[len("export ") :].strip()
    if not key:
        return None
    return key, unquote(value.strip())


def check_value(key, value):
    """ValueError for a value no .env line can hold: a newline would add a line (a new KEY=)."""
    bad = sorted({f"{c!r}" for c in value if c in CONTROL})
    if bad:
        raise ValueError("the value of {} holds control characters ({}): refused".format(key, ", ".join(bad)))


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
        with open(path, encoding="utf-8") as handle:
            return parse(handle.read())
    except OSError:
        return {}


def read_entries(path, missing_ok=True):
    """{KEY: (value, line number)} of the dotenv file at path, the last line of a key winning.

    With missing_ok, a file that does not exist reads as {}; otherwise the OSError is raised.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
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
    for key, value in values.items():
        check_value(key, value)
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
            lines[index] = f"{prefix}{key}={render_value(values[key])}{ending}"
            changed.append(key)
    missing = [key for key in values if key not in seen]
    if missing:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.extend(f"{key}={render_value(values[key])}\n" for key in missing)
        changed.extend(missing)
    return "".join(lines), changed


def render_value(value):
    """The value as written after KEY=, read back by unquote() exactly."""
    if any(c in value for c in " #'\""):
        return '"{}"'.format(value.replace("\\", "\\\\").replace('"', '\\"'))
    return value
