# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Discover the user's ODS stack: its Compose project, which service plays which role, and where settings live.

Fixes name roles (the database, the cache, the APIs, ...), never services. This
module turns one labelled container listing and the project's compose files
into a profile: per role the service; per service its container, flavour
(MySQL or MariaDB, nginx or a Vite dev server), the port and health URL inside
it, and where each of its settings comes from (an env_file line, a compose
file line, a ``.env`` variable, a settings file it mounts). Values never enter
the profile: it is returned to the controller and printed.

Where the project is: the containers' own labels (project, every ``-f`` file,
working directory, Compose version), found by ``ods_project_dir``; only when no
container exists yet, the compose file in that directory.
"""

import os
import re
import shlex
import subprocess

from ansible_collections.ods.fix.plugins.module_utils.stack import compose_files, compose_lookup

PROFILE_VERSION = 1
PROJECT_LABEL = compose_lookup.PROJECT_LABEL
SERVICE_LABEL = compose_lookup.SERVICE_LABEL
VERSION_LABEL = compose_lookup.VERSION_LABEL
ONEOFF_LABEL = compose_lookup.ONEOFF_LABEL
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
ENV_FILE_LABEL = "com.docker.compose.project.environment_file"
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
# Where ODS checkouts keep their compose file, when no container says (real-stacks.md: the root, later deploy/local).
COMPOSE_DIRS = (".", "deploy/local", "deploy")

ROLES = ("database", "cache", "vector_store", "vector_meta", "vector_object", "web")
API_ROLES = ("data_api", "agent_api")
ROLE_WORDS = {
    "database": "the database (MySQL or MariaDB)",
    "cache": "the cache (Redis)",
    "vector_store": "the vector store (Milvus)",
    "vector_meta": "the vector store's metadata store (etcd)",
    "vector_object": "the vector store's object store (MinIO)",
    "web": "the web front end (nginx or a Vite dev server)",
    "apis": "the APIs",
    "data_api": "the data API (the manual's alldata-api)",
    "agent_api": "the agent API (the manual's bisheng-api)",
}
# The table of recognised names: the manual's and the public compose files' (see real-stacks.md).
RECOGNISED_NAMES = {
    "database": ("mysql", "mariadb"),
    "cache": ("redis",),
    "vector_store": ("milvus-standalone", "milvus"),
    "vector_meta": ("milvus-etcd", "etcd"),
    "vector_object": ("milvus-minio", "minio"),
    "web": ("web", "web-frontend", "frontend"),
    "data_api": ("alldata-api", "data-api"),
    "agent_api": ("bisheng-api", "agent-api"),
}
# What each role is, by its image, its command, the variables it is configured with and its port.
SIGNS = {
    "database": {
        "image": re.compile(r"(^|[/_-])(mysql|mariadb|percona)([:@_-]|$)"),
        "command": re.compile(r"(^|[\s/])(mysqld|mariadbd)(\s|$)"),
        "env": (
            "MYSQL_ROOT_PASSWORD",
            "MARIADB_ROOT_PASSWORD",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
        ),
        "port": 3306,
    },
    "cache": {
        "image": re.compile(r"(^|/)(redis|valkey|keydb)([:@_-]|$)"),
        "command": re.compile(r"(^|[\s/])(redis-server|valkey-server)(\s|$)"),
        "env": (),
        "port": 6379,
    },
    "vector_store": {
        "image": re.compile(r"(^|/)milvus([:@_-]|$)"),
        "command": re.compile(r"milvus\b.*\brun\b"),
        "env": (),
        "port": 19530,
    },
    "vector_meta": {
        "image": re.compile(r"(^|/)etcd([:@_-]|$)"),
        "command": re.compile(r"(^|[\s/])etcd(\s|$)"),
        "env": ("ETCD_DATA_DIR", "ETCD_LISTEN_CLIENT_URLS", "ETCD_ADVERTISE_CLIENT_URLS"),
        "port": 2379,
    },
    "vector_object": {
        "image": re.compile(r"(^|/)minio([:@_-]|$)"),
        "command": re.compile(r"(^|[\s/])minio\s+server\b"),
        "env": ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"),
        "port": 9000,
    },
    "web": {
        "image": re.compile(r"(^|/)(nginx|web|web-frontend|frontend)([:@_-]|$)"),
        "command": re.compile(r"(^|[\s/])(nginx|vite)(\s|$)|npm run dev|yarn dev|pnpm dev"),
        "env": (),
        "port": 5173,
    },
}
# Images and names of services that are not ODS's own even when they look like it (a metrics exporter, a GUI).
NOT_ODS = re.compile(
    r"exporter|attu|phpmyadmin|adminer|redis-?commander|redisinsight|postgres|keycloak|grafana|prometheus|"
    r"elasticsearch|dolphinscheduler|superset|openmetadata|label-?studio|shardingsphere|vllm|ollama|zookeeper|"
    r"-init$|_init$"
)
API_NAME = re.compile(r"(^|[-_])api$")
# Settings that name another service (a host, or a URL's host): how the APIs point at the database, cache, ...
HOST_SETTING = re.compile(r"(_HOST|_ENDPOINTS?|_ADDRESS|_URL|_URI|_DSN)$")
URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?\[?([A-Za-z0-9_.-]+)")
HEALTH_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d+))?(/[^\s'\"|;)]*)?")
PORT_ARG = re.compile(r"(?:--port[ =]|-p\s+|--bind[ =]\S*:|:)(\d{2,5})\b")
DEFAULT_HEALTH_PATH = "/api/v1/health"
SETTINGS_FILE = re.compile(r"(^|/)\.env$|\.env$")


class ProfileError(Exception):
    """The stack cannot be mapped as it is: one line, naming what to set."""


# --- where the project is ----------------------------------------------------------------------------


def normalize_project_name(name):
    """What both Compose versions do with a directory name."""
    return re.sub(r"[^-_a-z0-9]", "", name.lower())


def _real(path):
    return os.path.realpath(path) if path else ""


def _inside(path, root):
    path, root = _real(path), _real(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def compose_containers(api):
    """project -> [container] for every Compose-made container on the engine (one listing).

    A container removed between the listing and its inspection (another project going down) is left out,
    not an error.
    """
    projects = {}
    for container in api.containers.list(all=True, filters={"label": PROJECT_LABEL}, ignore_removed=True):
        labels = container.labels or {}
        if labels.get(ONEOFF_LABEL, "False") == "True":
            continue
        projects.setdefault(labels.get(PROJECT_LABEL, ""), []).append(container)
    return projects


def _match_rank(containers, project_dir):
    """0: the project's working directory is project_dir; 1: it or a compose file is inside it; None: no match."""
    best = None
    for container in containers:
        labels = container.labels or {}
        working_dir = labels.get(WORKING_DIR_LABEL, "")
        files = [f for f in labels.get(CONFIG_FILES_LABEL, "").split(",") if f]
        if working_dir and _real(working_dir) == _real(project_dir):
            return 0
        if (working_dir and _inside(working_dir, project_dir)) or any(_inside(f, project_dir) for f in files):
            best = 1
    return best


