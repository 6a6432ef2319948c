# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Key rotation's logic (密钥轮换): the secrets catalog, the plan, the SQL, the journal. No I/O but files.

The catalog names each key of deploy/.env and its kind:
- generated: an app secret (JWT, session) made here with a CSPRNG;
- database: a MySQL password, also changed in the server (dual passwords where the server has them);
- provider: issued by someone else (OPENAI_API_KEY); never generated, its new value is supplied.
"""

import json
import os
import re
import secrets
import time

KINDS = ("generated", "database", "provider")
DEFAULT_BYTES = 32
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


class CatalogError(ValueError):
    """The catalog or the keys asked for do not make sense; one line for the user."""


def normalize_catalog(entries):
    """The catalog as a list of dicts with every field set; raises CatalogError on a bad entry."""
    catalog, seen = [], set()
    for entry in entries or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise CatalogError(f"every secrets catalog entry needs a name: {entry!r}")
        name = str(entry["name"])
        kind = entry.get("kind", "generated")
        if kind not in KINDS:
            raise CatalogError("{}: kind {!r} is not one of {}".format(name, kind, ", ".join(KINDS)))
        if name in seen:
            raise CatalogError(f"{name} is twice in the secrets catalog")
        seen.add(name)
        size = int(entry.get("bytes") or DEFAULT_BYTES)
        if not 8 <= size <= 512:
            raise CatalogError(f"{name}: bytes must be between 8 and 512")
        if kind == "database" and not (entry.get("user") or entry.get("user_key")):
            raise CatalogError(f"{name}: a database password needs user or user_key")
        catalog.append(
            {
                "name": name,
                "kind": kind,
                "bytes": size,
                "user": entry.get("user") or "",
                "user_key": entry.get("user_key") or "",
                "services": list(entry.get("services") or []),
            }
        )
    return catalog


def select(catalog, names):
    """(selected entries, provider entries left out): the keys named, else every generated and database key.

    Raises CatalogError naming an unknown key and the catalog's keys.
    """
    by_name = dict((entry["name"], entry) for entry in catalog)
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise CatalogError(
            "unknown key {}: the secrets catalog has {}".format(", ".join(unknown), ", ".join(sorted(by_name)))
        )
    if names:
        chosen = [by_name[name] for name in dict.fromkeys(names)]
        return chosen, []
    chosen = [entry for entry in catalog if entry["kind"] != "provider"]
    return chosen, [entry for entry in catalog if entry["kind"] == "provider"]


def server_info(version):
    """What the server can do, from SELECT VERSION(): flavor, version, and whether it has dual passwords."""
    match = VERSION.match(version or "")
    numbers = tuple(int(part) for part in match.groups()) if match else (0, 0, 0)
    mariadb = "mariadb" in (version or "").lower()
    return {
        "flavor": "mariadb" if mariadb else "mysql",
        "version": version or "",
        # MySQL 8.0.14 added RETAIN CURRENT PASSWORD / DISCARD OLD PASSWORD; MariaDB has neither.
        "dual_password": not mariadb and numbers >= (8, 0, 14),
    }


def quote(value):
    return "'{}'".format(value.replace("\\", "\\\\").replace("'", "''"))


def account(user, host):
    return f"{quote(user)}@{quote(host)}"


def set_password_sql(server, user, host, password, retain=False):
    """The statement that sets an account's password, for this server.

    MariaDB: SET PASSWORD ... = PASSWORD(...), which keeps the account's other
    authentication (root's unix_socket); ALTER USER IDENTIFIED BY would replace it.
    MySQL: ALTER USER ... IDENTIFIED BY, with RETAIN CURRENT PASSWORD for the dual phase.
    """
    if server["flavor"] == "mariadb":
        return f"SET PASSWORD FOR {account(user, host)} = PASSWORD({quote(password)});"
    retain_clause = " RETAIN CURRENT PASSWORD" if retain and server["dual_password"] else ""
    return f"ALTER USER {account(user, host)} IDENTIFIED BY {quote(password)}{retain_clause};"


def discard_old_sql(user, host):
    return f"ALTER USER {account(user, host)} DISCARD OLD PASSWORD;"


def generate(size):
    """A new app secret: `size` random bytes from the OS's CSPRNG, as hex."""
    return secrets.token_hex(size)


MASK = "********"


def scrub(obj, values):
    """obj with every occurrence of each value masked: what the action plugin returns of a module's result."""
    if isinstance(obj, dict):
        return dict((k, scrub(v, values)) for k, v in obj.items())
    if isinstance(obj, list):
        return [scrub(v, values) for v in obj]
    if isinstance(obj, str):
        for value in values:
            obj = obj.replace(value, MASK)
    return obj


def strip_value(raw):
    """A supplied value as read from a file: one trailing newline dropped, nothing else."""
    if raw.endswith("\r\n"):
        return raw[:-2]
    if raw.endswith("\n"):
        return raw[:-1]
    return raw


# --- the journal: what a rotation in progress (or the last one) replaced, names and paths only ---------


def journal_path(state_dir, which):
    return os.path.join(state_dir, f"{which}.json")


def write_json_private(path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    temp = f"{path}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.rename(temp, path)


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def audit(path, record):
    """Append one JSON line to the audit log (0600): when, who, which key names, what happened. Never values."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    line = dict(record)
    line.setdefault("time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
    return line


def describe(entry, server=None):
    """'MYSQL_PASSWORD (database password)' and the like, for the report."""
    if entry["kind"] == "generated":
        return "%s (generated, %d random bytes)" % (entry["name"], entry["bytes"])
    if entry["kind"] == "provider":
        return "{} (provider-issued, the value supplied)".format(entry["name"])
    if server and server.get("dual_password"):
        mode = "dual password: the old one kept until the APIs run on the new one"
    else:
        mode = "single phase: %s has no dual passwords" % (
            "MariaDB" if (server or {}).get("flavor") == "mariadb" else "this server"
        )
    return "{} (database password, {})".format(entry["name"], mode)


PROVIDER_NAME = re.compile(
    r"(^|_)(OPENAI|ANTHROPIC|AZURE|HF|HUGGINGFACE|DASHSCOPE|QWEN|DEEPSEEK|ZHIPU|MOONSHOT)_|_API_KEY$|_TOKEN$"
)
ROOT_KEYS = ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD")
USER_PASSWORD_KEYS = ("MYSQL_PASSWORD", "MARIADB_PASSWORD")


def classify(name, readers, roles_of, database_reads):
    """(kind, reason) of one secret of the stack's settings, by what reads it.

    database_reads: {setting the database service reads: the file's name behind it}. A secret the database
    reads as its root or user password is that password; one that another server reads (Redis on its command
    line, MinIO, Milvus) cannot be changed by restarting the APIs: it is left for a person, with why.
    """
    if name in [database_reads.get(k) for k in ROOT_KEYS]:
        return "database", "root"
    if name in [database_reads.get(k) for k in USER_PASSWORD_KEYS]:
        return "database", "user"
    servers = sorted(set(s for s in readers if roles_of.get(s) not in ("api",)))
    if servers:
        return None, "{} read{} it too: rotate it by hand (restarting the APIs does not change it there)".format(
            ", ".join(servers),
            "s" if len(servers) == 1 else "",
        )
    # A provider's key is listed even when no service here reads it: it is in the file, so it may have leaked.
    if PROVIDER_NAME.search(name):
        return "provider", ""
    if not readers:
        return None, "no service reads it"
    return "generated", ""
