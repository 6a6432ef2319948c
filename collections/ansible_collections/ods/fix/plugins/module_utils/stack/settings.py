# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""A service's settings: what it runs with, what its files give it, and where a change must be written.

The profile says where each setting comes from (discovery.setting_origins): a settings file the
service mounts and reads at start (the manual's deploy/.env), an env_file, a line of a compose file, or a
variable of the project's .env. A container's environment is fixed when it is created, so a change
written to any of the last three is picked up only by recreating the container with the same files,
project and profiles; a mounted settings file is read again on a restart. Values are read here, on the
target, and leave a module only redacted.
"""

import os
import re

from ansible_collections.ods.fix.plugins.module_utils import safe_file
from ansible_collections.ods.fix.plugins.module_utils.stack import compose_files, dotenv

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PROJECTS = {}


class SettingsError(Exception):
    """A change that cannot be written as asked: one line."""


def check_value(key, value):
    """A value must not carry a newline, a tab or another control character: it would add a line to the file."""
    if CONTROL.search(value or ""):
        raise SettingsError(f"the value for {key} holds a control character (newline, tab, ...): refused")


def project(profile):
    """The compose project behind a profile, read once per module run."""
    key = (tuple(profile["config_files"]), profile["working_dir"], profile.get("dotenv") or "")
    if key not in _PROJECTS:
        _PROJECTS[key] = compose_files.load_project(profile["config_files"], profile["working_dir"], key[2])
    return _PROJECTS[key]


def forget():
    """After a file was written: read it again next time."""
    _PROJECTS.clear()


def origins(profile, service):
    return ((profile["services"].get(service) or {}).get("settings")) or {}


def configured(profile, service):
    """{KEY: value} the service's files give it now: what it starts with once restarted or recreated."""
    values = {}
    spec = project(profile)["services"].get(service) or {}
    for key, origin in origins(profile, service).items():
        if origin["kind"] == "spec":
            continue
        if origin["kind"] == "mounted":
            values[key] = dotenv.read(origin["file"]).get(key)
        else:
            values[key] = ((spec.get("env") or {}).get(key) or {}).get("value")
    return values


def container_env(container):
    env = ((container.attrs.get("Config") or {}).get("Env") or []) if container is not None else []
    return dict(item.split("=", 1) for item in env if "=" in item)


def current(profile, service, container):
    """{KEY: value} the service runs with now: its container's environment, and the settings file it mounts."""
    values = configured(profile, service)
    env = container_env(container)
    for key, origin in origins(profile, service).items():
        if origin["kind"] not in ("mounted", "spec") and container is not None:
            values[key] = env.get(key)
    for key, value in env.items():
        values.setdefault(key, value)
    return values


def settings_files(profile):
    """Every file that holds settings of the stack: mounted settings files, env_files, the project's .env."""
    files = set()
    for entry in profile["services"].values():
        for origin in (entry.get("settings") or {}).values():
            if origin["kind"] in ("mounted", "env_file") and origin.get("file"):
                files.add(origin["file"])
    if profile.get("dotenv"):
        files.add(profile["dotenv"])
    return sorted(files)


def all_values(profile):
    """{KEY: value} of every settings file (for redaction: what a secret looks like, wherever it is)."""
    values = {}
    for path in settings_files(profile):
        values.update(dotenv.read(path))
    return values


def readers(profile, key, services=None):
    """{service: origin} of the services that read KEY (or, through ${KEY}, the .env variable KEY)."""
    found = {}
    for service in services or sorted(profile["services"]):
        for name, origin in origins(profile, service).items():
            if name == key or key in (origin.get("vars") or []):
                found[service] = origin
                break
    return found


def plan(profile, values, services=None, edit_compose=False):
    """What to write so that `services` (default: every reader) get each KEY=value.

    Returns {"edits": [{file, name, kind, line, key}], "apply": {service: "restart"|"recreate"}, "left": [str]}.
    A value written inline in a compose file is edited only with edit_compose; otherwise the line to change
    is in "left". A value built from several variables is never rewritten: its variables are.
    """
    edits, apply, left = {}, {}, []
    for key, value in sorted(values.items()):
        check_value(key, value)
        found = readers(profile, key, services)
        if not found:
            left.append("no service of project {} reads {}: nothing to set".format(profile["project"], key))
        for service, origin in sorted(found.items()):
            target = _target(profile, service, key, origin, edit_compose)
            if isinstance(target, str):
                left.append(target)
                continue
            edits.setdefault((target["file"], target["name"]), target)
            target.setdefault("value", value)
            apply[service] = "restart" if origin["kind"] == "mounted" else "recreate"
    return {"edits": list(edits.values()), "apply": apply, "left": left}


def _target(profile, service, key, origin, edit_compose):
    kind = origin["kind"]
    if kind == "spec":  # its command or healthcheck interpolates the .env variable
        var = origin["vars"][0]
        return {"file": _dotenv_path(profile), "name": var, "kind": "dotenv", "line": None, "key": key}
    if kind in ("mounted", "env_file"):
        return {"file": origin["file"], "name": key, "kind": "dotenv", "line": origin["line"], "key": key}
    if kind == "interpolated":
        variables = origin.get("vars") or []
        if key in variables:
            var = key  # the .env variable itself, read here through ${KEY}
        elif origin.get("whole"):
            var = variables[0]  # KEY: ${VAR}: writing VAR writes KEY
        else:
            return "{}: {} is built from {} at {}:{}: change it there".format(
                service,
                key,
                ", ".join(f"${{{v}}}" for v in variables),
                origin["compose"],
                origin["compose_line"],
            )
        return {"file": _dotenv_path(profile), "name": var, "kind": "dotenv", "line": origin.get("line"), "key": key}
    if not edit_compose:
        return "{}: {} is written in {}:{}: change it there, or run again with --edit-compose".format(
            service,
            key,
            origin["file"],
            origin["line"],
        )
    return {"file": origin["file"], "name": key, "kind": "compose", "line": origin["line"], "key": key}


def _dotenv_path(profile):
    return profile.get("dotenv") or os.path.join(profile["working_dir"], ".env")


def pending(edits):
    """The edits whose file does not hold that value yet."""
    todo = []
    for edit in edits:
        if edit["kind"] == "dotenv":
            if dotenv.read(edit["file"]).get(edit["name"]) != edit["value"]:
                todo.append(edit)
        elif compose_line_value(edit["file"], edit["line"]) != edit["value"]:
            todo.append(edit)
    return todo


def write(edits, keep_backups=10, backup_dir=None):
    """Write the edits, a file at a time: backup (0600), then an atomic replace keeping owner and mode.

    Returns [{file, backup, names}]. A dotenv file that does not exist yet is created 0600.
    """
    by_file = {}
    for edit in edits:
        by_file.setdefault((edit["file"], edit["kind"]), []).append(edit)
    written = []
    for (path, kind), items in sorted(by_file.items()):
        exists = os.path.isfile(path)
        text = _read(path) if exists else ""
        if kind == "dotenv":
            new_text, _changed = dotenv.set_values(text, dict((e["name"], e["value"]) for e in items))
        else:
            new_text = text
            for item in items:
                new_text = set_compose_line(new_text, item["line"], item["name"], item["value"], path)
        backup = safe_file.backup(path, keep_backups, backup_dir) if exists else None
        safe_file.replace(path, new_text)  # a new file is made 0600
        written.append({"file": path, "backup": backup, "names": sorted(e["name"] for e in items)})
    forget()
    return written


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


ENV_LINE = re.compile(
    r"^(?P<head>\s*(?:-\s*)?(?P<quote>['\"]?)(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>\s*[:=]\s*))(?P<value>.*?)(?P<tail>\s+#.*)?$"
)


def compose_line_value(path, line):
    """The literal value written on a compose file's environment line (quotes removed), or None."""
    lines = _read(path).splitlines()
    if not line or line > len(lines):
        return None
    match = ENV_LINE.match(lines[line - 1])
    if match is None:
        return None
    value = match.group("value").rstrip(match.group("quote") or None) if match.group("quote") else match.group("value")
    return _unquote(value.strip())


def _unquote(value):
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def set_compose_line(text, line, key, value, path):
    """text with the environment entry on `line` set to value; its indentation, key, quotes style and comment kept."""
    lines = text.splitlines(True)
    match = ENV_LINE.match(lines[line - 1].rstrip("\n")) if 0 < line <= len(lines) else None
    if match is None or match.group("key") != key:
        raise SettingsError(f"{path}:{line} is not the line of {key} any more: not edited")
    old = match.group("value").strip()
    plain_number = re.match(r"^[0-9]+$", value) and re.match(r"^[0-9]+$", old)  # 19531 -> 19530 stays a number
    needs = _needs_quotes(value) and not plain_number
    quoted = (
        '"{}"'.format(value.replace("\\", "\\\\").replace('"', '\\"')) if needs or (old[:1] in "'\"" and old) else value
    )
    if match.group("quote"):  # `- "KEY=value"`: the whole item is quoted
        quoted = value
    ending = "\n" if lines[line - 1].endswith("\n") else ""
    closing = match.group("quote") or ""
    lines[line - 1] = "{}{}{}{}{}".format(match.group("head"), quoted, closing, match.group("tail") or "", ending)
    return "".join(lines)


def _needs_quotes(value):
    return (
        value == ""
        or bool(re.search(r"[:#{}\[\],&*?|<>=!%@`'\"\s]", value))
        or value.lower() in ("true", "false", "yes", "no", "on", "off", "null", "~")
        or bool(re.match(r"^[0-9.+-]", value))
    )
