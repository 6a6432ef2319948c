#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: secret_rotation
short_description: Rotate the stack's secrets where they are written and the database passwords, with a journal and a rollback
version_added: 0.2.0
description:
  - The manual's 密钥轮换, done so that it cannot break the stack for long. It works in phases, so that the role
    can restart and verify the services between them and roll back on any failure.
  - The secrets are the stack's, where it keeps them (see M(ods.fix.stack_profile)); the manual's C(deploy/.env),
    or the project's C(.env) that the compose files interpolate. Without O(catalog), the catalog is the stack's;
    each secret-named setting there, by what reads it. The one the database reads as its root or user password
    is that password; one only APIs read is generated, or, named like a provider's key, supplied; one another
    server reads too (Redis's C(--requirepass), MinIO) is left for a person, with why (C(not_rotated)).
  - V(plan) checks the catalog, the keys asked for, the supplied values, the settings file and the database, and
    says per key what would happen (rotate, set, or nothing, when the supplied value is already in place), and
    which services must restart (a settings file they read at start) or be recreated (their environment). Read-only.
  - V(apply) keeps a private, timestamped backup of the settings file, writes a journal (key names and the backup's
    path, never values), writes the new values atomically (comments and order kept), then changes the database
    passwords (C(RETAIN CURRENT PASSWORD) where the server has dual passwords, MySQL 8.0.14 and later; otherwise
    in one step, right before the role restarts the APIs). If a database change fails, what it did is undone.
  - V(finish) drops the retained old passwords (dual), checks that the server accepts the new password and
    refuses the old one, and closes the journal.
  - V(rollback) puts back, from the journal's backup, the old values in the settings file and the old database
    passwords. With no rotation in progress it undoes the last finished one (C(ods-fix rotate-keys --rollback)).
  - New values are generated here, on the target, from the OS's CSPRNG; supplied values (provider keys) come
    from the action plugin of the same name, which reads them from files on the controller. No value is ever
    in the module's arguments as given in a task, in its result, in a log or on a command line (SQL goes to the
    mysql client on stdin, a login check's password in the exec's environment).
  - Every phase that changes something appends a line to an audit log on the target (time, controller user,
    key names, what happened).
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  state:
    description: The phase.
    type: str
    choices: [plan, apply, finish, rollback]
    default: plan
  catalog:
    description:
      - The secrets catalog, a list of C(name), C(kind) (V(generated), V(database) or V(provider)), C(bytes)
        (generated), C(user) or C(user_key) (database), C(services) (what reads it; default; as the profile says).
      - Empty means the stack's own, as discovered.
    type: list
    elements: dict
    default: []
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
  - ods-fix contributors (!UNKNOWN)
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

from ansible_collections.ods.fix.plugins.module_utils import safe_file
from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.security import key_rotation, redact
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials, dotenv, settings

PENDING = "pending"
LAST = "last"
ACTION_WORDS = {"rotate": "to rotate", "set": "to set to the supplied value", "none": "already the supplied value"}


