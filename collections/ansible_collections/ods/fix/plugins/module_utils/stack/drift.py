# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Config drift: containers still running with the settings from before the project's files were edited.

Compose labels each container with the hash of its service's configuration
(com.docker.compose.config-hash) and recreates it on `up` when the files give
another. After an edit of `.env` or a compose file without `up`, the container
runs with the old settings: this is what `docker compose up` would recreate.

The hash is Compose's own (`config --hash '*'`), from the CLI of the flavor
that made the project, with the files, name, directory, env file and profiles
that made it: v1 and v2 hash differently, so the other flavor's hash says
nothing. Which settings changed comes from comparing each container's
environment with what the files give now, by name only: no value leaves here.
"""

import os
import re
import shlex
import subprocess

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, compose_files, compose_lookup, docker_exec

HASH_LABEL = "com.docker.compose.config-hash"


def project_cli(flavor):
    """The Compose CLI of the flavor that made the project (only its hash matches its labels), or None."""
    return compose_lookup.cli_for(flavor) if flavor else None


def parse_hashes(text):
    """{service: hash} from `config --hash '*'` (one "service hash" line each, in v1 and v2)."""
    hashes = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            hashes[parts[0]] = parts[1]
    return hashes


def compose_hashes(profile, cli):
    """{service: hash} the files give now, or (None, why) when this Compose cannot say."""
    if not cli:
        return None, "no Compose CLI of the flavor that made the project is installed"
    try:
        done = subprocess.run(
            [*compose.compose_argv(profile, cli), "config", "--hash", "*"],
            cwd=profile["working_dir"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, "{} config --hash failed: {}".format(" ".join(cli), exc)
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        return None, "{} config --hash failed: {}".format(" ".join(cli), lines[-1][:300] if lines else "no output")
    return parse_hashes(done.stdout), ""


def changed_settings(spec_env, container_env):
    """Sorted names of the settings whose value in the files differs from the container's (names only).

    A name is the container's variable; where the files take it from a variable of .env, that one is named too.
    """
    names = set()
    for key, origin in (spec_env or {}).items():
        value = origin.get("value")
        if value is None:  # `KEY` alone: from the shell of whoever ran Compose, unknown here
            continue
        if container_env.get(key) != value:
            names.add(key)
            names.update(origin.get("vars") or [])
    return sorted(names)


# What a recreate may drop from a container's own layer: what the software remakes (temp files, sockets, pid
# files, caches) and its log files. Anything else there is data Compose would delete with the old container.
EPHEMERAL = re.compile(
    r"^/(tmp|run|var/run|var/tmp|var/cache|var/log|root/\.cache|home/[^/]+/\.cache)(/|$)|/__pycache__(/|$)|\.pid$"
)


DIR_MODE = 1 << 31  # Go's os.ModeDir, in the mode the engine's path stat gives
LOOKED_AT = 50  # paths looked into one by one; past that, each counts as data


def _holds_data(container, path):
    """The path is a file with something in it (an empty directory, or an empty file, loses nothing)."""
    try:
        stat = docker_exec.path_stat(container.client.api, container.id, path)
    except Exception:  # cannot tell: counted, so that nothing is recreated blind
        return True
    return not (stat.get("mode") or 0) & DIR_MODE and (stat.get("size") or 0) > 0


def held_files(container):
    """Files added or changed in the container's own layer, in no volume or mount, that a recreate would lose."""
    try:
        changes = container.diff() or []
    except Exception:  # a container that cannot be looked into is not recreated blind
        return [f"(its changes could not be listed: docker diff {container.name})"]
    mounts = [m.get("Destination") or "" for m in container.attrs.get("Mounts") or []]
    paths = sorted(c["Path"] for c in changes if c.get("Kind") in (0, 1) and not EPHEMERAL.search(c["Path"]))
    # A changed directory is listed with what changed in it: the deepest paths only. A mount point, or a directory
    # Docker made on the way to one, is Docker's.
    leaves = [p for i, p in enumerate(paths) if not (i + 1 < len(paths) and paths[i + 1].startswith(p + "/"))]
    leaves = [p for p in leaves if not any(p == m or m.startswith(p + "/") or p.startswith(m + "/") for m in mounts)]
    return [p for i, p in enumerate(leaves) if i >= LOOKED_AT or _holds_data(container, p)]


