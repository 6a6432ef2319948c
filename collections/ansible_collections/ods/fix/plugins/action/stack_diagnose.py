# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Run stack_diagnose on the target with the fix catalog's symptom map (see modules/stack_diagnose.py).

The catalog stays on the controller (plugin_utils): the target gets only what its triage matches findings
against, not the CLI's catalog of options and flags.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.ods.fix.plugins.plugin_utils import catalog


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        args.setdefault("fixes", catalog.symptom_map())
        result.update(self._execute_module(module_name="ods.fix.stack_diagnose", module_args=args, task_vars=task_vars))
        return result
