#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: env_file
short_description: Set keys in the ODS settings file (deploy/.env) safely
version_added: 0.1.0
description:
  - Sets each KEY=value in place, keeping comments, blank lines and order; a missing key is appended.
  - Before it writes, it keeps a backup (C(.env.ods-fix-backup-YYYYMMDD-HHMMSS), mode 0600, the newest
    O(keep_backups) kept); it then writes atomically (a temporary file in the same directory, fsynced,
    renamed over the old one) with the old file's owner and mode.
  - Nothing is written when every value is already in place.
  - A value holding a control character (newline, carriage return, tab, NUL) is refused.
  - Unlike C(ansible.builtin.lineinfile) (one key per task, no backup rotation, a secret in its arguments
    unless no_log is set on each task) this sets several keys in one atomic write and never returns a
    value when O(secret=true).
extends_documentation_fragment:
  - ods.fix.attributes
options:
  path:
    description: The env file.
    type: path
    required: true
  values:
    description: KEY to value.
    type: dict
    required: true
  secret:
    description: The values are secrets; they are not logged. No value is ever returned, and the diff names keys only.
    type: bool
    default: false
  backup_dir:
    description:
      - Where the backups go; empty puts them beside the file. The ods-fix roles keep them in C(ods_state_dir),
        outside the project, whose directories the containers mount (an old secret kept beside C(.env) is one a
        compromised container can read).
    type: path
  keep_backups:
    description: How many backups to keep.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    details: Reports the keys it would change, writes nothing.
  diff_mode:
    description: Returns details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: Key names only, never values, whether or not O(secret) is set.
  idempotent:
    support: full
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Lower the log level | 降低日志级别
  ods.fix.env_file:
    path: /home/dev/one-data-studio/deploy/.env
    values:
      LOG_LEVEL: INFO
"""

RETURN = r"""
changed_keys:
  description: The keys set (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
backup:
  description: The backup written, when the file changed.
  returned: when changed and not in check mode
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import safe_file
from ansible_collections.ods.fix.plugins.module_utils.stack import dotenv


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            values=dict(type="dict", required=True, no_log=False),
            secret=dict(type="bool", default=False),
            keep_backups=dict(type="int", default=10),
            backup_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["secret"]:
        module.no_log_values.update(str(v) for v in params["values"].values() if v)
    path = params["path"]
    if not os.path.isfile(path):
        module.fail_json(msg=f"{path} does not exist", ods_failure="input")
    if not os.access(path, os.W_OK) and not module.check_mode:
        module.fail_json(msg=f"{path} is not writable", ods_failure="input")
    values = dict((str(k), str(v)) for k, v in params["values"].items())
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        new_text, changed_keys = dotenv.set_values(text, values)
    except ValueError as exc:  # a newline in a value would add a line, a new KEY=, to the file
        module.fail_json(msg=f"{exc}; {path} was not changed", ods_failure="input")
    result = {"changed": bool(changed_keys), "changed_keys": changed_keys}
    if module._diff:
        # key-level only: the file's other lines hold passwords and keys, and a diff lands in job events
        result["diff"] = {
            "before_header": path,
            "after_header": path,
            "prepared": "set {}".format(", ".join(sorted(changed_keys))) if changed_keys else "",
        }
    if changed_keys and not module.check_mode:
        result["backup"] = safe_file.backup(path, params["keep_backups"], params["backup_dir"])
        safe_file.replace(path, new_text)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
