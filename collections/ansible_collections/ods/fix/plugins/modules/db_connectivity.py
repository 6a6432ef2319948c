#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: db_connectivity
short_description: Check the manual's 数据库连接失败 causes, the database down, network, credentials
version_added: 0.1.0
description:
  - The manual's diagnosis steps for a database connection failure, in one pass. Is the database running
    (C(docker-compose ps mysql)), is it on its compose networks under its name, can each API container
    resolve and reach it (C(docker-compose exec alldata-api ping mysql)), does the server accept the user
    and password each API is configured with (its C(MYSQL_USER)/C(MYSQL_PASSWORD), or its C(DATABASE_URL)),
    and do the APIs' logs show the manual's symptom C(OperationalError (2003, "Can't connect to MySQL server")).
  - The database and the APIs are the stack's, as discovered (the profile), whatever they are called.
  - On C(Access denied) it says which user, and where the password the API uses is written.
  - Read-only; secret values never leave the module.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
  - ods.fix.project
  - ods.fix.mysql
options:
  clients:
    description: Services that must reach the database. Empty means every API of the stack.
    type: list
    elements: str
    default: []
  log_lines:
    description: Lines of each client's log searched for the manual's symptom.
    type: int
    default: 200
"""

EXAMPLES = r"""
- name: Check the database connection | 数据库连接失败 诊断步骤
  ods.fix.db_connectivity:
    project_dir: /home/dev/one-data-studio
  register: db
"""

RETURN = r"""
ok:
  description: The database runs, every client reaches it by name, and the credentials the APIs use work.
  returned: always
  type: bool
problems:
  description: One line per problem found, in the manual's words where it has them.
  returned: always
  type: list
  elements: str
mysql:
  description: The database's container.
  returned: always
  type: dict
  contains:
    service:
      description: The database service.
      type: str
    condition:
      description: Its condition (V(healthy), V(running), V(exited), V(missing), ...).
      type: str
    networks_missing:
      description: The compose networks it is cut off from.
      type: list
      elements: str
clients:
  description: Per client service, C(ok) and C(error) of reaching the database by name.
  returned: always
  type: dict
credentials:
  description: The login the APIs are configured with, tried on the server.
  returned: always
  type: dict
  contains:
    user:
      description: The user.
      type: str
    ok:
      description: The server accepts it.
      type: bool
    code:
      description: The server's error code (1045 for Access denied).
      type: int
    error:
      description: The server's message.
      type: str
    service:
      description: The API whose settings give it.
      type: str
    where:
      description: Where the password is written (file and line, or the container's environment).
      type: str
symptoms:
  description: Per client, the count and the last lines of the manual's symptom in its log.
  returned: always
  type: dict
"""

import datetime
import re

from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.stack import (
    compose,
    credentials,
    discovery,
    probes,
    services,
    settings,
)

SYMPTOM = re.compile(r"OperationalError.*\((2003|2005|1045)\b")


def started_at(container):
    """The container's last start as a datetime (UTC), for `docker logs --since`."""
    stamp = (container.attrs.get("State") or {}).get("StartedAt", "")
    try:
        return datetime.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


def app_login(profile, containers, clients):
    """(service, login) of the first API configured with a database login, else (None, None)."""
    for service in clients:
        login = credentials.app_database(settings.current(profile, service, containers.get(service)))
        if login and login["user"]:
            return service, login
    return None, None


def where(profile, service, key):
    return discovery.describe_setting(profile, service, key) or f"{service}'s environment"


def check(api, profile, params):
    containers = compose.project_containers(api, profile["project"])
    name = profile["roles"]["database"]
    db = containers.get(name)
    clients = params["clients"] or profile["roles"]["apis"]
    report = {
        "mysql": {"service": name, "condition": services.condition(db), "networks_missing": []},
        "clients": {},
        "credentials": {},
        "symptoms": {},
        "problems": [],
    }
    problems = report["problems"]
    port = profile["services"][name].get("port") or 3306
    if db is None or report["mysql"]["condition"] not in ("healthy", "running", "starting"):
        problems.append("{} is {} (确认 MySQL 正在运行)".format(name, report["mysql"]["condition"]))
    elif db is not None:
        lost = services.missing_networks(api, db, profile, name)
        report["mysql"]["networks_missing"] = lost
        if lost:
            problems.append(
                "{} is not on its compose network(s) {}: the APIs cannot resolve it".format(name, ", ".join(lost))
            )
    for client in clients:
        container = containers.get(client)
        if container is None or container.status != "running":
            report["clients"][client] = {"ok": None, "error": f"{client} is not running"}
            continue
        try:
            outcome = probes.probe_reach(container, {name: port})[name]
        except (RuntimeError, ValueError, KeyError) as exc:
            outcome = {"ok": False, "error": str(exc)}
        report["clients"][client] = outcome
        if not outcome["ok"]:
            problems.append("{} cannot reach {}:{} (检查网络): {}".format(client, name, port, outcome.get("error")))
        # Only what was logged since the database last started counts: older lines are history.
        since = started_at(db) if db is not None and db.status == "running" else None
        text = container.logs(tail=params["log_lines"], since=since).decode("utf-8", "replace")
        hits = [line.strip() for line in text.splitlines() if SYMPTOM.search(line)]
        if hits:
            report["symptoms"][client] = {"count": len(hits), "last": hits[-1]}
    service, login = app_login(profile, containers, clients)
    creds = {"ok": None, "service": service}
    if login is None:
        creds.update(
            ok=False, error="no API of the stack is configured with a database user (MYSQL_USER or DATABASE_URL)"
        )
        problems.append(creds["error"])
    else:
        creds.update(user=login["user"], where=where(profile, service, login["password_key"]))
        if login.get("problem"):  # the API cannot connect with it whatever the server says
            creds.update(ok=False, error=login["problem"])
            problems.append("{} ({}): {} cannot connect with it".format(login["problem"], creds["where"], service))
        elif db is not None and db.status == "running":
            error = root_access.login_as(api, db, login["user"], login["password"])
            creds["ok"] = error is None
            if error is not None:
                creds.update(code=error.code, error=str(error))
                if error.code == 1045:
                    problems.append(
                        "Access denied for user '{}': the server ({}) rejects the password {} uses ({}); the "
                        "two differ (验证密码配置)".format(login["user"], name, service, creds["where"])
                    )
                else:
                    problems.append("user '{}' cannot log in: {}".format(login["user"], error))
    report["credentials"] = creds
    report["ok"] = not problems
    return report, login


def main():
    argument_spec = dict(
        clients=dict(type="list", elements="str", default=[]),
        log_lines=dict(type="int", default=200),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    compose.role_service(module, profile, "database")
    compose.check_services(module, profile, params["clients"])
    report, login = check(api, profile, params)
    containers = compose.project_containers(api, profile["project"])
    redactor = credentials.redactor(profile, containers, None, (login or {}).get("password"))
    module.exit_json(ansible_facts=compose.profile_facts(module), changed=False, **redactor.redact_obj(report))


if __name__ == "__main__":
    main()