def find_project(projects, project_dir, explicit_name=""):
    """(name, containers) of the project ods_project_dir points at; (None, []) when no container says."""
    if explicit_name:
        return explicit_name, projects.get(explicit_name, [])
    ranked = {}
    for name, containers in projects.items():
        rank = _match_rank(containers, project_dir)
        if rank is not None:
            ranked.setdefault(rank, []).append(name)
    for rank in (0, 1):
        names = sorted(ranked.get(rank, []))
        if len(names) > 1:
            raise ProfileError(
                "%d Compose projects run from %s (%s): set ods_compose_project to the one to fix"
                % (len(names), project_dir, ", ".join(names))
            )
        if names:
            return names[0], projects[names[0]]
    return None, []


def _label_files(containers):
    """(config files, working dir, environment file, compose version) as the project's containers record them."""
    newest = sorted(containers, key=lambda c: c.attrs.get("Created") or "", reverse=True)
    for container in newest:
        labels = container.labels or {}
        files = [f for f in labels.get(CONFIG_FILES_LABEL, "").split(",") if f]
        if files:
            working_dir = labels.get(WORKING_DIR_LABEL) or os.path.dirname(files[0])
            files = [f if os.path.isabs(f) else os.path.join(working_dir, f) for f in files]
            return files, working_dir, labels.get(ENV_FILE_LABEL, ""), labels.get(VERSION_LABEL, "")
    return [], "", "", ""


