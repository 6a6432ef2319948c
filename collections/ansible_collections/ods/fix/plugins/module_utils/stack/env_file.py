# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The project's env file: missing, or short of a variable the compose files need.

Compose reads `.env` from the project directory (or the file given with --env-file) and interpolates
${VAR} from it and from the shell. Without it, every ${VAR:?} makes every Compose command fail (`ps`
included), and every other ${VAR} silently takes its default: the next `up` recreates the containers with
other ports, names or passwords.

The values come, in this order, from:
1. the project's own containers: what a file's text gives once interpolated is there to read (the
   container's environment, its name, image and published ports), so the variable's value is what fits;
2. a `.env` the user wrote where Compose does not look (the checkout's root, when the files are in
   deploy/local: what ODS's RUNBOOK once said);
3. the checkout's `.env.example`, whose placeholders of secrets are not values;
4. for a secret the files require and nothing gives: a new random one, unless a volume of a service that
   reads it already exists (a database initialized with the old password would lock the APIs out).
No value leaves this module: only names, files and lines.
"""

import os
import re
import secrets

from ansible_collections.ods.fix.plugins.module_utils.security.redact import is_secret_name
from ansible_collections.ods.fix.plugins.module_utils.stack import compose_files, dotenv

REFERENCE = re.compile(r"\$(\{)?([A-Za-z_][A-Za-z0-9_]*)")
EXAMPLES = (".env.example", "env.example", ".env.sample", ".env.template", ".env.dist")
PLACEHOLDER = re.compile(r"change_?me|your_|_here$|replace|placeholder|^x{3,}$|^<.*>$", re.IGNORECASE)
SERVICE_LABEL = "com.docker.compose.service"


def uses(files):
    """[{var, kind, where}] of every ${VAR} in the compose files: kind required (:? ?), default (:- -),
    alternative (:+ +) or bare; where is "file:line". `$$` is Compose's literal $; comment lines are skipped."""
    found = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        for number, line in enumerate(lines, 1):
            text = line.replace("$$", "")
            if text.lstrip().startswith("#"):
                continue
            for match in REFERENCE.finditer(text):
                rest = text[match.end() :] if match.group(1) else ""
                kind, default = "bare", None
                if rest[:2] in (":?", ":-", ":+") or rest[:1] in ("?", "-", "+"):
                    op = rest[1] if rest[0] == ":" else rest[0]
                    kind = {"?": "required", "-": "default", "+": "alternative"}[op]
                    if kind == "default":
                        default = _argument(rest[2 if rest[0] == ":" else 1 :])
                found.append(
                    {
                        "var": match.group(2),
                        "kind": kind,
                        "default": default,
                        "where": f"{os.path.basename(path)}:{number}",
                    }
                )
    return found


def _argument(text):
    """The text of a ${VAR:-default} up to its closing brace (None when it holds another ${...} or does not close)."""
    end = text.find("}")
    return text[:end] if end >= 0 and "$" not in text[:end] else None


def _raw_services(files):
    """{service: raw definition}, later files' keys over earlier ones (enough to read what a container shows)."""
    services = {}
    for path in files:
        for name, spec in (compose_files.read_yaml(path).get("services") or {}).items():
            if isinstance(spec, dict):
                services.setdefault(str(name), {}).update(spec)
    return services


def _pattern(raw):
    """A regex that the interpolated text of raw fullmatches, a group per variable; None where it cannot tell
    (two variables side by side, an alternative value)."""
    out, names, last_was_var, i = [], [], False, 0
    raw = str(raw)
    while i < len(raw):
        if raw.startswith("$$", i):
            out.append(re.escape("$"))
            i, last_was_var = i + 2, False
            continue
        match = REFERENCE.match(raw, i)
        if not match:
            out.append(re.escape(raw[i]))
            i, last_was_var = i + 1, False
            continue
        if last_was_var:
            return None, []
        end = match.end()
        if match.group(1):
            close = raw.find("}", end)
            if close < 0 or raw[end : end + 2] == ":+" or raw[end : end + 1] == "+":
                return None, []
            end = close + 1
        name = match.group(2)
        out.append(f"(?P=v{names.index(name)})" if name in names else f"(?P<v{len(names)}>.*)")
        if name not in names:
            names.append(name)
        i, last_was_var = end, True
    return ("".join(out), names) if names else (None, [])


def _shown(spec, container):
    """(raw text, what the container shows of it) pairs: environment, name, image, published ports."""
    config = container.attrs.get("Config") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    pairs = []
    raw_env = spec.get("environment")
    items = (
        raw_env.items()
        if isinstance(raw_env, dict)
        else [str(item).partition("=")[::2] for item in raw_env or [] if "=" in str(item)]
    )
    for key, raw in items:
        if str(key) in env and raw is not None:
            pairs.append((compose_files.scalar_text(raw), [env[str(key)]]))
    if spec.get("container_name"):
        pairs.append((str(spec["container_name"]), [container.name]))
    if spec.get("image"):
        pairs.append((str(spec["image"]), [config.get("Image") or ""]))
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    bound = []
    for port, binds in bindings.items():
        for bind in binds or []:
            inner, host, ip = port.split("/")[0], bind.get("HostPort") or "", bind.get("HostIp") or ""
            bound += [f"{ip}:{host}:{inner}", f"{host}:{inner}"] if ip else [f"{host}:{inner}"]
    for item in spec.get("ports") or []:
        if isinstance(item, str) and "$" in item:
            pairs.append((item.split("/")[0], bound))
    return pairs


def from_containers(files, containers):
    """({var: value}, [ambiguous vars]): what the project's containers show each variable was when they were made."""
    seen = {}
    services = _raw_services(files)
    for container in containers:
        spec = services.get((container.labels or {}).get(SERVICE_LABEL) or "")
        if spec is None:
            continue
        for raw, candidates in _shown(spec, container):
            if raw is None or "$" not in raw:
                continue
            pattern, names = _pattern(raw)
            if pattern is None:
                continue
            lazy = pattern.replace(">.*)", ">.*?)")
            matches = [
                (greedy, re.fullmatch(lazy, text, re.DOTALL))
                for greedy, text in ((re.fullmatch(pattern, text, re.DOTALL), text) for text in candidates)
                if greedy
            ]
            if len(matches) != 1:
                continue
            greedy, shortest = matches[0]
            if greedy.groups() != shortest.groups():
                continue  # two ways to split it (a `:` in a password between ${USER} and ${PASSWORD}): no telling
            for index, name in enumerate(names):
                seen.setdefault(name, set()).add(greedy.group(f"v{index}"))
    values = dict((name, found.pop()) for name, found in seen.items() if len(found) == 1)
    return values, sorted(name for name, found in seen.items() if len(found) > 1)


def service_vars(files):
    """{service: set of the variables its definition uses}."""
    found = {}
    for name, spec in _raw_services(files).items():
        text = repr(spec).replace("$$", "")
        found[name] = set(match.group(2) for match in REFERENCE.finditer(text))
    return found


def named_volumes(spec):
    """The named volumes (not bind mounts) a raw service definition mounts."""
    names = []
    for item in spec.get("volumes") or []:
        if isinstance(item, dict):
            source = item.get("source") if item.get("type", "volume") == "volume" else None
        else:
            parts = str(item).split(":")
            source = parts[0] if len(parts) > 1 else None
        if source and not source.startswith((".", "/", "~", "$")):
            names.append(source)
    return names


def find_example(working_dir, project_dir):
    for folder in dict.fromkeys([working_dir, project_dir]):
        for name in EXAMPLES:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
    return ""


def find_misplaced(env_path, working_dir, project_dir):
    """A .env the user wrote where Compose does not look: in a folder above the working directory, up to the
    checkout's root (project_dir), never outside it."""
    top = os.path.abspath(project_dir)
    folder = os.path.abspath(working_dir)
    while folder != top and folder.startswith(top + os.sep):
        folder = os.path.dirname(folder)
        candidate = os.path.join(folder, ".env")
        if os.path.isfile(candidate) and os.path.abspath(candidate) != os.path.abspath(env_path):
            return candidate
    return ""


def choose_values(unset, sources, guarded, readers):
    """({var: value}, [what is left]): each unset variable's value from the first source that gives one (each
    entry's "source" is set to its name); a required secret nothing gives is generated, unless a service that
    reads it has a volume that exists (guarded)."""
    values, left = {}, []
    for entry in unset:
        var = entry["var"]
        defaults = entry.pop("defaults")
        sampled = sources["sample"].get(var, "")
        shown = sources["shown"]
        if var in shown and defaults == {shown[var]} and var not in sources["sample"]:
            # Made with its default, which the next up gives again (unless the example written out says otherwise).
            entry["source"] = "default"
        elif var in shown:
            entry["source"], values[var] = "containers", shown[var]
        elif sources["theirs"].get(var):
            entry["source"], values[var] = "misplaced", sources["theirs"][var]
        elif sampled and not (is_secret_name(var) and PLACEHOLDER.search(sampled)):
            entry["source"], values[var] = "example", sampled
        elif entry["required"] and is_secret_name(var) and var not in sources["ambiguous"]:
            kept = [service for service in guarded if var in readers.get(service, ())]
            entry["source"] = "none" if kept else "generated"
            if kept:
                left.append(
                    "{} (used at {}): {} keeps data made with the old value (a volume exists): give the value it was "
                    "made with".format(var, ", ".join(entry["used"]), ", ".join(kept))
                )
            else:
                values[var] = secrets.token_urlsafe(24)
        else:
            entry["source"] = "none"
            if entry["required"]:
                left.append(
                    "{} (used at {}): required, and nothing gives it{}".format(
                        var,
                        ", ".join(entry["used"]),
                        " (the containers disagree)" if var in sources["ambiguous"] else "",
                    )
                )
    return values, left


def plan(profile_like, containers, existing_volumes, environ=None):
    """What the env file lacks and where each value would come from: {env_file, exists, example, misplaced,
    unset: [{var, required, used, source}], values: {var: value} (never returned by a module), left: [...]}.

    profile_like: {project, default_name (Compose's name for the folder), project_dir, working_dir, config_files,
    dotenv (the file Compose reads)}.
    existing_volumes: the names (as in the files) of the project's volumes that exist.
    """
    environ = os.environ if environ is None else environ
    files, working_dir = profile_like["config_files"], profile_like["working_dir"]
    env_path = profile_like.get("dotenv") or os.path.join(working_dir, ".env")
    exists = os.path.isfile(env_path)
    current = dotenv.read(env_path) if exists else {}
    references = uses(files)
    needed = {}
    for ref in references:
        entry = needed.setdefault(ref["var"], {"var": ref["var"], "required": False, "used": [], "defaults": set()})
        entry["required"] = entry["required"] or ref["kind"] == "required"
        entry["defaults"].add(ref["default"] if ref["kind"] == "default" else None)
        if ref["where"] not in entry["used"]:
            entry["used"].append(ref["where"])
    # Unset: not in the file nor in the environment; for a required one, empty counts as unset (as in Compose).
    unset = [
        entry
        for var, entry in sorted(needed.items())
        if var not in environ and (var not in current or (entry["required"] and not current[var]))
    ]
    shown, ambiguous = from_containers(files, containers)
    misplaced = find_misplaced(env_path, working_dir, profile_like.get("project_dir") or working_dir)
    example = find_example(working_dir, profile_like.get("project_dir") or working_dir)
    theirs = dotenv.read(misplaced) if misplaced else {}
    sample = dotenv.read(example) if example else {}
    guarded = sorted(
        name for name, spec in _raw_services(files).items() if set(named_volumes(spec)) & set(existing_volumes)
    )
    sources = {"shown": shown, "ambiguous": ambiguous, "theirs": theirs, "sample": sample}
    values, left = choose_values(unset, sources, guarded, service_vars(files))
    # A project named otherwise than its folder, whose env file is gone: it may have held COMPOSE_PROJECT_NAME.
    # Without it, `docker compose` there reaches another (empty) project, and `up` makes a second stack beside the
    # first. (An existing file without it: the project is started with -p, as it always was.)
    name, default_name = profile_like.get("project"), profile_like.get("default_name")
    named = exists or "COMPOSE_PROJECT_NAME" in environ
    if containers and name and default_name and name != default_name and not named:
        used = ["the project's name"]
        unset.append({"var": "COMPOSE_PROJECT_NAME", "required": False, "used": used, "source": "containers"})
        values["COMPOSE_PROJECT_NAME"] = name
    return {
        "env_file": env_path,
        "exists": exists,
        "example": example,
        "misplaced": misplaced,
        "unset": unset,
        "values": values,
        "left": left,
    }


def problems(found):
    """One line each of what is wrong: the file missing, the required variables unset (with where they are used),
    the values the containers were made with that nothing gives now; names only."""
    lines = []
    unset = found["unset"]
    required = [e["var"] for e in unset if e["required"]]
    shown = [e["var"] for e in unset if e["source"] == "containers" and not e["required"]]
    if not (required or shown):
        return []  # a missing file that nothing needs is no fault
    if not found["exists"]:
        lines.append("Compose reads {}, which is missing".format(found["env_file"]))
    if required:
        lines.append(
            "required and unset (every Compose command fails): {}".format(
                "; ".join("{} ({})".format(e["var"], ", ".join(e["used"][:3])) for e in unset if e["required"])
            )
        )
    if shown:
        lines.append(
            "the containers were made with values that nothing gives now, so the next up would change them: {}".format(
                ", ".join(shown)
            )
        )
    if found["misplaced"]:
        lines.append("a .env at {}, where Compose does not look".format(found["misplaced"]))
    return lines


def render(plan_result):
    """The env file's new text: the example's (comments and order kept) or the existing file's, with the values."""
    env_path = plan_result["env_file"]
    if plan_result["exists"]:
        with open(env_path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    elif plan_result["example"]:
        with open(plan_result["example"], encoding="utf-8", newline="") as handle:
            text = handle.read()
        sample = dotenv.parse(text)
        # The example's placeholders of secrets are not values: a key left with one is emptied.
        blank = dict((k, "") for k, v in sample.items() if is_secret_name(k) and PLACEHOLDER.search(v or ""))
        text, _changed = dotenv.set_values(text, blank)
    else:
        text = "# Written by ods-fix env-file: the values the project's containers were made with.\n"
    text, _changed = dotenv.set_values(text, plan_result["values"])
    return text
