# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Write report files on the controller (see modules/controller_report.py for the documentation)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.ods.fix.plugins.plugin_utils.report_files import write_files


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "files"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dest = self._task.args.get("dest")
        files = self._task.args.get("files") or []
        if not dest or not isinstance(files, list) or not all(isinstance(f, dict) and "name" in f for f in files):
            raise AnsibleActionFail("dest (a directory) and files (a list of {name, content}) are required")
        try:
            written = write_files(dest, [(f["name"], f.get("content", "")) for f in files])
        except (OSError, ValueError) as exc:
            raise AnsibleActionFail(f"cannot write the report in {dest}: {exc}") from exc
        result.update(changed=False, files=written)
        return result