def files_in(project_dir):
    """(compose files, working dir) when no container says: the compose file (and its override) ODS keeps here."""
    for sub in COMPOSE_DIRS:
        directory = os.path.normpath(os.path.join(project_dir, sub))
        for name in COMPOSE_FILES:
            main = os.path.join(directory, name)
            if os.path.isfile(main):
                overrides = [
                    os.path.join(directory, o) for o in OVERRIDE_FILES if os.path.isfile(os.path.join(directory, o))
                ]
                return [main, *overrides[:1]], directory
    return [], ""


# --- what each service is -------------------------------------------------------------------------------


def _words(value):
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError:
        return str(value).split()


def service_facts(name, spec, container, image_config):
    """What a service is, from its compose entry, its container (when it has one) and its image."""
    config = (container.attrs.get("Config") or {}) if container is not None else (image_config or {})
    image = spec.get("image") or config.get("Image") or ""
    command = _words(spec.get("command")) or list(config.get("Cmd") or [])
    entrypoint = _words(spec.get("entrypoint")) or list(config.get("Entrypoint") or [])
    env = dict(item.split("=", 1) for item in (config.get("Env") or []) if "=" in item)
    healthcheck = spec.get("healthcheck") if isinstance(spec.get("healthcheck"), dict) else {}
    test = healthcheck.get("test") or ((config.get("Healthcheck") or {}).get("Test")) or []
    return {
        "name": name,
        "image": image,
        "command": entrypoint + command,
        "env_names": sorted(set(env) | set(spec.get("env") or {})),
        "ports": compose_files.published_ports(spec),
        "exposed": sorted(
            int(p.split("/")[0]) for p in (config.get("ExposedPorts") or {}) if p.split("/")[0].isdigit()
        ),
        "healthcheck": " ".join(_words(test)) if test else "",
        "build": bool(spec.get("build")),
        "profiles": [str(p) for p in spec.get("profiles") or []],
    }


def role_scores(facts):
    """{role: score} for one service; a role needs 3 or more. The recognised names count, and so does what it is."""
    if NOT_ODS.search(facts["name"]) or NOT_ODS.search(facts["image"]):
        return {}
    command = " ".join(facts["command"])
    ports = set(p["target"] for p in facts["ports"]) | set(facts["exposed"])
    scores = {}
    for role, signs in SIGNS.items():
        score = 3 if facts["name"] in RECOGNISED_NAMES[role] else 0
        score += 4 if signs["image"].search(facts["image"]) else 0
        score += 3 if signs["command"].search(command) else 0
        score += 2 if any(key in facts["env_names"] for key in signs["env"]) else 0
        score += 1 if signs["port"] in ports else 0
        if score >= 3:
            scores[role] = score
    return scores


def is_api(facts):
    name = facts["name"]
    if NOT_ODS.search(name) or NOT_ODS.search(facts["image"]):
        return False
    return any(name in names for names in (RECOGNISED_NAMES[r] for r in API_ROLES)) or bool(API_NAME.search(name))


def referenced_hosts(spec):
    """Service names an API's settings point at (MYSQL_HOST=mysql, REDIS_URL=redis://:pw@redis:6379/0, ...)."""
    hosts = set()
    for key, origin in (spec.get("env") or {}).items():
        value = origin.get("value") or ""
        if not HOST_SETTING.search(key) or not value:
            continue
        match = URL_HOST.match(value)
        hosts.add(match.group(1) if match else value.split(":", 1)[0].split(",", 1)[0])
    return hosts


