#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: mysql_user_password
short_description: Make the database server accept the password the APIs are configured with
version_added: 0.1.0
description:
  - Reads the user and password an API runs with (its C(MYSQL_USER)/C(MYSQL_PASSWORD), or its
    C(DATABASE_URL)), checks whether the server accepts them, and only if it does not, runs
    C(ALTER USER ... IDENTIFIED BY) as root inside the database's container. The statement goes in on
    stdin; the password is never on a command line, in the module's arguments or in its result.
  - Root logs in as the stack allows (see M(ods.fix.db_connectivity)); the container's
    C(MYSQL_ROOT_PASSWORD), the settings files, O(db_root_password_file), or the socket.
  - community.mysql's C(mysql_user) would need the password as a module argument and a client connection
    from the target to the server; this module keeps the secret inside the target, as the manual's
    C(docker-compose exec mysql mysql) does.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  service:
    description: The API whose database login is set. Empty means the first API configured with one.
    type: str
    default: ""
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
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Align the server's password with the APIs' settings | 验证密码配置
  ods.fix.mysql_user_password:
    project_dir: /home/dev/one-data-studio
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

from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.security import redact
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials, discovery, settings


def main():
    argument_spec = dict(
        service=dict(type="str", default=""),
        host=dict(type="str", default="%"),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    api, profile, name, containers = compose.open_role(module, "database")
    candidates = [params["service"]] if params["service"] else compose.role_apis(module, profile)
    compose.check_services(module, profile, candidates)
    found = [(s, credentials.app_database(settings.current(profile, s, containers.get(s)))) for s in candidates]
    found = [(s, login) for s, login in found if login and login["user"] and login["password"]]
    if not found:
        module.fail_json(msg="no API of the stack is configured with a database user and password", ods_failure="input")
    service, login = found[0]
    # In every form: a server error (ERROR 1064) quotes the statement, where the password is an escaped literal.
    module.no_log_values.update(redact.forms(login["password"], sql=True))
    user, password = login["user"], login["password"]
    origin = discovery.describe_setting(profile, service, login["password_key"]) or f"{service}'s environment"
    db = containers.get(name)
    if db is None or db.status != "running":
        if module.check_mode:  # in a dry run the service may only be "would start"
            module.exit_json(
                ansible_facts=compose.profile_facts(module),
                changed=False,
                user="",
                action=f"{name} is not running: its password is checked once it runs",
            )
        module.fail_json(msg=f"{name} is not running: start it first (ods-fix mysql-connect)")
    account = "'{}'@'{}'".format(user, params["host"])
    error = root_access.login_as(api, db, user, password)
    if error is None:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=False,
            user=account,
            action=f"the server already accepts the password {service} uses",
        )
    if error.code != 1045:
        module.fail_json(msg=f"cannot check {user}'s password: {error}", user=account)
    if module.check_mode:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=True,
            user=account,
            action=f"would set {account}'s password to the one {service} uses ({origin})",
        )
    sql = "ALTER USER {}@{} IDENTIFIED BY {};\nFLUSH PRIVILEGES;\n".format(
        root_access.quote(user),
        root_access.quote(params["host"]),
        root_access.quote(password),
    )
    root = root_access.for_service(api, profile, name, db, params["db_root_password_file"])
    try:
        root_access.run_sql(api, db, sql, root=root)
    except root_access.MysqlError as exc:
        module.fail_json(msg=f"ALTER USER {account} failed: {exc}", user=account)
    if root_access.login_as(api, db, user, password) is not None:
        module.fail_json(msg=f"the server still rejects {account} after ALTER USER", user=account)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=True,
        user=account,
        action=f"set {account}'s password to the one {service} uses ({origin})",
    )


if __name__ == "__main__":
    main()
