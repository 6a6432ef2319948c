#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_connectivity
short_description: Check the manual's 数据库连接失败 causes, mysql down, network, credentials
version_added: 0.1.0
description:
  - The manual's diagnosis steps for a database connection failure, in one pass. Is mysql running
    (C(docker-compose ps mysql)), is it on its compose networks under its name, can each API container
    resolve and reach C(mysql:3306) (C(docker-compose exec alldata-api ping mysql)), does the server accept
    the user and password that C(deploy/.env) gives the apps, and do the APIs' logs show the manual's
    symptom C(OperationalError (2003, "Can't connect to MySQL server")).
  - On C(Access denied) it says which user, and which side (the server rejects the password in the env file).
  - Read-only; secret values never leave the module.
extends_documentation_fragment:
  - ods.fix.project
options:
  env_file:
    description: The settings file the APIs read (the manual's C(deploy/.env)).
    type: path
    required: true
  db_service:
    description: The MySQL service.
    type: str
    default: mysql
  clients:
    description: Services that must reach the database.
    type: list
    elements: str
    default: [alldata-api, bisheng-api]
  port:
    description: The port the clients connect to.
    type: int
    default: 3306
  user_key:
    description: The env file key holding the application's database user.
    type: str
    default: MYSQL_USER
  password_key:
    description: The env file key holding the application's database password.
    type: str
    default: MYSQL_PASSWORD
  root_password_key:
    description: The env file key holding MySQL's root password, used when root cannot log in through the socket.
    type: str
    default: MYSQL_ROOT_PASSWORD
  log_lines:
    description: Lines of each client's log searched for the manual's symptom.
    type: int
    default: 200
attributes:
  check_mode:
    support: full
    details: Read-only.
  idempotent:
    support: full
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Check the database connection | 数据库连接失败 诊断步骤
  ods.fix.db_connectivity:
    project_dir: /home/dev/one-data-studio
    env_file: /home/dev/one-data-studio/deploy/.env
  register: db
"""

RETURN = r"""
ok:
  description: mysql runs, every client reaches it by name, and the env file's credentials work.
  returned: always
  type: bool
problems:
  description: One line per problem found, in the manual's words where it has them.
  returned: always
  type: list
  elements: str
mysql:
  description: C(condition) of the mysql container and C(networks_missing).
  returned: always
  type: dict
clients:
  description: Per client service, C(ok) and C(error) of reaching mysql by name.
  returned: always
  type: dict
credentials:
  description: C(user), C(ok), C(code) (1045 for Access denied), C(error).
  returned: always
  type: dict
symptoms:
  description: Per client, the count and the last lines of the manual's symptom in its log.
  returned: always
  type: dict
"""

import datetime
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, dotenv, mysqlexec, probes, services
from ansible_collections.ods.fix.plugins.module_utils.redact import Redactor

SYMPTOM = re.compile(r"OperationalError.*\((2003|2005|1045)\b")


def started_at(container):
    """The container's last start as a datetime (UTC), for `docker logs --since`."""
    stamp = (container.attrs.get("State") or {}).get("StartedAt", "")
    try:
        return datetime.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


def check(api, project, params, env):
    containers = compose.project_containers(api, project["project_name"])
    db = containers.get(params["db_service"])
    report = {
        "mysql": {"condition": services.condition(db), "networks_missing": []},
        "clients": {},
        "credentials": {},
        "symptoms": {},
        "problems": [],
    }
    problems = report["problems"]
    name = params["db_service"]
    if db is None or report["mysql"]["condition"] not in ("healthy", "running", "starting"):
        problems.append("%s is %s (确认 MySQL 正在运行)" % (name, report["mysql"]["condition"]))
    elif db is not None:
        lost = services.missing_networks(api, db, project["project_dir"], project["project_name"], name)
        report["mysql"]["networks_missing"] = lost
        if lost:
            problems.append(
                "%s is not on its compose network(s) %s: the APIs cannot resolve it" % (name, ", ".join(lost))
            )
    for client in params["clients"]:
        container = containers.get(client)
        if container is None or container.status != "running":
            report["clients"][client] = {"ok": None, "error": "%s is not running" % client}
            continue
        try:
            outcome = probes.probe_reach(container, {name: params["port"]})[name]
        except (RuntimeError, ValueError, KeyError) as exc:
            outcome = {"ok": False, "error": str(exc)}
        report["clients"][client] = outcome
        if not outcome["ok"]:
            problems.append(
                "%s cannot reach %s:%s (检查网络): %s" % (client, name, params["port"], outcome.get("error"))
            )
        # Only what was logged since mysql last started counts: older lines are history.
        since = started_at(db) if db is not None and db.status == "running" else None
        text = container.logs(tail=params["log_lines"], since=since).decode("utf-8", "replace")
        hits = [line.strip() for line in text.splitlines() if SYMPTOM.search(line)]
        if hits:
            report["symptoms"][client] = {"count": len(hits), "last": hits[-1]}
    user = env.get(params["user_key"], "")
    password = env.get(params["password_key"], "")
    creds = {"user": user, "ok": None}
    if not user or not password:
        creds.update(
            ok=False,
            error="%s or %s is missing from %s" % (params["user_key"], params["password_key"], params["env_file"]),
        )
        problems.append(creds["error"])
    elif db is not None and db.status == "running":
        error = mysqlexec.login_as(api, db, user, password)
        creds["ok"] = error is None
        if error is not None:
            creds.update(code=error.code, error=str(error))
            if error.code == 1045:
                problems.append(
                    "Access denied for user '%s': the server (%s) rejects the password that %s gives the apps "
                    "(%s); the two differ (验证密码配置)" % (user, name, params["env_file"], params["password_key"])
                )
            else:
                problems.append("user '%s' cannot log in: %s" % (user, error))
    report["credentials"] = creds
    report["ok"] = not problems
    return report


def main():
    argument_spec = dict(
        env_file=dict(type="path", required=True),
        db_service=dict(type="str", default="mysql"),
        clients=dict(type="list", elements="str", default=["alldata-api", "bisheng-api"]),
        port=dict(type="int", default=3306),
        user_key=dict(type="str", default="MYSQL_USER"),
        password_key=dict(type="str", default="MYSQL_PASSWORD", no_log=False),
        root_password_key=dict(type="str", default="MYSQL_ROOT_PASSWORD", no_log=False),
        log_lines=dict(type="int", default=200),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    api, project = compose.open_project(module)
    env = dotenv.read(params["env_file"])
    if not env:
        module.fail_json(msg="%s is missing or empty" % params["env_file"], ods_failure="input")
    report = check(api, project, params, env)
    redactor = Redactor()
    redactor.add_env(env)
    module.exit_json(changed=False, **redactor.redact_obj(report))


if __name__ == "__main__":
    main()