def _pick(role, candidates, referenced):
    """The one service for a role, or ProfileError naming the candidates and the variable."""
    if not candidates:
        return None
    scored = sorted(
        ((score + (2 if name in referenced else 0), name) for name, score in candidates.items()), reverse=True
    )
    top = [name for score, name in scored if score == scored[0][0]]
    if len(top) > 1:
        raise ProfileError(
            "%d services could be %s: %s; set ods_roles.%s to the one ods-fix should fix"
            % (len(top), ROLE_WORDS[role], ", ".join(sorted(top)), role)
        )
    return top[0]


def map_roles(facts_by_service, specs, overrides):
    """{role: service} (apis: [services]) from what each service is, then the inventory's ods_roles on top."""
    unknown = sorted(set(overrides) - set(ROLES) - set(API_ROLES) - {"apis"})
    if unknown:
        raise ProfileError(
            "ods_roles has unknown role(s) {} (known: {})".format(
                ", ".join(unknown), ", ".join((*ROLES, "apis", *API_ROLES))
            )
        )
    names = sorted(facts_by_service)
    for role, value in sorted(overrides.items()):
        for service in value if isinstance(value, list) else [value]:
            if service and service not in facts_by_service:
                raise ProfileError(
                    "ods_roles.{} names service {!r}, which the project does not have (its services: {})".format(
                        role, service, ", ".join(names)
                    )
                )
    apis = [n for n in names if is_api(facts_by_service[n])]
    referenced = set()
    for api in apis:
        referenced |= referenced_hosts(specs.get(api) or {})
    roles = {}
    taken = set(v for k, v in overrides.items() if k in ROLES and v)
    for role in ROLES:
        if role in overrides:
            roles[role] = overrides[role] or None
            continue
        candidates = {}
        for name in names:
            if name in apis or name in taken:
                continue
            score = role_scores(facts_by_service[name]).get(role)
            if score:
                candidates[name] = score
        roles[role] = _pick(role, candidates, referenced)
        if roles[role]:
            taken.add(roles[role])
    apis = [a for a in overrides["apis"] or [] if a] if "apis" in overrides else [a for a in apis if a not in taken]
    for role in API_ROLES:
        if role in overrides:
            roles[role] = overrides[role] or None
            continue
        named = [a for a in apis if a in RECOGNISED_NAMES[role]]
        roles[role] = named[0] if named else None
    if roles["data_api"] is None and "data_api" not in overrides:
        with_db = [a for a in apis if _has_db_settings(specs.get(a) or {}) and a != roles.get("agent_api")]
        roles["data_api"] = with_db[0] if with_db else None
    if roles["agent_api"] is None and "agent_api" not in overrides:
        with_vectors = [
            a for a in apis if "MILVUS_HOST" in (specs.get(a) or {}).get("env", {}) and a != roles["data_api"]
        ]
        roles["agent_api"] = with_vectors[0] if with_vectors else None
    first = [r for r in (roles["data_api"], roles["agent_api"]) if r]
    roles["apis"] = first + sorted(a for a in apis if a not in first)
    return roles


def _has_db_settings(spec):
    env = spec.get("env") or {}
    return "MYSQL_HOST" in env or "DATABASE_URL" in env


def database_flavor(facts, container_env):
    """(mysql or mariadb, version or None) from the image's own variables, its tag or its command."""
    for key in ("MARIADB_VERSION", "MARIADB_MAJOR"):
        if container_env.get(key):
            return "mariadb", _version(container_env[key])
    for key in ("MYSQL_VERSION", "MYSQL_MAJOR"):
        if container_env.get(key):
            return "mysql", _version(container_env[key])
    image = facts["image"]
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    if "mariadb" in image or any(word.endswith("mariadbd") for word in facts["command"]):
        return "mariadb", _version(tag)
    if re.search(r"(^|/)(mysql|percona)", image):
        return "mysql", _version(tag)
    return "mysql", None


def _version(text):
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", text or "")
    return match.group(1) if match else None


def sql_clients(flavor, version):
    """The client programs to try, in order: MariaDB 11 images have only the mariadb* names."""
    mariadb = {"sql": "mariadb", "dump": "mariadb-dump", "admin": "mariadb-admin"}
    mysql = {"sql": "mysql", "dump": "mysqldump", "admin": "mysqladmin"}
    if flavor == "mariadb":
        return [mariadb, mysql]
    return [mysql, mariadb]


