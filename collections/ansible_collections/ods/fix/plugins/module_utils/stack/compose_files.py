# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Compose files read as Compose reads them, keeping where each setting is written.

The files (``-f base -f overlay ...``) are interpolated from the project's ``.env``
(``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?message}``,
``${VAR?message}``, ``$VAR``, ``$$``), merged in order (mappings by key,
``ports``/``expose``/``dns`` concatenated, the rest replaced) and their
``env_file:`` entries read. Each environment key keeps its origin: the
compose file and line where it is written, the ``.env`` line a variable came
from, or the ``env_file`` line. Values stay inside the module; only origins
leave it.

The shell's environment is not read: a module runs in its own process, not in
the shell that ran ``docker compose up``. What a container really got is its
own environment, which the caller compares with these files.
"""

import contextlib
import os
import re

from ansible_collections.ods.fix.plugins.module_utils.stack import dotenv

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the targets have python3-yaml
    HAS_YAML = False

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OPERATORS = (":-", ":?", ":+", "-", "?", "+")
CONCATENATED = ("ports", "expose", "dns", "dns_search", "tmpfs", "external_links", "env_file")
BY_KEY = ("environment", "labels", "extra_hosts")


class ComposeFileError(Exception):
    """A compose file that cannot be used as it is: the message names the file (and the variable)."""


class LineDict(dict):
    """A YAML mapping that remembers the line of each of its keys."""

    lines = None


class LineList(list):
    """A YAML sequence that remembers the line of each of its items."""

    lines = None


if HAS_YAML:

    class _Loader(yaml.SafeLoader):
        pass

    def _construct_map(loader, node):
        data = LineDict()
        data.lines = {}
        yield data
        loader.flatten_mapping(node)  # resolves << merge keys; merged items keep their own lines
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            data[key] = loader.construct_object(value_node, deep=True)
            data.lines[key] = key_node.start_mark.line + 1

    def _construct_seq(loader, node):
        data = LineList()
        data.lines = []
        yield data
        for item in node.value:
            data.append(loader.construct_object(item, deep=True))
            data.lines.append(item.start_mark.line + 1)

    _Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
    _Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def read_yaml(path):
    if not HAS_YAML:
        raise ComposeFileError("the Python 'yaml' library is missing on the target (apt-get install python3-yaml)")
    try:
        with open(path, "rb") as handle:
            data = yaml.load(handle, Loader=_Loader)
    except OSError as exc:
        raise ComposeFileError(f"cannot read compose file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = " line %d" % (where.line + 1) if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ComposeFileError(f"compose file {path} is not valid YAML ({problem}{line})") from None
    if data is None:
        return LineDict()
    if not isinstance(data, dict):
        raise ComposeFileError(f"compose file {path} is not a mapping of services")
    return data


class Interpolator:
    """Compose's ${...} substitution from one set of variables, noting which variables each value used."""

    def __init__(self, variables, where):
        self.variables = variables  # name -> value
        self.where = where  # a file name, for error messages

    def substitute(self, text, used=None):
        """text with $$, $VAR and ${VAR[op arg]} replaced; a default or message may hold ${...} itself."""
        out, i = [], 0
        while i < len(text):
            char = text[i]
            if char != "$" or i + 1 == len(text):
                out.append(char)
                i += 1
                continue
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = self._closing(text, i + 2)
                out.append(self._expand(text[i + 2 : end], used))
                i = end + 1
            else:
                match = NAME.match(text, i + 1)
                if match is None:
                    out.append(char)
                    i += 1
                    continue
                out.append(self._expand(match.group(0), used))
                i = match.end()
        return "".join(out)

    def _closing(self, text, start):
        depth = 1
        for index in range(start, len(text)):
            if text[index] == "{":
                depth += 1
            elif text[index] == "}":
                depth -= 1
                if depth == 0:
                    return index
        raise ComposeFileError(f"{self.where}: ${{ without its closing }} in {text!r}")

    def _expand(self, expression, used):
        match = NAME.match(expression)
        if match is None:
            raise ComposeFileError(f"{self.where}: invalid interpolation ${{{expression}}}")
        name, rest = match.group(0), expression[match.end() :]
        op = next((o for o in OPERATORS if rest.startswith(o)), None) if rest else ""
        if op is None:
            raise ComposeFileError(f"{self.where}: invalid interpolation ${{{expression}}}")
        arg = rest[len(op) :]
        if used is not None:
            used.append(name)
        value, is_set = self.variables.get(name), name in self.variables
        if op in (":-", "-"):
            missing = not value if op == ":-" else not is_set
            return self.substitute(arg, used) if missing else value
        if op in (":?", "?"):
            if (not value) if op == ":?" else (not is_set):
                raise ComposeFileError(
                    "{}: required variable {} is missing a value{}".format(self.where, name, ": " + arg if arg else "")
                )
            return value
        if op in (":+", "+"):
            return self.substitute(arg, used) if (value if op == ":+" else is_set) else ""
        return value or ""

    def walk(self, data):
        """A copy of data with every string interpolated (keys kept; line maps kept)."""
        if isinstance(data, LineDict):
            out = LineDict((k, self.walk(v)) for k, v in data.items())
            out.lines = data.lines
            return out
        if isinstance(data, dict):
            return dict((k, self.walk(v)) for k, v in data.items())
        if isinstance(data, LineList):
            out = LineList(self.walk(v) for v in data)
            out.lines = data.lines
            return out
        if isinstance(data, list):
            return [self.walk(v) for v in data]
        if isinstance(data, str):
            return self.substitute(data)
        return data