class Rotation:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.actions = []
        self._db = None
        self._api, project = compose.open_project(module)
        self.profile = project["profile"]
        self.db_service = compose.role_service(module, self.profile, "database", required=False)
        self._containers = compose.project_containers(self._api, self.profile["project"])
        self.stack_catalog, self.not_rotated = self.discover_catalog()
        self.env_file = self.settings_file()

    # --- failing -------------------------------------------------------------------------------------

    def input_error(self, msg):
        self.module.fail_json(msg=msg, ods_failure="input", actions=self.actions)

    def fail(self, msg):
        self.module.fail_json(msg=msg, actions=self.actions)

    def hide(self, values):
        """Mask each value in whatever the module returns, in every form it may take there (escaped, encoded);
        but never within the project's own names, which the next steps take from what this module returns (the
        services to restart): Ansible masks inside strings, and a password that is part of a service's name
        (redis, admin) would make them restart "********" or "********-api". Such a password is no secret."""
        names = set(self.profile["services"]) | {c.name for c in self._containers.values()}
        for value in values:
            if value and not any(value in name for name in names):
                self.module.no_log_values.update(form for form in redact.forms(value) if len(form) >= 4)

    def hide_keys(self, env, catalog=None):
        """Mask the values of the catalog's keys and every secret-named setting in anything the module returns."""
        names = set(entry["name"] for entry in catalog or self.catalog())
        self.hide(value for key, value in env.items() if key in names or redact.is_secret_name(key))

    # --- the stack's secrets -------------------------------------------------------------------------

    def catalog(self):
        """The secrets catalog: the inventory's (rotate_keys_secrets) when it gives one, else the stack's."""
        given = self.params["catalog"]
        try:
            catalog = key_rotation.normalize_catalog(given) if given else self.stack_catalog
        except key_rotation.CatalogError as exc:
            self.input_error(str(exc))
        for entry in catalog:
            if not entry["services"]:
                entry["services"] = self.readers(entry["name"])
        return catalog

    def readers(self, name):
        """The services to restart or recreate for a new value of NAME: never the database, which reads only its
        own passwords (changed in the server, not by a restart)."""
        found = settings.readers(self.profile, name)
        return sorted(s for s in found if s != self.db_service)

    def discover_catalog(self):
        """[catalog entry] of the stack's secret settings, and {name: why not} for those left to a person."""
        profile = self.profile
        roles_of = dict((s, e["role"]) for s, e in profile["services"].items())
        # The MySQL and MariaDB images read only their MYSQL_* / MARIADB_* settings: any other key the database's
        # container sees (deploy/.env mounted whole, say) is not the database's to read.
        database_reads = {}
        if self.db_service:
            for key, origin in settings.origins(profile, self.db_service).items():
                if key.startswith(("MYSQL_", "MARIADB_")):
                    database_reads[key] = (origin.get("vars") or [key])[0] if origin["kind"] == "interpolated" else key
        db_values = settings.configured(profile, self.db_service) if self.db_service else {}
        catalog, not_rotated, seen = [], {}, set()
        for path in settings.settings_files(profile):
            values = dotenv.read(path)
            for name in values:
                if name in seen or not redact.is_secret_name(name):
                    continue
                seen.add(name)
                readers = sorted(
                    s
                    for s in settings.readers(profile, name)
                    if s != self.db_service or name in database_reads.values()
                )
                kind, why = key_rotation.classify(name, readers, roles_of, database_reads)
                if kind is None:
                    not_rotated[name] = why
                    continue
                if kind == "generated" and "\n" in values[name]:
                    kind = "provider"  # a key or a certificate of several lines: only its issuer makes a new one
                entry = {"name": name, "kind": kind}
                if kind == "database":
                    entry["user"] = (
                        "root"
                        if why == "root"
                        else (db_values.get("MYSQL_USER") or db_values.get("MARIADB_USER") or "")
                    )
                    if not entry["user"]:
                        not_rotated[name] = "the database's user for it is not set"
                        continue
                catalog.append(entry)
        return key_rotation.normalize_catalog(catalog), not_rotated

    def settings_file(self):
        """The one file the rotated keys are written in (a deploy/.env, or the project's .env)."""
        files = set()
        for entry in self.catalog() if self.params["state"] in ("plan", "apply") else []:
            if entry["name"] in (self.params["keys"] or []) or not self.params["keys"]:
                files.update(self.file_of(entry["name"]))
        if len(files) > 1:
            self.input_error(
                "the keys are written in several files ({}): rotate them a file at a time with --key".format(
                    ", ".join(sorted(files))
                )
            )
        if files:
            return files.pop()
        journal = self.journal(PENDING) or self.journal(LAST) or {}
        return journal.get("env_file") or settings._dotenv_path(self.profile)

    def file_of(self, name):
        found = set()
        for service in sorted(self.profile["services"]):
            for key, origin in settings.origins(self.profile, service).items():
                if origin["kind"] in ("mounted", "env_file") and key == name:
                    found.add(origin["file"])
                elif origin["kind"] == "interpolated" and name in (origin.get("vars") or []):
                    found.add(origin.get("file") or settings._dotenv_path(self.profile))
        if not found:
            found.update(p for p in settings.settings_files(self.profile) if name in dotenv.read(p))
        return found

    # --- the database --------------------------------------------------------------------------------

    def containers(self):
        """service -> container of the project (listed once)."""
        return self._containers

    def db(self):
        if self._db is None:
            container = self.containers().get(self.db_service) if self.db_service else None
            if container is None or container.status != "running":
                self.input_error(
                    "%s is not running: a database password cannot be rotated (start it: ods-fix mysql-connect)"
                    % (self.db_service or "the database")
                )
            self._db = container
        return self._api, self._db

    def sql(self, statements, root_passwords):
        """Run SQL as root: with the given passwords first (a rotation's new and old), then as the stack says."""
        api, db = self.db()
        given = [("a password of this rotation", p) for p in root_passwords if p]
        stack = credentials.root_passwords(api, self.profile, self.db_service, db, self.params["db_root_password_file"])
        root = root_access.Root(api, db, given + stack, self.profile["services"][self.db_service].get("clients"))
        return root_access.run_sql(api, db, statements, root=root)

    def root_key(self):
        """The file's name of root's password (the catalog's database entry for root), or None."""
        return next((e["name"] for e in self.catalog() if e["kind"] == "database" and e["user"] == "root"), None)

    def server(self, root_passwords):
        rows = self.sql("SELECT VERSION();", root_passwords)
        return key_rotation.server_info(rows[0][0] if rows else "")

    def hosts_of(self, user, root_passwords):
        rows = self.sql(
            f"SELECT Host FROM mysql.user WHERE User = {root_access.quote(user)} ORDER BY Host;", root_passwords
        )
        return [row[0] for row in rows]

    def login_error(self, user, password):
        api, db = self.db()
        return root_access.login_as(api, db, user, password)

    # --- plan ----------------------------------------------------------------------------------------

    def read_env(self):
        path = self.env_file
        if not os.path.isfile(path):
            self.input_error(f"{path} does not exist: nothing to rotate")
        if not os.access(path, os.R_OK):
            self.input_error(f"{path} is not readable")
        if not os.access(path, os.W_OK) or not os.access(os.path.dirname(path), os.W_OK):
            self.input_error(f"{path} is not writable, or its directory is not (the atomic rename needs both)")
        with open(path, encoding="utf-8", newline="") as handle:  # its bytes as they are (CRLF too)
            text = handle.read()
        try:
            dotenv.entries(text)
        except dotenv.DotenvError as exc:
            self.input_error(f"{path} cannot be read as Compose reads it: {exc}")
        return text

    def plan(self):
        catalog = self.catalog()
        try:
            chosen, left_out = key_rotation.select(catalog, self.params["keys"])
        except key_rotation.CatalogError as exc:
            why = dict((k, v) for k, v in self.not_rotated.items() if k in (self.params["keys"] or []))
            if why:
                self.input_error(
                    "{} cannot be rotated here: {}".format(
                        ", ".join(why), "; ".join("{}: {}".format(*item) for item in sorted(why.items()))
                    )
                )
            self.input_error(str(exc))
        supplied = self.params["supplied"] or {}
        names = [entry["name"] for entry in chosen]
        stray = [key for key in supplied if key not in names]
        if stray:
            self.input_error(
                "a value was supplied for {}, which is not among the keys rotated ({})".format(
                    ", ".join(stray), ", ".join(names)
                )
            )
        for entry in chosen:
            if entry["kind"] == "provider" and entry["name"] not in supplied:
                self.input_error(
                    "{} is issued by its provider and cannot be generated: give its new value with "
                    "--value-from-file FILE, --value-from-env VAR, or at the prompt".format(entry["name"])
                )
        pending = key_rotation.read_json(key_rotation.journal_path(self.params["state_dir"], PENDING))
        if pending is not None:
            self.input_error(
                "a rotation of {} started at {} did not finish: put the old keys back with "
                "`ods-fix rotate-keys --rollback` first".format(
                    ", ".join(pending.get("keys", [])), pending.get("started")
                )
            )
        text = self.read_env()
        env = dotenv.parse(text)
        self.hide_keys(env, catalog)
        absent = [name for name in names if name not in env]
        if absent:
            self.input_error("{} not in {}: nothing to rotate there".format(", ".join(absent), self.env_file))
        root_passwords = [env.get(self.root_key() or "")]
        server = {}
        steps = []
        for entry in chosen:
            step = dict(entry, action="rotate")
            lines = "\n" in env[entry["name"]]
            if entry["name"] in supplied:
                step["action"] = "none" if supplied[entry["name"]] == env[entry["name"]] else "set"
                try:
                    dotenv.check_value(entry["name"], supplied[entry["name"]], multiline=lines)
                except ValueError as exc:
                    self.input_error(str(exc))
            elif lines:  # a key or a certificate: a random string is no new one of its kind, nor half of one
                self.input_error(
                    "{} holds a value of several lines (a key or a certificate?) in {}: ods-fix does not generate "
                    "one; give its whole new value with --value-from-file FILE, or leave it out of --keys".format(
                        entry["name"], self.env_file
                    )
                )
            if entry["kind"] == "database":
                server = server or self.checked_server(root_passwords)
                step["user"] = entry["user"] or env.get(entry["user_key"], "")
                if not step["user"]:
                    self.input_error(
                        "{}: {}, the user of this password, is not set in {}".format(
                            entry["name"], entry["user_key"], self.env_file
                        )
                    )
                step["hosts"] = self.hosts_of(step["user"], root_passwords)
                if not step["hosts"]:
                    self.input_error("{}: the server has no account {}".format(entry["name"], step["user"]))
                refused = self.login_error(step["user"], env[entry["name"]])
                if refused is not None:
                    self.input_error(
                        "{}: the server refuses the current password of {} ({}): align them first "
                        "(ods-fix mysql-connect --reset-db-password)".format(entry["name"], step["user"], refused)
                    )
            step["description"] = key_rotation.describe(entry, server)
            step["line"] = "{}: {}".format(step["description"], ACTION_WORDS[step["action"]])
            steps.append(step)
        restart, recreate, absent = [], [], []
        running = self.containers()
        for step in steps:
            for service in step["services"] if step["action"] != "none" else []:
                if service in restart + recreate + absent:
                    continue
                origin = settings.readers(self.profile, step["name"], [service]).get(service) or {}
                if service not in running:
                    absent.append(service)
                else:
                    (restart if origin.get("kind") == "mounted" else recreate).append(service)
        return {
            "plan": steps,
            "restart_services": restart,
            "recreate_services": recreate,
            "absent_services": absent,
            "not_rotated": ["{} was not rotated: {}".format(*item) for item in sorted(self.not_rotated.items())],
            "left_out": [entry["name"] for entry in left_out],
            "server": server,
            "text": text,
            "env": env,
        }

    def checked_server(self, root_passwords):
        try:
            return self.server(root_passwords)
        except root_access.MysqlError as exc:
            self.input_error(f"cannot reach MySQL as root to rotate a database password: {exc}")

    # --- apply ---------------------------------------------------------------------------------------

    def apply(self, planned):
        steps = [step for step in planned["plan"] if step["action"] != "none"]
        env, server = planned["env"], planned["server"]
        supplied = self.params["supplied"] or {}
        new = {}
        for step in steps:
            new[step["name"]] = supplied.get(step["name"]) or key_rotation.generate(step["bytes"])
        self.hide(new.values())
        backup = safe_file.backup(self.env_file, self.params["keep_backups"], self.params["state_dir"])
        self.actions.append(f"kept {backup} (0600) before writing")
        journal = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "actor": self.params["actor"],
            "backup": backup,
            "keys": [step["name"] for step in steps],
            "db": [
                dict((k, step[k]) for k in ("name", "user", "hosts")) for step in steps if step["kind"] == "database"
            ],
            "server": server,
            "restart_services": planned["restart_services"],
            "recreate_services": planned["recreate_services"],
            "env_file": self.env_file,
        }
        key_rotation.write_json_private(key_rotation.journal_path(self.params["state_dir"], PENDING), journal)
        # deploy/.env first, then the server: the running APIs keep the old password in memory, so until the
        # restart right after this they still match the server; a crash in between leaves a journal to undo.
        new_text, _unused = dotenv.set_values(planned["text"], new)
        safe_file.replace(self.env_file, new_text)
        self.actions.append("wrote {} to {}".format(", ".join(journal["keys"]), self.env_file))
        root_key = self.root_key() or ""
        root_passwords = [new.get(root_key), env.get(root_key)]
        changed_accounts = []
        item = None
        try:
            for item in journal["db"]:
                for host in item["hosts"]:
                    sql = key_rotation.set_password_sql(server, item["user"], host, new[item["name"]], retain=True)
                    self.sql(sql + "\nFLUSH PRIVILEGES;", root_passwords)
                    changed_accounts.append((item, host))
                how = "kept the old one until the APIs run on the new" if server.get("dual_password") else "one step"
                self.actions.append(
                    "set the server's password of {} on {} ({})".format(item["user"], ", ".join(item["hosts"]), how)
                )
        except root_access.MysqlError as exc:
            for done, host in changed_accounts:
                self.sql(key_rotation.set_password_sql(server, done["user"], host, env[done["name"]]), root_passwords)
            safe_file.replace(self.env_file, planned["text"])
            os.unlink(key_rotation.journal_path(self.params["state_dir"], PENDING))
            self.fail(
                "the server refused the new password of {} ({}): {} and the passwords already changed "
                "were put back".format(item["user"], exc, self.env_file)
            )
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
        root_key = self.root_key() or ""
        root_passwords = [new.get(root_key), old.get(root_key)]
        for item in journal["db"]:
            if server.get("dual_password"):
                for host in item["hosts"]:
                    self.sql(key_rotation.discard_old_sql(item["user"], host), root_passwords)
                self.actions.append("dropped the old password of {} (DISCARD OLD PASSWORD)".format(item["user"]))
            refused = self.login_error(item["user"], new.get(item["name"], ""))
            if refused is not None:
                self.fail("the server refuses the new password of {}: {}".format(item["user"], refused))
            if old.get(item["name"]) and self.login_error(item["user"], old[item["name"]]) is None:
                self.fail("the server still accepts the old password of {}".format(item["user"]))
            self.actions.append(
                "the server accepts the new password of {} and refuses the old one".format(item["user"])
            )
        os.rename(
            key_rotation.journal_path(self.params["state_dir"], PENDING),
            key_rotation.journal_path(self.params["state_dir"], LAST),
        )
        self.audit("verified", journal["keys"], journal["backup"])
        return journal

    # --- rollback ------------------------------------------------------------------------------------

    def journal(self, which):
        return key_rotation.read_json(key_rotation.journal_path(self.params["state_dir"], which))

    def rollback(self):
        which = PENDING if self.journal(PENDING) is not None else LAST
        journal = self.journal(which)
        if journal is None:
            self.input_error("no rotation to roll back: {} holds no journal".format(self.params["state_dir"]))
        if not os.path.isfile(journal["backup"]):
            self.input_error(
                "the backup {} of the rotation of {} is gone: nothing to put back".format(
                    journal["backup"], ", ".join(journal["keys"])
                )
            )
        with open(journal["backup"], encoding="utf-8", newline="") as handle:
            backup_text = handle.read()
        old = dotenv.parse(backup_text)
        text = self.read_env()
        current = dotenv.parse(text)
        self.hide_keys(old)
        self.hide_keys(current)
        differing = [key for key in journal["keys"] if old.get(key) != current.get(key)]
        # Other settings changed since the rotation (by hand): the file goes back whole all the same, and the
        # current one is kept; the report names them, so that nothing is lost unseen.
        edited = sorted(k for k in set(old) | set(current) if k not in journal["keys"] and old.get(k) != current.get(k))
        db_items = journal.get("db") or []
        if text == backup_text and not any(self.login_error(i["user"], old.get(i["name"], "")) for i in db_items):
            if not self.module.check_mode:  # nothing to put back: close the journal, so that a new rotation may start
                self.close_journal(which, journal, "nothing to put back")
            return journal, None, []
        if self.module.check_mode:
            return journal, None, differing
        server = journal.get("server") or {}
        root_key = self.root_key() or ""
        root_passwords = [current.get(root_key), old.get(root_key)]
        for item in db_items:
            for host in item["hosts"]:
                self.sql(key_rotation.set_password_sql(server, item["user"], host, old[item["name"]]), root_passwords)
                if server.get("dual_password"):
                    self.sql(key_rotation.discard_old_sql(item["user"], host), root_passwords)
            if self.login_error(item["user"], old[item["name"]]) is not None:
                self.fail("after the rollback the server still refuses the old password of {}".format(item["user"]))
            self.actions.append("put back the server's old password of {}".format(item["user"]))
        backup = None
        if text != backup_text:  # the file as it was, byte for byte: its other lines, its quoting, its key's lines
            backup = safe_file.backup(self.env_file, self.params["keep_backups"], self.params["state_dir"])
            safe_file.replace(self.env_file, backup_text)
            self.actions.append(
                "put back {} as it was before the rotation of {}, from {} (the rotated file kept as {})".format(
                    self.env_file, ", ".join(journal["keys"]), journal["backup"], backup
                )
            )
            if edited:
                self.actions.append(
                    "{} had changed since the rotation too; their later values are in {}".format(
                        ", ".join(edited), backup
                    )
                )
        self.close_journal(which, journal, self.params["reason"])
        return journal, backup, differing or journal["keys"]

    def close_journal(self, which, journal, reason):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        shutil.move(
            key_rotation.journal_path(self.params["state_dir"], which),
            os.path.join(self.params["state_dir"], f"rolled-back-{stamp}.json"),
        )
        self.audit("rolled back", journal["keys"], journal["backup"], reason=reason)

    def audit(self, event, keys, backup, reason=""):
        record = {
            "event": event,
            "keys": keys,
            "actor": self.params["actor"],
            "env_file": self.env_file,
            "backup": backup,
        }
        if reason:
            # A reason can quote a service's log: the audit log is promised never to hold a value.
            record["reason"] = redact.Redactor().redact(key_rotation.scrub(reason, self.module.no_log_values))
        key_rotation.audit(self.params["audit_log"], record)