def web_flavor(facts):
    command = " ".join(facts["command"])
    if re.search(r"\bvite\b|npm run dev|yarn dev|pnpm dev", command) or 5173 in [p["target"] for p in facts["ports"]]:
        return "vite"
    return "nginx"


def inner_port(facts, env, default=None):
    """(port, where it was read) of the service's own HTTP port inside its container."""
    match = re.search(r"(?:--port[ =]|--bind[ =][^\s:]*:)(\d{2,5})\b", " ".join(facts["command"]))
    if match:
        return int(match.group(1)), "command"
    if str(env.get("PORT", "")).isdigit():
        return int(env["PORT"]), "environment PORT"
    if facts["ports"]:
        return facts["ports"][0]["target"], "ports"
    health = HEALTH_URL.search(facts["healthcheck"])
    if health and health.group(1):
        return int(health.group(1)), "healthcheck"
    if facts["exposed"]:
        return facts["exposed"][0], "image EXPOSE"
    return default, "default"


def health_url(facts, env, default_port, default_path):
    port, where = inner_port(facts, env, default_port)
    health = HEALTH_URL.search(facts["healthcheck"])
    path = health.group(2) if health and health.group(2) else default_path
    return f"http://127.0.0.1:{port}{path}", where


# --- where settings come from ---------------------------------------------------------------------------


def mounted_settings_files(spec, working_dir):
    """Host settings files a service mounts (a .env file, or a directory holding one): read by the app at start."""
    found = []
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            source = volume.get("source") if volume.get("type", "bind") == "bind" else None
        else:
            parts = str(volume).split(":")
            source = parts[0] if len(parts) > 1 and (parts[0].startswith((".", "/", "~"))) else None
        if not source:
            continue
        host = os.path.normpath(os.path.join(working_dir, os.path.expanduser(source)))
        if os.path.isdir(host) and os.path.isfile(os.path.join(host, ".env")):
            found.append(os.path.join(host, ".env"))
        elif os.path.isfile(host) and SETTINGS_FILE.search(host):
            found.append(host)
    return found


def setting_origins(spec, working_dir, dotenv_path, manual_env_file=""):
    """{KEY: origin} for one service, without values: where the value it starts with is written.

    Variables its command or healthcheck interpolates are there too, as "${VAR}" (kind spec): the service reads
    them when it is created (Redis's --requirepass), though no environment variable carries them.

    An interpolated value points at the project's .env line of its (first) variable, or at no line when the
    variable is unset there and the compose file's default applies. `whole` says the value is that one
    variable, so that writing the variable writes the value.
    """
    origins = {}
    files = mounted_settings_files(spec, working_dir)
    if manual_env_file and manual_env_file not in files:
        files.append(manual_env_file)
    from ansible_collections.ods.fix.plugins.module_utils.stack import dotenv  # noqa: PLC0415 - keep the import local

    for path in files:
        try:
            entries = dotenv.read_entries(path)
        except dotenv.DotenvError as exc:
            raise ProfileError(f"the settings file {path} cannot be read: {exc}") from None
        for key, (_value, line) in entries.items():
            origins[key] = {"kind": "mounted", "file": path, "line": line, "apply": "restart"}
    for key, origin in (spec.get("env") or {}).items():
        item = {"kind": origin["kind"], "file": origin["file"], "line": origin["line"], "apply": "recreate"}
        variables = origin.get("vars") or []
        if variables:
            item["vars"] = variables
            item["kind"] = "interpolated"
            item["compose"], item["compose_line"] = origin["file"], origin["line"]
            first = variables[0]
            line = (origin.get("var_lines") or {}).get(first)
            item["file"], item["line"] = (dotenv_path, line) if line else (None, None)
            item["whole"] = bool(re.match(rf"^\$\{{?{re.escape(first)}(?:[:?+-][^}}]*)?\}}?$", origin.get("raw") or ""))
        origins[key] = item
    for var in spec.get("spec_vars") or []:
        origins.setdefault(
            f"${{{var}}}", {"kind": "spec", "vars": [var], "file": dotenv_path, "line": None, "apply": "recreate"}
        )
    return origins


