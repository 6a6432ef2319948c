# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Assemble a fix's report (see modules/fix_report.py for the documentation)."""

from __future__ import annotations

import importlib
import json
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.ods.fix.plugins.module_utils.reportfiles import write_files

LISTS = ("found", "done", "left")
REPORTS = "ansible_collections.ods.fix.plugins.module_utils.reports"


def as_list(value):
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(
        (
            "fix",
            "results",
            "options",
            "builder",
            "found",
            "done",
            "left",
            "details",
            "failed",
            "msg",
            "dest",
            "input_error",
        )
    )
    _requires_connection = False

    def _fix_of_role(self):
        """A fix's role reports under the fix's own name: role api_500 is `ods-fix api-500`."""
        role = self._task._role
        if role is None:
            raise AnsibleActionFail("fix (the catalog name) is required outside a fix's role")
        return role.get_name(include_role_fqcn=False).replace("_", "-")

    def _built(self, fix, args):
        """The fix's builder's report from the raw results (module_utils/reports/<fix>.py)."""
        name = f"{REPORTS}.{fix.replace('-', '_')}"
        try:
            builder = getattr(importlib.import_module(name), args.get("builder") or "build")
        except (ImportError, AttributeError) as exc:
            raise AnsibleActionFail(f"no report builder for {fix}: {exc}") from exc
        try:
            return builder(args["results"], args.get("options") or {}, bool(self._task.check_mode))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # A builder's defect, or results the role did not register: say which, not a bare traceback.
            raise AnsibleActionFail(
                f"cannot build the {fix} report from its results: {type(exc).__name__}: {exc}"
            ) from exc

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        fix = args.get("fix") or self._fix_of_role()
        if args.get("results") is not None:
            args = dict(self._built(fix, args), dest=args.get("dest"))
        report = {"fix": fix, "check_mode": bool(self._task.check_mode)}
        report.update((key, as_list(args.get(key))) for key in LISTS)
        report["details"] = args.get("details") or {}
        failed = bool(args.get("failed"))
        if args.get("dest"):
            host = (task_vars or {}).get("inventory_hostname", "host")
            name = "{}-{}.json".format(fix, time.strftime("%Y%m%d-%H%M%S"))
            try:
                result["files"] = write_files(
                    "{}/{}".format(args["dest"], host),
                    [(name, json.dumps(report, indent=2, ensure_ascii=False, default=str))],
                )
            except (OSError, ValueError) as exc:
                raise AnsibleActionFail(f"cannot write the report: {exc}") from exc
        result.update(changed=False, ods_report=report)
        if failed:
            result["failed"] = True
            result["msg"] = args.get("msg") or (report["left"][0] if report["left"] else f"{fix} failed")
            if args.get("input_error"):
                result["ods_failure"] = "input"  # bad input or configuration: the CLI exits 1
        return result