def main():
    argument_spec = dict(
        state=dict(type="str", default="plan", choices=["plan", "apply", "finish", "rollback"]),
        catalog=dict(type="list", elements="dict", default=[]),
        keys=dict(type="list", elements="str", default=[], no_log=False),
        value_files=dict(type="dict", default={}),
        supplied=dict(type="dict", default={}, no_log=True),
        state_dir=dict(type="path", required=True),
        audit_log=dict(type="path", required=True),
        keep_backups=dict(type="int", default=10),
        actor=dict(type="str", default=""),
        reason=dict(type="str", default=""),
    )
    module = compose.stack_module(argument_spec)
    compose.require_docker(module)
    rotation = Rotation(module)
    state = module.params["state"]
    empty = dict(
        plan=[],
        restart_services=[],
        recreate_services=[],
        absent_services=[],
        left_out=[],
        server={},
        not_rotated=[],
        env_file=rotation.env_file,
    )
    if state == "rollback":
        journal, backup, keys = rotation.rollback()
        restart = journal.get("restart_services", []) if keys else []
        recreate = journal.get("recreate_services", []) if keys else []
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            **{
                **empty,
                "changed": bool(keys),
                "actions": rotation.actions,
                "keys": keys,
                "backup": backup,
                "restart_services": restart,
                "recreate_services": recreate,
            },
        )
    if state == "finish":
        if module.check_mode:
            module.exit_json(ansible_facts=compose.profile_facts(module), **dict(empty, changed=False, actions=[]))
        journal = rotation.finish()
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            **dict(empty, changed=True, actions=rotation.actions, keys=journal["keys"]),
        )
    planned = rotation.plan()
    public = dict((k, planned.get(k, empty[k])) for k in empty)
    changes = [step["name"] for step in planned["plan"] if step["action"] != "none"]
    if state == "plan" or module.check_mode or not changes:
        # plan is read-only; apply in check mode (or with nothing to do) says whether it would change
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=state == "apply" and bool(changes),
            actions=[],
            keys=changes,
            **public,
        )
    backup, journal = rotation.apply(planned)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=True,
        actions=rotation.actions,
        backup=backup,
        keys=journal["keys"],
        **public,
    )


if __name__ == "__main__":
    main()
