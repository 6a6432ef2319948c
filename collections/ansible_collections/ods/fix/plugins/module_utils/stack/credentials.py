# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The stack's own credentials, from where the stack keeps them.

- The database's root password: the container's environment (MYSQL_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD,
  their _FILE forms, MYSQL_ALLOW_EMPTY_PASSWORD), then the stack's settings files, then a file the user
  names (ods_db_root_password_file), then no password (root over the socket, as MariaDB's default allows).
- The application's database login: an API's MYSQL_* settings, or its DATABASE_URL.
- The cache's password: --requirepass on Redis's command line, its config file, its environment, or the
  APIs' REDIS_URL.

Every value found is a secret: callers add it to their redaction set and pass it on stdin or in an
exec's environment (MYSQL_PWD, REDISCLI_AUTH), never on a command line. Only origins are reported.
"""

import re
from urllib.parse import unquote, urlsplit

from ansible_collections.ods.fix.plugins.module_utils.stack import docker_exec, settings

ROOT_KEYS = ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD")
EMPTY_KEYS = ("MYSQL_ALLOW_EMPTY_PASSWORD", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MARIADB_ALLOW_EMPTY_PASSWORD")
DB_NAME_KEY = re.compile(r"^(MYSQL_DATABASE|DB_NAME|DATABASE_NAME|[A-Z]+_DB_NAME)$")


def read_container_file(api, container, path):
    """A small file inside a container (a *_FILE secret), or None."""
    try:
        result = docker_exec.exec_stdin(api, container, ["cat", path], timeout=10)
    except Exception:  # no cat in the image, or the container stopped: try the other sources
        return None
    return result.stdout.decode("utf-8", "replace").rstrip("\n") if result.code == 0 else None


def read_user_file(path):
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().rstrip("\n")
    except OSError:
        return None


def root_passwords(api, profile, service, container, user_file=""):
    """[(origin, password)] to try for root, in order; password None means no password (the socket)."""
    found = []
    env = settings.container_env(container)
    for key in ROOT_KEYS:
        if env.get(key):
            found.append((f"the container's {key}", env[key]))
        if env.get(key + "_FILE"):
            value = read_container_file(api, container, env[key + "_FILE"])
            if value:
                found.append(("the file {} names ({}_FILE)".format(env[key + "_FILE"], key), value))
    if any(env.get(key) for key in EMPTY_KEYS):
        found.append((f"an empty password ({next(k for k in EMPTY_KEYS if env.get(k))})", ""))
    configured = settings.configured(profile, service)
    everywhere = settings.all_values(profile)
    for key in ROOT_KEYS:
        for where, values in ((service + "'s settings", configured), ("the stack's settings files", everywhere)):
            if values.get(key):
                found.append((f"{key} in {where}", values[key]))
    value = read_user_file(user_file)
    if value is not None:
        found.append((f"the file {user_file} (ods_db_root_password_file)", value))
    found.append(("no password (the socket)", None))
    unique, seen = [], set()
    for origin, password in found:
        if password not in seen:
            seen.add(password)
            unique.append((origin, password))
    return unique


def url_parts(url):
    """(parts, problem) of a URL setting: urlsplit's parts, and what is wrong with it in words that hold none of
    its values but the port (None when nothing is); parts is None when it cannot be split at all."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed [ of an IPv6 host
        return None, f"is not a URL ({exc})"
    host = parts.netloc.rpartition("@")[2]
    raw_port = host.rpartition(":")[2] if ":" in host.rpartition("]")[2] else ""
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is asked for
    except ValueError:
        if raw_port.isdigit():
            return parts, f"port {raw_port} is out of range (1-65535)"
        return parts, f"port `{raw_port}` is not a number"
    return parts, None


def app_database(values):
    """{user, password, host, port, database, user_key, password_key[, problem]} from an API's settings, or None.

    MYSQL_HOST/MYSQL_PORT/MYSQL_USER/MYSQL_PASSWORD and a database name setting, or a DATABASE_URL
    (mysql+pymysql://user:password@host:port/database). `problem` says what is wrong with a malformed URL.
    """
    key = "DATABASE_URL" if values.get("DATABASE_URL") else "SQLALCHEMY_DATABASE_URI"
    url = values.get(key)
    if url and "://" in url:
        parts, problem = url_parts(url)
        if parts is None:
            return {"user": "", "password": "", "host": "", "port": 3306, "database": None, "user_key": key,
                    "password_key": key, "problem": f"{key} {problem}"}  # fmt: skip
        if parts.hostname:
            login = {
                "user": unquote(parts.username or ""),
                "password": unquote(parts.password or ""),
                "host": parts.hostname,
                "port": 3306 if problem else parts.port or 3306,
                "database": parts.path.lstrip("/").split("?", 1)[0] or None,
                "user_key": key,
                "password_key": key,
            }
            if problem:
                login["problem"] = f"{key}'s {problem}"
            return login
    if not values.get("MYSQL_USER") and not values.get("MYSQL_HOST"):
        return None
    names = sorted(k for k in values if DB_NAME_KEY.match(k) and values[k])
    return {
        "user": values.get("MYSQL_USER") or "",
        "password": values.get("MYSQL_PASSWORD") or "",
        "host": values.get("MYSQL_HOST") or "",
        "port": int(values.get("MYSQL_PORT") or 3306) if str(values.get("MYSQL_PORT") or "3306").isdigit() else 3306,
        "database": values[names[0]] if names else None,
        "databases": [values[k] for k in names],
        "user_key": "MYSQL_USER",
        "password_key": "MYSQL_PASSWORD",
    }


def app_databases(profile, containers):
    """The databases the APIs use, from their settings (for backups and restores without --database)."""
    found = []
    for api in profile["roles"].get("apis") or []:
        login = app_database(settings.current(profile, api, containers.get(api)))
        for name in (login or {}).get("databases") or ([login["database"]] if login and login["database"] else []):
            if name not in found:
                found.append(name)
    return found


def _command_password(words):
    for index, word in enumerate(words):
        if word == "--requirepass" and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--requirepass="):
            return word.split("=", 1)[1]
    return None


def cache_password(api, profile, service, container):
    """(origin, password) of the cache, or (None, None) when it has none."""
    config = (container.attrs.get("Config") or {}) if container is not None else {}
    words = [str(w) for w in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])]
    value = _command_password(words)
    if value:
        return "--requirepass on its command line", value
    for word in words:
        if word.endswith(".conf") and container is not None:
            text = read_container_file(api, container, word) or ""
            match = re.search(r"^\s*requirepass\s+(\S+)", text, re.MULTILINE)
            if match:
                return f"requirepass in {word}", match.group(1).strip("\"'")
    env = settings.container_env(container)
    if env.get("REDIS_PASSWORD"):
        return "its REDIS_PASSWORD", env["REDIS_PASSWORD"]
    for api_service in profile["roles"].get("apis") or []:
        url = settings.configured(profile, api_service).get("REDIS_URL") or ""
        parts = url_parts(url)[0] if "://" in url else None
        if parts is not None and parts.password and parts.hostname == service:
            return f"{api_service}'s REDIS_URL", unquote(parts.password)
    return None, None


def compose_commands(container):
    from ansible_collections.ods.fix.plugins.module_utils.stack.compose import container_commands  # noqa: PLC0415

    return container_commands(container)


def redactor(profile, containers, root_login=None, *secrets):
    """A Redactor knowing every value of the stack's settings files, every container's environment and
    the credentials found (the root password that worked, the cache's password)."""
    from ansible_collections.ods.fix.plugins.module_utils.security.redact import Redactor  # noqa: PLC0415

    names = set(profile.get("services") or {}) | {c.name for c in containers.values()}
    found = Redactor(names=names)
    found.add_env(settings.all_values(profile))
    for container in containers.values():
        found.add_env(settings.container_env(container))
        found.add_commands(compose_commands(container))
    if root_login is not None and root_login.password:
        found.add("DB_ROOT_PASSWORD", root_login.password)
    for value in secrets:
        if value:
            found.add("SECRET", value)
    return found
