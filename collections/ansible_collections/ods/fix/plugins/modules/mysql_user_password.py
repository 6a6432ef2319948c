#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mysql_user_password
short_description: Make the MySQL server accept the password the env file gives the apps
version_added: 0.1.0
description:
  - Reads the user and password from the env file (the manual's C(deploy/.env)) on the target, checks
    whether the server accepts them, and only if it does not, runs C(ALTER USER ... IDENTIFIED BY) as root
    inside the mysql container. The statement goes in on stdin; the password is never on a command line,
    in the module's arguments or in its result.
  - community.mysql's C(mysql_user) would need the password as a module argument and a client connection
    from the target to the server; this module keeps the secret inside the target, as the manual's
    C(docker-compose exec mysql mysql) does.
extends_documentation_fragment:
  - ods.fix.project
options:
  env_file:
    description: The env file holding the user and password.
    type: path
    required: true
  db_service:
    description: The MySQL service.
    type: str
    default: mysql
  user_key:
    description: The env file key of the user.
    type: str
    default: MYSQL_USER
  password_key:
    description: The env file key of the password.
    type: str
    default: MYSQL_PASSWORD
  root_password_key:
    description: The env file key of root's password, used when root cannot log in through the socket.
    type: str
    default: MYSQL_ROOT_PASSWORD
  host:
    description: The account's host part.
    type: str
    default: "%"
attributes:
  check_mode:
    support: full
    details: Reports whether it would change the password, and changes nothing.
  idempotent:
    support: full
    details: When the server already accepts the password, nothing is changed.
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Align the server's password with deploy/.env | 验证密码配置
  ods.fix.mysql_user_password:
    project_dir: /home/dev/one-data-studio
    env_file: /home/dev/one-data-studio/deploy/.env
"""

RETURN = r"""
user:
  description: The account, C('user'@'host').
  returned: always
  type: str
action:
  description: What was done (or would be).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, dotenv, mysqlexec


def main():
    argument_spec = dict(
        env_file=dict(type="path", required=True),
        db_service=dict(type="str", default="mysql"),
        user_key=dict(type="str", default="MYSQL_USER"),
        password_key=dict(type="str", default="MYSQL_PASSWORD", no_log=False),
        root_password_key=dict(type="str", default="MYSQL_ROOT_PASSWORD", no_log=False),
        host=dict(type="str", default="%"),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    compose.require_docker(module)
    params = module.params
    env = dotenv.read(params["env_file"])
    user, password = env.get(params["user_key"]), env.get(params["password_key"])
    if not user or not password:
        module.fail_json(
            msg="%s or %s is missing from %s" % (params["user_key"], params["password_key"], params["env_file"]),
            ods_failure="input",
        )
    api, project = compose.open_project(module)
    db = compose.project_containers(api, project["project_name"]).get(params["db_service"])
    if db is None or db.status != "running":
        if module.check_mode:  # in a dry run the service may only be "would start"
            module.exit_json(
                changed=False,
                user="",
                action="%s is not running: its password is checked once it runs" % params["db_service"],
            )
        module.fail_json(msg="%s is not running: start it first (ods-fix mysql-connect)" % params["db_service"])
    account = "'%s'@'%s'" % (user, params["host"])
    error = mysqlexec.login_as(api, db, user, password)
    if error is None:
        module.exit_json(
            changed=False, user=account, action="the server already accepts the password in %s" % params["env_file"]
        )
    if error.code != 1045:
        module.fail_json(msg="cannot check %s's password: %s" % (user, error), user=account)
    if module.check_mode:
        module.exit_json(
            changed=True,
            user=account,
            action="would set %s's password to the one in %s (%s)"
            % (account, params["env_file"], params["password_key"]),
        )
    sql = "ALTER USER %s@%s IDENTIFIED BY %s;\nFLUSH PRIVILEGES;\n" % (
        mysqlexec.quote(user),
        mysqlexec.quote(params["host"]),
        mysqlexec.quote(password),
    )
    try:
        mysqlexec.run_sql(api, db, sql, root_password=env.get(params["root_password_key"]))
    except mysqlexec.MysqlError as exc:
        module.fail_json(msg="ALTER USER %s failed: %s" % (account, exc), user=account)
    if mysqlexec.login_as(api, db, user, password) is not None:
        module.fail_json(msg="the server still rejects %s after ALTER USER" % account, user=account)
    module.exit_json(
        changed=True,
        user=account,
        action="set %s's password to the one in %s (%s)" % (account, params["env_file"], params["password_key"]),
    )


if __name__ == "__main__":
    main()
