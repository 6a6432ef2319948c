# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Read supplied secret values on the controller, hand them to the secret_rotation module, return no value.

A provider key's new value is in a file on the controller (ods-fix writes a
private one for --value-from-env and the prompt). The task names only the
file; this plugin reads it here and passes the value to the module as a
no_log argument (sent with the module, never shown), then scrubs the result.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase
from ansible_collections.ods.fix.plugins.module_utils.security.key_rotation import scrub, strip_value


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        files = args.pop("value_files", None) or {}
        supplied = {}
        for key, given in files.items():
            path = os.path.expanduser(str(given))
            try:
                with open(path, encoding="utf-8") as handle:
                    value = strip_value(handle.read())
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
                result.update(
                    failed=True,
                    ods_failure="input",
                    msg=f"cannot read the new value of {key} from {path}: {reason}",
                )
                return result
            if not value.strip():
                result.update(failed=True, ods_failure="input", msg=f"{path} is empty: no new value for {key}")
                return result
            if "\n" in value or "\x00" in value:
                result.update(
                    failed=True,
                    ods_failure="input",
                    msg=f"{path} holds more than one line: a value for {key} is one line",
                )
                return result
            supplied[str(key)] = value
        if supplied:
            args["supplied"] = supplied
        module_result = self._execute_module(
            module_name="ods.fix.secret_rotation", module_args=args, task_vars=task_vars
        )
        result.update(scrub(module_result, sorted(supplied.values(), key=len, reverse=True)))
        return result