def scalar_text(value):
    """A YAML scalar as Compose passes it to a container (true -> "true", 3306 -> "3306"); None stays None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def env_entries(raw_env, interpolator, path):
    """{KEY: origin} of a service's environment: as a mapping or a KEY=value list."""
    entries = {}
    if isinstance(raw_env, dict):
        items = [(key, raw_env[key], (raw_env.lines or {}).get(key)) for key in raw_env]
    elif isinstance(raw_env, list):
        items = []
        for index, item in enumerate(raw_env):
            key, sep, value = str(item).partition("=")
            items.append((key, value if sep else None, (raw_env.lines or [None] * len(raw_env))[index]))
    else:
        return entries
    for key, given, line in items:
        used = []
        raw = scalar_text(given)
        value = None if raw is None else interpolator.substitute(raw, used)  # `KEY` alone: from the shell
        entries[str(key)] = {"kind": "inline", "file": path, "line": line, "raw": raw, "value": value, "vars": used}
    return entries


def env_file_entries(paths):
    """{KEY: origin} of a service's env_file entries, later files winning; a missing file is an error, as in Compose."""
    entries = {}
    for path in paths:
        try:
            lines = dotenv.read_entries(path, missing_ok=False)
        except OSError as exc:
            raise ComposeFileError(f"env_file {path} cannot be read: {exc.strerror or exc}") from None
        except dotenv.DotenvError as exc:  # Compose itself refuses it
            raise ComposeFileError(f"env_file {path} cannot be read: {exc}") from None
        for key, (value, line) in lines.items():
            entries[key] = {"kind": "env_file", "file": path, "line": line, "value": value, "vars": []}
    return entries


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _resolve(base_dir, path):
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(str(path))))


def normalize_service(name, spec, interpolator, path, project_dir):
    """One file's view of a service: the plain fields plus `env` (origins) and `lines` (where each field is)."""
    spec = spec if isinstance(spec, dict) else LineDict()
    plain = interpolator.walk(spec)
    env_files = []
    for item in _as_list(plain.get("env_file")):
        target = item.get("path") if isinstance(item, dict) else item
        if target:
            env_files.append(_resolve(project_dir, target))
    service = dict((k, v) for k, v in plain.items() if k not in ("environment", "env_file"))
    service["env_file"] = env_files
    # Variables the rest of its entry uses (its command, healthcheck, ...): it reads them too, when it is created.
    field_vars = {}
    for key, value in spec.items():
        if key != "environment":
            found = []
            _collect_vars(value, interpolator, found)
            if found:
                field_vars[str(key)] = sorted(set(found))
    service["field_vars"] = field_vars
    service["spec_vars"] = sorted(set(var for found in field_vars.values() for var in found))
    service["env"] = env_entries(spec.get("environment"), interpolator, path)
    service["lines"] = dict(((k, (path, line)) for k, line in (getattr(spec, "lines", None) or {}).items()))
    service["lines"]["_service"] = (path, None)
    return service


def _collect_vars(value, interpolator, found):
    if isinstance(value, dict):
        for item in value.values():
            _collect_vars(item, interpolator, found)
    elif isinstance(value, list):
        for item in value:
            _collect_vars(item, interpolator, found)
    elif isinstance(value, str) and "$" in value:
        with contextlib.suppress(ComposeFileError):  # an unset ${VAR:?} is reported where it matters, not here
            interpolator.substitute(value, found)