# Parts of a definition whose value at creation the container still shows (its name, image, published ports).
SHOWN = ("container_name", "image", "ports")


def _shows(field, service, container):
    """The container was made with what this field of the files gives now."""
    if field == "container_name":
        return service.get("container_name") == container.name
    if field == "image":
        return service.get("image") == (container.attrs.get("Config") or {}).get("Image")
    if field == "ports":
        bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
        made = set(
            (int(port.split("/")[0]), int(bound.get("HostPort") or 0) or None)
            for port, binds in bindings.items()
            for bound in binds or [{}]
        )
        wanted = set((p["target"], p["published"]) for p in compose_files.published_ports(service))
        return made == wanted
    return False


def unknown_variables(service, container, variables):
    """Variables the files take from nothing set now (neither .env nor the environment Compose runs in) where the
    container may have been made with another value: by `VAR=... docker compose up`, or an .env line since removed.
    A recreate would give them their default, or nothing; whoever ran it must say which is meant."""
    unset = set()
    env = container_env(container)
    for key, origin in (service.get("env") or {}).items():
        if origin.get("value") is not None and key in env and env[key] != origin["value"]:
            unset.update(var for var in origin.get("vars") or [] if var not in variables)
    for field, used in (service.get("field_vars") or {}).items():
        missing = [var for var in used if var not in variables]
        if missing and not (field in SHOWN and _shows(field, service, container)):
            unset.update(missing)
    return sorted(unset)


def container_env(container):
    config = container.attrs.get("Config") or {}
    return dict(item.split("=", 1) for item in (config.get("Env") or []) if "=" in item)


def find(profile, containers, cli):
    """([{service, container, settings, held, recreate, summary}], note): the project's containers whose config
    hash is not the files'; note says why nothing could be compared ("" when it could)."""
    hashes, why = compose_hashes(profile, cli)
    if hashes is None:
        return [], why
    try:
        dotenv_path = profile.get("dotenv") or ""
        # The variables Compose hashed with: .env's, and this environment's over them.
        project = compose_files.load_project(
            profile["config_files"], profile["working_dir"], dotenv_path, environ=os.environ
        )
    except compose_files.ComposeFileError:
        project = {"services": {}, "variable_values": {}}
    drifted = []
    for service, container in sorted(containers.items()):
        label = (container.labels or {}).get(HASH_LABEL)
        if not label or service not in hashes or hashes[service] == label:
            continue  # not made by Compose, or a service the files no longer have (not drift: an orphan)
        definition = project["services"].get(service) or {}
        item = {
            "service": service,
            "container": container.name,
            "settings": changed_settings(definition.get("env") or {}, container_env(container)),
            "unset": unknown_variables(definition, container, project["variable_values"]),
            "held": held_files(container),
            # What recreates it by hand: the files, name and profiles that made it (a bare `up` in the folder
            # would miss an overlay given with -f).
            "recreate": " ".join(
                shlex.quote(word)
                for word in [*compose.compose_argv(profile, cli), "up", "-d", "--no-deps", "--force-recreate", service]
            ),
        }
        item["summary"] = describe(item)
        drifted.append(item)
    return drifted, ""


def describe(item):
    """One line for a drifted container; setting names only."""
    if item["settings"]:
        what = "settings changed since it was created: {}".format(", ".join(item["settings"]))
    else:
        what = "its definition in the compose files changed since it was created (not its environment)"
    line = "{} ({}) runs with old settings: {}".format(item["service"], item["container"], what)
    held, unset = item.get("held") or [], item.get("unset") or []
    if held:
        return (
            "{}; not recreated: its own layer holds {} file(s) no volume keeps ({}{}; docker diff {}): copy them "
            "out, then: {}".format(
                line,
                len(held),
                ", ".join(held[:3]),
                ", ..." if len(held) > 3 else "",
                item["container"],
                item["recreate"],
            )
        )
    if unset:
        return (
            "{}; not recreated: the files take {} from a variable set neither in .env nor in this environment, so it "
            "may have come from the shell that started it: write the value meant (its default too) into .env, then "
            "run config-drift again, or: {}".format(line, ", ".join(unset), item["recreate"])
        )
    return line
