#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret_rotation
short_description: Rotate the secrets in deploy/.env and the database passwords, with a journal and a rollback
version_added: 0.2.0
description:
  - The manual's 密钥轮换, done so that it cannot break the stack for long. It works in phases, so that the role
    can restart and verify the services between them and roll back on any failure.
  - V(plan) checks the catalog, the keys asked for, the supplied values, C(deploy/.env) and the database, and says
    per key what would happen (rotate, set, or nothing, when the supplied value is already in place). Read-only.
  - V(apply) keeps a private, timestamped backup of C(deploy/.env), writes a journal (key names and the backup's
    path, never values), writes the new values atomically (comments and order kept), then changes the database
    passwords (C(RETAIN CURRENT PASSWORD) where the server has dual passwords, MySQL 8.0.14 and later; otherwise
    in one step, right before the role restarts the APIs). If a database change fails, what it did is undone.
  - V(finish) drops the retained old passwords (dual), checks that the server accepts the new password and
    refuses the old one, and closes the journal.
  - V(rollback) puts back, from the journal's backup, the old values in C(deploy/.env) and the old database
    passwords. With no rotation in progress it undoes the last finished one (C(ods-fix rotate-keys --rollback)).
  - New values are generated here, on the target, from the OS's CSPRNG; supplied values (provider keys) come
    from the action plugin of the same name, which reads them from files on the controller. No value is ever
    in the module's arguments as given in a task, in its result, in a log or on a command line (SQL goes to the
    mysql client on stdin, a login check's password in the exec's environment).
  - Every phase that changes something appends a line to an audit log on the target (time, controller user,
    key names, what happened).
extends_documentation_fragment:
  - ods.fix.project