def _describe(origin, dotenv_path):
    kind = origin["kind"]
    if kind == "interpolated":
        var = origin["vars"][0]
        where = "{}:{}".format(dotenv_path, origin["line"]) if origin.get("line") else "unset, its default"
        return "${{{}}} from {}, at {}:{}".format(var, where, origin["compose"], origin["compose_line"])
    if kind == "mounted":
        return "{}:{} (a settings file the service mounts)".format(origin["file"], origin["line"])
    return "{}:{} ({})".format(origin["file"], origin["line"], kind)


def credential_origins(role, spec, facts, container_env):
    """Where a server's own credentials are found (origins only): the database's root password, the cache's."""
    found = []
    if role == "database":
        for key in ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD"):
            if key in container_env or key in (spec.get("env") or {}):
                found.append("environment " + key)
            if key + "_FILE" in container_env or key + "_FILE" in (spec.get("env") or {}):
                found.append("file named by " + key + "_FILE")
        for key in ("MYSQL_ALLOW_EMPTY_PASSWORD", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD"):
            if container_env.get(key) or (spec.get("env") or {}).get(key):
                found.append(f"empty password ({key})")
    elif role == "cache":
        if any(word.startswith("--requirepass") for word in facts["command"]):
            found.append("command line --requirepass")
        if any(word.endswith(".conf") for word in facts["command"]):
            found.append("config file " + next(w for w in facts["command"] if w.endswith(".conf")))
        if "REDIS_PASSWORD" in container_env:
            found.append("environment REDIS_PASSWORD")
    return found


# --- the profile ----------------------------------------------------------------------------------------


def _image_config(api, image):
    if not image:
        return {}
    try:
        return api.images.get(image).attrs.get("Config") or {}
    except Exception:  # not pulled or built yet: the compose file is all there is
        return {}


def locate(api, project_dir, explicit_name=""):
    """(name, containers, files, working dir, .env label, Compose version, source) of the user's project."""
    if not os.path.isdir(project_dir):
        raise ProfileError(f"ods_project_dir {project_dir} does not exist on the target")
    name, containers = find_project(compose_containers(api), project_dir, explicit_name)
    files, working_dir, env_label, version = _label_files(containers)
    if files:
        gone = [f for f in files if not os.path.isfile(f)]
        if gone:
            raise ProfileError(
                "project {} was started from {}, which is gone: start it again from its compose files".format(
                    name, ", ".join(gone)
                )
            )
        return name, containers, files, working_dir, env_label, version, "labels"
    files, working_dir = files_in(project_dir)
    if not files:
        raise ProfileError(
            "no container of a Compose project runs from {} and it holds no compose file (looked in {}): set "
            "ods_project_dir to the directory of the ODS docker-compose.yml, or start the stack".format(
                project_dir, ", ".join(COMPOSE_DIRS)
            )
        )
    return name, containers, files, working_dir, env_label, version, "files"


PORTS = {"database": 3306, "cache": 6379, "vector_store": 19530, "vector_meta": 2379, "vector_object": 9000}


def network_name(key, network, project):
    """The engine's name of the network declared under `key`: its `name:`, else an external one's key as it is
    (Compose does not prefix what it does not own; `external: {name: X}` is the old spelling), else project_key."""
    network = network if isinstance(network, dict) else {}
    external = network.get("external")
    if isinstance(external, dict) and external.get("name"):
        return external["name"]
    return network.get("name") or (key if external else f"{project}_{key}")


def is_external(network):
    external = (network or {}).get("external") if isinstance(network, dict) else None
    return bool(external) and str(external).lower() not in ("false", "no", "0")


def service_networks(spec, networks, project):
    """Full names of the networks Compose puts a service on ([] for network_mode)."""
    if spec.get("network_mode"):
        return []
    names = spec.get("networks") or ["default"]
    return [network_name(name, networks.get(name), project) for name in list(names)]


def external_networks(project, services, name):
    """{engine name: {declared_in: "file:line", services: [...]}} of the external networks the stack's services
    use: Compose only looks these up, and refuses to start a service whose network is not there."""
    found = {}
    uses = {}
    for service in services:
        spec = project["services"][service]
        uses[service] = [] if spec.get("network_mode") else list(spec.get("networks") or ["default"])
    for key, network in sorted(project["networks"].items()):
        if not is_external(network):
            continue
        users = sorted(s for s in services if key in uses[s])
        if not users:
            continue
        path, line = project.get("network_lines", {}).get(key, ("", None))
        where = "{}:{}".format(os.path.relpath(path, project["working_dir"]), line) if path and line else path
        found[network_name(key, network, name)] = {"key": key, "declared_in": where, "services": users}
    return found


def role_details(role, facts, spec, container_env, env):
    """What a role's fixes need to know of its service: flavour, port, health URL, where credentials are."""
    entry = {"port": PORTS[role]} if role in PORTS else {}
    if role == "database":
        entry["flavor"], entry["version"] = database_flavor(facts, container_env)
        entry["clients"] = sql_clients(entry["flavor"], entry["version"])
    if role in ("database", "cache"):
        entry["credentials"] = credential_origins(role, spec, facts, container_env)
    elif role == "vector_store":
        entry["health_url"] = "http://127.0.0.1:9091/healthz"
    elif role == "web":
        entry["flavor"] = web_flavor(facts)
        default = 5173 if entry["flavor"] == "vite" else 80
        entry["port"], entry["port_from"] = inner_port(facts, env, default)
        entry["url"] = "http://127.0.0.1:{}/".format(entry["port"])
    elif role == "api":
        entry["health_url"], entry["health_from"] = health_url(facts, env, 8080, DEFAULT_HEALTH_PATH)
        entry["port"] = int(entry["health_url"].split(":")[2].split("/")[0])
    return entry


def compose_refusal(files, working_dir, env_file=""):
    """Compose's own one-line reason for refusing the project's files ("" when it takes them or is not here).

    When ods-fix cannot read a project, what the user must fix is what Compose itself says, in its words."""
    for argv, _version in compose_lookup.installed_clis().values():
        command = [*argv, "--project-directory", working_dir]
        for path in files:
            command += ["-f", path]
        if env_file:
            command += ["--env-file", env_file]
        try:
            done = subprocess.run([*command, "config", "-q"], capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return ""
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        if lines:
            return "Compose refuses the project's files ({} config): {}".format(" ".join(argv), lines[-1][:300])
    return ""


def discover(api, project_dir, explicit_name="", overrides=None, written_services=None, manual_env_file=""):
    """The profile of the stack ods_project_dir points at (see the module docstring); ProfileError if blocked."""
    overrides = dict(overrides or {})
    name, containers, files, working_dir, env_label, version, source = locate(api, project_dir, explicit_name)
    try:
        project = compose_files.load_project(files, working_dir, env_label)
    except compose_files.ComposeFileError as exc:
        reason = compose_refusal(files, working_dir, env_label) or str(exc)
        if "required variable" in str(exc):
            env_path = env_label or os.path.join(working_dir, ".env")
            reason += (
                "; Compose reads {}{}: `ods-fix env-file --yes` writes what is missing from the values the "
                "containers were made with".format(env_path, "" if os.path.isfile(env_path) else ", which is missing")
            )
        raise ProfileError(reason) from None
    variables = project["variable_values"]
    name = name or variables.get("COMPOSE_PROJECT_NAME") or normalize_project_name(os.path.basename(working_dir))
    by_service = {}
    for container in containers:
        service = (container.labels or {}).get(SERVICE_LABEL)
        if service and (service not in by_service or container.status == "running"):
            by_service[service] = container
    active = set(p.strip() for p in (variables.get("COMPOSE_PROFILES") or "").split(",") if p.strip())
    for service in by_service:
        active.update((project["services"].get(service) or {}).get("profiles") or [])
    facts, env_of = {}, {}
    for service, spec in sorted(project["services"].items()):
        container = by_service.get(service)
        if spec.get("profiles") and not (set(spec["profiles"]) & active) and container is None:
            continue  # a service of a profile that was not used: not part of this stack
        image_config = None if container is not None else _image_config(api, spec.get("image"))
        facts[service] = service_facts(service, spec, container, image_config)
        config = (container.attrs.get("Config") or {}) if container is not None else (image_config or {})
        env_of[service] = dict(item.split("=", 1) for item in (config.get("Env") or []) if "=" in item)
    if written_services:
        check_written(name, facts, written_services)
    roles = map_roles(facts, project["services"], overrides)
    services = {}
    for service in sorted(facts):
        role = next((r for r in ROLES if roles.get(r) == service), "api" if service in roles["apis"] else "other")
        container, spec = by_service.get(service), project["services"][service]
        entry = {
            "role": role,
            "container": container.name if container is not None else (spec.get("container_name") or None),
            "image": facts[service]["image"],
            "profiles": facts[service]["profiles"],
            "declared_in": spec["lines"]["_service"][0],
            "networks": service_networks(spec, project["networks"], name),
        }
        env = dict(env_of[service])
        env.update(dict((k, v.get("value") or "") for k, v in spec["env"].items()))
        entry.update(role_details(role, facts[service], spec, env_of[service], env))
        if facts[service]["ports"]:
            entry["published"] = facts[service]["ports"]
        if role != "other":
            entry["settings"] = setting_origins(spec, working_dir, project["dotenv"], manual_env_file)
        services[service] = entry
    unmapped = [r for r in ROLES + API_ROLES if not roles.get(r)] + ([] if roles["apis"] else ["apis"])
    profile = {
        "version": PROFILE_VERSION,
        "project": name,
        "project_dir": project_dir,
        "working_dir": working_dir,
        "config_files": files,
        "dotenv": project["dotenv"],
        "profiles": sorted(active),
        "compose_version": version or None,
        "compose_flavor": compose_lookup.flavor(version),
        "source": source,
        "overrides": overrides,
        "roles": roles,
        "unmapped": unmapped,
        "services": services,
        "external_networks": external_networks(project, services, name),
    }
    return profile


def check_written(project, services, written_services):
    """A profile saved by `ods-fix discover --write` must still match the project: else say so, and how to redo it."""
    gone = sorted(set(written_services) - set(services))
    if gone:
        raise ProfileError(
            "the profile written by ods-fix discover for project {} no longer matches it: {} {} gone (it has now: {}); "
            "discover it again with `ods-fix discover --write FILE`".format(
                project, ", ".join(gone), "is" if len(gone) == 1 else "are", ", ".join(sorted(services))
            )
        )


# --- reading a profile -------------------------------------------------------------------------------------


def service_for(profile, role, required=True):
    """The service playing a role; ProfileError naming the variable when none does (and it is required)."""
    service = (profile.get("roles") or {}).get(role)
    if service or not required:
        return service
    raise ProfileError(
        "no service of project {} is {} (its services: {}): set ods_roles.{} in the inventory".format(
            profile.get("project"),
            ROLE_WORDS.get(role, role),
            ", ".join(sorted(profile.get("services") or {})) or "none",
            role,
        )
    )


def apis(profile, required=True):
    found = list((profile.get("roles") or {}).get("apis") or [])
    if found or not required:
        return found
    raise ProfileError(
        "no service of project {} is an API (its services: {}): set ods_roles.apis in the inventory".format(
            profile.get("project"), ", ".join(sorted(profile.get("services") or {})) or "none"
        )
    )


def role_of(profile, service):
    return ((profile.get("services") or {}).get(service) or {}).get("role", "other")


def stack_services(profile):
    """The services ods-fix looks after (every one with a role), in the order the stack depends on them."""
    order = (*ROLES[:-1], "api", "web")
    return sorted(
        (s for s, e in (profile.get("services") or {}).items() if e["role"] != "other"),
        key=lambda s: (order.index(role_of(profile, s)), s),
    )


def describe_setting(profile, service, key):
    origin = ((profile["services"].get(service) or {}).get("settings") or {}).get(key)
    return _describe(origin, profile.get("dotenv")) if origin else None