def merge_service(base, override):
    merged = dict(base)
    for key, value in override.items():
        if key == "env":
            env = dict(base.get("env") or {})
            env.update(value)
            merged["env"] = env
        elif key == "spec_vars":
            merged[key] = sorted(set(base.get(key) or []) | set(value))
        elif key == "field_vars":
            fields = dict(base.get(key) or {})
            for field, found in value.items():
                fields[field] = sorted(set(fields.get(field) or []) | set(found))
            merged[key] = fields
        elif key == "lines":
            lines = dict(base.get("lines") or {})
            lines.update(value)
            merged["lines"] = lines
        elif key in CONCATENATED:
            merged[key] = _as_list(base.get(key)) + [v for v in _as_list(value) if v not in _as_list(base.get(key))]
        elif key in BY_KEY or (isinstance(value, dict) and isinstance(base.get(key), dict)):
            combined = dict(base.get(key) or {}) if isinstance(base.get(key), dict) else {}
            combined.update(value if isinstance(value, dict) else {})
            merged[key] = combined
        else:
            merged[key] = value
    return merged


def project_dotenv(working_dir, explicit=""):
    """(path, {VAR: (value, line)}) of the project's .env (Compose reads it from the project directory)."""
    path = explicit or os.path.join(working_dir, ".env")
    if not os.path.isfile(path):
        return None, {}
    try:
        return path, dotenv.read_entries(path, missing_ok=False)
    except OSError as exc:
        raise ComposeFileError(f"the project's {path} cannot be read: {exc.strerror or exc}") from None
    except dotenv.DotenvError as exc:  # Compose itself refuses it: every Compose command fails
        raise ComposeFileError(f"the project's {path} cannot be read, by Compose either: {exc}") from None


def load_project(files, working_dir, dotenv_path="", environ=None):
    """The merged project: {files, dotenv, variables (VAR -> line), services: {name: service}, networks, volumes}.

    With environ (the environment Compose would run in), its variables win over .env's, as in Compose.
    """
    if not files:
        raise ComposeFileError("no compose file given")
    env_path, entries = project_dotenv(working_dir, dotenv_path)
    variables = dict((name, value) for name, (value, _line) in entries.items())
    variables.update(environ or {})
    services = {}
    networks, volumes = {}, {}
    network_lines = {}  # network key -> (file, line) of its last declaration: the one Compose goes by
    for path in files:
        data = read_yaml(path)
        interpolator = Interpolator(variables, path)
        raw_services = data.get("services") or {}
        if not isinstance(raw_services, dict):
            raise ComposeFileError(f"compose file {path}: `services` is not a mapping")
        for name, spec in raw_services.items():
            service = normalize_service(str(name), spec, interpolator, path, working_dir)
            services[str(name)] = merge_service(services[str(name)], service) if str(name) in services else service
        for key, target in (("networks", networks), ("volumes", volumes)):
            section = interpolator.walk(data.get(key) or {})
            if isinstance(section, dict):
                for item, value in section.items():
                    target[str(item)] = value if isinstance(value, dict) else {}
                    if key == "networks":
                        network_lines[str(item)] = (path, (getattr(section, "lines", None) or {}).get(item))
    for name, service in services.items():
        file_env = env_file_entries(service.get("env_file") or [])
        file_env.update(service["env"])  # environment: wins over env_file, as in Compose
        for origin in file_env.values():
            origin["var_lines"] = dict((var, entries[var][1]) for var in origin.get("vars") or [] if var in entries)
        service["env"] = file_env
        service["name"] = name
    return {
        "files": list(files),
        "working_dir": working_dir,
        "dotenv": env_path,
        "variables": dict((name, line) for name, (_value, line) in entries.items()),
        "variable_values": variables,
        "services": services,
        "networks": networks,
        "network_lines": network_lines,
        "volumes": volumes,
    }


def published_ports(service):
    """[{target, published, host_ip}] of a service's `ports:` (short and long syntax)."""
    found = []
    for item in _as_list(service.get("ports")):
        if isinstance(item, dict):
            target = item.get("target")
            found.append(
                {"target": _int(target), "published": _int(item.get("published")), "host_ip": item.get("host_ip")}
            )
            continue
        text = str(item).split("/", 1)[0]
        parts = text.rsplit(":", 2) if text.count(":") <= 2 else [text]
        target = _int(parts[-1])
        published = _int(parts[-2]) if len(parts) >= 2 else None
        host_ip = parts[0] if len(parts) == 3 else None
        found.append({"target": target, "published": published, "host_ip": host_ip})
    return [p for p in found if p["target"]]


def _int(value):
    try:
        return int(str(value).split("-", 1)[0])
    except (TypeError, ValueError):
        return None