options:
  state:
    description: The phase.
    type: str
    choices: [plan, apply, finish, rollback]
    default: plan
  env_file:
    description: The settings file (the manual's C(deploy/.env)).
    type: path
    required: true
  catalog:
    description:
      - The secrets catalog, a list of C(name), C(kind) (V(generated), V(database) or V(provider)), C(bytes)
        (generated), C(user) or C(user_key) (database), C(services) (what must restart to read it).
    type: list
    elements: dict
    required: true
  keys:
    description: The keys to rotate; empty means every generated key and database password.
    type: list
    elements: str
    default: []
  value_files:
    description:
      - Per key, a file on the controller holding its new value (one trailing newline is dropped).
      - Read by the action plugin on the controller; the module itself never sees a path or a value in its task.
    type: dict
    default: {}
  supplied:
    description: Filled in by the action plugin from O(value_files); do not set it in a task.
    type: dict
    default: {}
  db_service:
    description: The MySQL service.
    type: str
    default: mysql
  root_password_key:
    description: The env file key of root's password, used when root cannot log in through the socket.
    type: str
    default: MYSQL_ROOT_PASSWORD
  state_dir:
    description: Where the journal of the rotation in progress, and of the last one, is kept (mode 0700).
    type: path
    required: true
  audit_log:
    description: The audit log on the target (JSON lines, mode 0600).
    type: path
    required: true
  keep_backups:
    description: How many backups of the env file to keep.
    type: int
    default: 10
  actor:
    description: Who asked for it (the controller's user), for the audit log.
    type: str
    default: ""
  reason:
    description: Why a rollback happens, for the audit log and the result.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    details: V(plan) is read-only and runs in check mode too; the other phases report and change nothing.
  idempotent:
    support: partial
    details: A supplied value that is already in place is no change; a generated rotation is a change by nature.
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Plan the rotation | 密钥轮换
  ods.fix.secret_rotation:
    project_dir: /home/dev/one-data-studio
    catalog:
      - {name: ALLDATA_SECRET_KEY, kind: generated, services: [alldata-api]}
      - {name: MYSQL_PASSWORD, kind: database, user_key: MYSQL_USER, services: [alldata-api, bisheng-api]}
    state_dir: /home/dev/one-data-studio/deploy/backups/key-rotation
    audit_log: /home/dev/one-data-studio/deploy/audit/key-rotation.log
  register: rotation_plan
"""

RETURN = r"""
plan:
  description: Per key, C(name), C(kind), C(action) (V(rotate), V(set) or V(none)), C(description), C(services).
  returned: always
  type: list
  elements: dict
restart_services:
  description: The services that read a changed key and have a container, in catalog order.
  returned: always
  type: list
  elements: str
absent_services:
  description: The services that read a changed key but have no container; they read it when they start.
  returned: always
  type: list
  elements: str
left_out:
  description: Provider keys not rotated because they were not named (their new value must come from the provider).
  returned: always
  type: list
  elements: str
server:
  description: The database server, C(flavor), C(version), C(dual_password); empty when no database key is involved.
  returned: always
  type: dict
backup:
  description: The backup of the env file (apply, rollback).
  returned: when changed
  type: str
actions:
  description: What was done, one line each (names only).
  returned: always
  type: list
  elements: str
"""

import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, dotenv, keyrotation, mysqlexec, safefile

PENDING, LAST = "pending", "last"
ACTION_WORDS = {"rotate": "to rotate", "set": "to set to the supplied value", "none": "already the supplied value"}


class Rotation(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.env_file = self.params["env_file"]
        self.actions = []
        self._db = None
        self._api = None
        self._containers = None

    # --- failing -------------------------------------------------------------------------------------

    def input_error(self, msg):
        self.module.fail_json(msg=msg, ods_failure="input", actions=self.actions)

    def fail(self, msg):
        self.module.fail_json(msg=msg, actions=self.actions)

    def hide(self, values):
        self.module.no_log_values.update(v for v in values if v)

    def hide_keys(self, env, catalog=None):
        """Mask the values of the catalog's keys and root's password in anything the module returns."""
        names = set(entry["name"] for entry in catalog or keyrotation.normalize_catalog(self.params["catalog"]))
        names.add(self.params["root_password_key"])
        self.hide(value for key, value in env.items() if key in names)

    # --- the database --------------------------------------------------------------------------------

    def containers(self):
        """service -> container of the project (inspected once)."""
        if self._containers is None:
            self._api, project = compose.open_project(self.module)
            self._containers = compose.project_containers(self._api, project["project_name"])
        return self._containers

    def db(self):
        if self._db is None:
            container = self.containers().get(self.params["db_service"])
            if container is None or container.status != "running":
                self.input_error(
                    "%s is not running: a database password cannot be rotated (start it: ods-fix mysql-connect)"
                    % self.params["db_service"]
                )
            self._db = container
        return self._api, self._db

    def sql(self, statements, root_passwords):
        """Run SQL as root: through the socket, else with each candidate root password in turn."""
        api, db = self.db()
        error = None
        for password in [None] + [p for p in root_passwords if p]:
            try:
                return mysqlexec.run_sql(api, db, statements, root_password=password, password_only=bool(password))
            except mysqlexec.MysqlError as exc:
                error = exc
                if exc.code not in (1045, 1698):  # not an authentication failure: another password won't help
                    break
        raise error

    def server(self, root_passwords):
        rows = self.sql("SELECT VERSION();", root_passwords)
        return keyrotation.server_info(rows[0][0] if rows else "")

    def hosts_of(self, user, root_passwords):
        rows = self.sql("SELECT Host FROM mysql.user WHERE User = %s ORDER BY Host;" % mysqlexec.quote(user),
                        root_passwords)
        return [row[0] for row in rows]

    def login_error(self, user, password):
        api, db = self.db()
        return mysqlexec.login_as(api, db, user, password)

    # --- plan ----------------------------------------------------------------------------------------

    def read_env(self):
        path = self.env_file
        if not os.path.isfile(path):
            self.input_error("%s does not exist: nothing to rotate" % path)
        if not os.access(path, os.R_OK):
            self.input_error("%s is not readable" % path)
        if not os.access(path, os.W_OK) or not os.access(os.path.dirname(path), os.W_OK):
            self.input_error("%s is not writable, or its directory is not (the atomic rename needs both)" % path)
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    def plan(self):
        try:
            catalog = keyrotation.normalize_catalog(self.params["catalog"])
            chosen, left_out = keyrotation.select(catalog, self.params["keys"])
        except keyrotation.CatalogError as exc:
            self.input_error(str(exc))
        supplied = self.params["supplied"] or {}
        names = [entry["name"] for entry in chosen]
        stray = [key for key in supplied if key not in names]
        if stray:
            self.input_error("a value was supplied for %s, which is not among the keys rotated (%s)"
                             % (", ".join(stray), ", ".join(names)))
        for entry in chosen:
            if entry["kind"] == "provider" and entry["name"] not in supplied:
                self.input_error(
                    "%s is issued by its provider and cannot be generated: give its new value with "
                    "--value-from-file FILE, --value-from-env VAR, or at the prompt" % entry["name"]
                )
        pending = keyrotation.read_json(keyrotation.journal_path(self.params["state_dir"], PENDING))
        if pending is not None:
            self.input_error(
                "a rotation of %s started at %s did not finish: put the old keys back with "
                "`ods-fix rotate-keys --rollback` first" % (", ".join(pending.get("keys", [])), pending.get("started"))
            )
        text = self.read_env()
        env = dotenv.parse(text)
        self.hide_keys(env, catalog)
        absent = [name for name in names if name not in env]
        if absent:
            self.input_error("%s not in %s: nothing to rotate there" % (", ".join(absent), self.env_file))
        root_passwords = [env.get(self.params["root_password_key"])]
        server = {}
        steps = []
        for entry in chosen:
            step = dict(entry, action="rotate")
            if entry["name"] in supplied:
                step["action"] = "none" if supplied[entry["name"]] == env[entry["name"]] else "set"
            if entry["kind"] == "database":
                server = server or self.checked_server(root_passwords)
                step["user"] = entry["user"] or env.get(entry["user_key"], "")
                if not step["user"]:
                    self.input_error("%s: %s, the user of this password, is not set in %s"
                                     % (entry["name"], entry["user_key"], self.env_file))
                step["hosts"] = self.hosts_of(step["user"], root_passwords)
                if not step["hosts"]:
                    self.input_error("%s: the server has no account %s" % (entry["name"], step["user"]))
                refused = self.login_error(step["user"], env[entry["name"]])
                if refused is not None:
                    self.input_error(
                        "%s: the server refuses the current password of %s (%s): align them first "
                        "(ods-fix mysql-connect --reset-db-password)" % (entry["name"], step["user"], refused)
                    )
            step["description"] = keyrotation.describe(entry, server)
            step["line"] = "%s: %s" % (step["description"], ACTION_WORDS[step["action"]])
            steps.append(step)
        restart, absent = [], []
        running = self.containers()
        for step in steps:
            for service in step["services"] if step["action"] != "none" else []:
                if service not in restart + absent:
                    (restart if service in running else absent).append(service)
        return {
            "plan": steps,
            "restart_services": restart,
            "absent_services": absent,
            "left_out": [entry["name"] for entry in left_out],
            "server": server,
            "text": text,
            "env": env,
        }

    def checked_server(self, root_passwords):
        try:
            return self.server(root_passwords)
        except mysqlexec.MysqlError as exc:
            self.input_error("cannot reach MySQL as root to rotate a database password: %s" % exc)

    # --- apply ---------------------------------------------------------------------------------------

    def apply(self, planned):
        steps = [step for step in planned["plan"] if step["action"] != "none"]
        env, server = planned["env"], planned["server"]
        supplied = self.params["supplied"] or {}
        new = {}
        for step in steps:
            new[step["name"]] = supplied.get(step["name"]) or keyrotation.generate(step["bytes"])
        self.hide(new.values())
        backup = safefile.backup(self.env_file, self.params["keep_backups"])
        self.actions.append("kept %s (0600) before writing" % backup)
        journal = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "actor": self.params["actor"],
            "backup": backup,
            "keys": [step["name"] for step in steps],
            "db": [dict((k, step[k]) for k in ("name", "user", "hosts")) for step in steps if step["kind"] == "database"],
            "server": server,
            "restart_services": planned["restart_services"],
        }
        keyrotation.write_json_private(keyrotation.journal_path(self.params["state_dir"], PENDING), journal)
        # deploy/.env first, then the server: the running APIs keep the old password in memory, so until the
        # restart right after this they still match the server; a crash in between leaves a journal to undo.
        new_text, _ = dotenv.set_values(planned["text"], new)
        safefile.replace(self.env_file, new_text)
        self.actions.append("wrote %s to %s" % (", ".join(journal["keys"]), self.env_file))
        root_passwords = [new.get(self.params["root_password_key"]), env.get(self.params["root_password_key"])]
        changed_accounts = []
        item = None
        try:
            for item in journal["db"]:
                for host in item["hosts"]:
                    sql = keyrotation.set_password_sql(server, item["user"], host, new[item["name"]], retain=True)
                    self.sql(sql + "\nFLUSH PRIVILEGES;", root_passwords)
                    changed_accounts.append((item, host))
                how = "kept the old one until the APIs run on the new" if server.get("dual_password") else "one step"
                self.actions.append("set the server's password of %s on %s (%s)"
                                    % (item["user"], ", ".join(item["hosts"]), how))
        except mysqlexec.MysqlError as exc:
            for done, host in changed_accounts:
                self.sql(keyrotation.set_password_sql(server, done["user"], host, env[done["name"]]), root_passwords)
            safefile.replace(self.env_file, planned["text"])
            os.unlink(keyrotation.journal_path(self.params["state_dir"], PENDING))
            self.fail("the server refused the new password of %s (%s): %s and the passwords already changed "
                      "were put back" % (item["user"], exc, self.env_file))
        self.audit("rotated", journal["keys"], backup)
        return backup, journal

    # --- finish --------------------------------------------------------------------------------------

    def finish(self):
        journal = self.journal(PENDING)
        if journal is None:
            self.input_error("no rotation in progress to finish")
        old = dotenv.read(journal["backup"])
        new = dotenv.read(self.env_file)
        self.hide_keys(old)
        self.hide_keys(new)
        server = journal.get("server") or {}
        root_passwords = [new.get(self.params["root_password_key"]), old.get(self.params["root_password_key"])]
        for item in journal["db"]:
            if server.get("dual_password"):
                for host in item["hosts"]:
                    self.sql(keyrotation.discard_old_sql(item["user"], host), root_passwords)
                self.actions.append("dropped the old password of %s (DISCARD OLD PASSWORD)" % item["user"])
            refused = self.login_error(item["user"], new.get(item["name"], ""))
            if refused is not None:
                self.fail("the server refuses the new password of %s: %s" % (item["user"], refused))
            if old.get(item["name"]) and self.login_error(item["user"], old[item["name"]]) is None:
                self.fail("the server still accepts the old password of %s" % item["user"])
            self.actions.append("the server accepts the new password of %s and refuses the old one" % item["user"])
        os.rename(keyrotation.journal_path(self.params["state_dir"], PENDING),
                  keyrotation.journal_path(self.params["state_dir"], LAST))
        self.audit("verified", journal["keys"], journal["backup"])
        return journal

    # --- rollback ------------------------------------------------------------------------------------

    def journal(self, which):
        return keyrotation.read_json(keyrotation.journal_path(self.params["state_dir"], which))

    def rollback(self):
        which = PENDING if self.journal(PENDING) is not None else LAST
        journal = self.journal(which)
        if journal is None:
            self.input_error("no rotation to roll back: %s holds no journal" % self.params["state_dir"])
        if not os.path.isfile(journal["backup"]):
            self.input_error("the backup %s of the rotation of %s is gone: nothing to put back"
                             % (journal["backup"], ", ".join(journal["keys"])))
        old = dotenv.read(journal["backup"])
        text = self.read_env()
        current = dotenv.parse(text)
        self.hide_keys(old)
        self.hide_keys(current)
        wanted = dict((key, old[key]) for key in journal["keys"] if key in old)
        _, differing = dotenv.set_values(text, wanted)
        db_items = journal.get("db") or []
        if not differing and not any(self.login_error(i["user"], old.get(i["name"], "")) for i in db_items):
            if not self.module.check_mode:  # nothing to put back: close the journal, so that a new rotation may start
                self.close_journal(which, journal, "nothing to put back")
            return journal, None, []
        if self.module.check_mode:
            return journal, None, differing
        server = journal.get("server") or {}
        root_passwords = [current.get(self.params["root_password_key"]), old.get(self.params["root_password_key"])]
        for item in db_items:
            for host in item["hosts"]:
                self.sql(keyrotation.set_password_sql(server, item["user"], host, old[item["name"]]), root_passwords)
                if server.get("dual_password"):
                    self.sql(keyrotation.discard_old_sql(item["user"], host), root_passwords)
            if self.login_error(item["user"], old[item["name"]]) is not None:
                self.fail("after the rollback the server still refuses the old password of %s" % item["user"])
            self.actions.append("put back the server's old password of %s" % item["user"])
        backup = None
        if differing:
            backup = safefile.backup(self.env_file, self.params["keep_backups"])
            new_text, _ = dotenv.set_values(text, wanted)
            safefile.replace(self.env_file, new_text)
            self.actions.append("put back the old %s in %s from %s (the rotated file kept as %s)"
                                % (", ".join(differing), self.env_file, journal["backup"], backup))
        self.close_journal(which, journal, self.params["reason"])
        return journal, backup, differing or journal["keys"]

    def close_journal(self, which, journal, reason):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        shutil.move(keyrotation.journal_path(self.params["state_dir"], which),
                    os.path.join(self.params["state_dir"], "rolled-back-%s.json" % stamp))
        self.audit("rolled back", journal["keys"], journal["backup"], reason=reason)

    def audit(self, event, keys, backup, reason=""):
        record = {"event": event, "keys": keys, "actor": self.params["actor"], "env_file": self.env_file,
                  "backup": backup}
        if reason:
            record["reason"] = reason
        keyrotation.audit(self.params["audit_log"], record)


def main():
    argument_spec = dict(
        state=dict(type="str", default="plan", choices=["plan", "apply", "finish", "rollback"]),
        env_file=dict(type="path", required=True),
        catalog=dict(type="list", elements="dict", required=True),
        keys=dict(type="list", elements="str", default=[], no_log=False),
        value_files=dict(type="dict", default={}),
        supplied=dict(type="dict", default={}, no_log=True),
        db_service=dict(type="str", default="mysql"),
        root_password_key=dict(type="str", default="MYSQL_ROOT_PASSWORD", no_log=False),
        state_dir=dict(type="path", required=True),
        audit_log=dict(type="path", required=True),
        keep_backups=dict(type="int", default=10),
        actor=dict(type="str", default=""),
        reason=dict(type="str", default=""),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    compose.require_docker(module)
    rotation = Rotation(module)
    state = module.params["state"]
    empty = dict(plan=[], restart_services=[], absent_services=[], left_out=[], server={})
    if state == "rollback":
        journal, backup, keys = rotation.rollback()
        restart = journal.get("restart_services", []) if keys else []
        module.exit_json(**dict(empty, changed=bool(keys), actions=rotation.actions, keys=keys, backup=backup,
                                restart_services=restart))
    if state == "finish":
        if module.check_mode:
            module.exit_json(**dict(empty, changed=False, actions=[]))
        journal = rotation.finish()
        module.exit_json(**dict(empty, changed=True, actions=rotation.actions, keys=journal["keys"]))
    planned = rotation.plan()
    public = dict((k, planned[k]) for k in empty)
    changes = [step["name"] for step in planned["plan"] if step["action"] != "none"]
    if state == "plan" or module.check_mode or not changes:
        # plan is read-only; apply in check mode (or with nothing to do) says whether it would change
        module.exit_json(changed=state == "apply" and bool(changes), actions=[], keys=changes, **public)
    backup, journal = rotation.apply(planned)
    module.exit_json(changed=True, actions=rotation.actions, backup=backup, keys=journal["keys"], **public)


if __name__ == "__main__":
    main()
