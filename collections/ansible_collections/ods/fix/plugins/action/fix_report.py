# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Assemble a fix's report (see modules/fix_report.py for the documentation)."""

from __future__ import annotations

import importlib
import json
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.ods.fix.plugins.module_utils import project_lock
from ansible_collections.ods.fix.plugins.plugin_utils.report_files import write_files
from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import failure_report

LISTS = ("found", "done", "left")
REPORTS = "ansible_collections.ods.fix.plugins.plugin_utils.reports"


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
            "failure",
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
        """The fix's builder's report from the raw results (plugin_utils/reports/<fix>.py)."""
        name = f"{REPORTS}.{fix.replace('-', '_')}"
        try:
            module = importlib.import_module(name)
            builder = getattr(module, args.get("builder") or "build")
        except (ImportError, AttributeError) as exc:
            raise AnsibleActionFail(f"no report builder for {fix}: {exc}") from exc
        try:
            built = builder(args["results"], args.get("options") or {}, bool(self._task.check_mode))
            if args.get("failure"):
                where = getattr(module, "where_to_look", None)
                built["where"] = where(args["results"], args.get("options") or {}) if where else []
            return built
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # A builder's defect, or results the role did not register: say which, not a bare traceback.
            raise AnsibleActionFail(
                f"cannot build the {fix} report from its results: {type(exc).__name__}: {exc}"
            ) from exc

    def _failed(self, fix, args, task_vars):
        """A rescue's report: what the builder can tell from the steps that ran, the failure, where to look."""
        failure = args["failure"]
        try:
            built = self._built(fix, args) if args.get("results") is not None else {}
        except AnsibleActionFail as exc:  # partial results a builder cannot read: the failure is reported anyway
            built = {"details": {"report_error": str(exc)}}
        return dict(
            failure_report(built, failure, args.get("dest"), (task_vars or {}).get("inventory_hostname", "host")),
            dest=args.get("dest"),
        )

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        fix = args.get("fix") or self._fix_of_role()
        failure = args.get("failure")
        if failure and boolean(failure.get("reported", False), strict=False):  # a refusal that wrote its report
            return dict(
                result,
                changed=False,
                failed=True,
                msg=failure.get("msg") or f"{fix} failed",
                **({"ods_failure": "input"} if failure.get("ods_failure") == "input" else {}),
            )
        if failure:
            args = self._failed(fix, args, task_vars)
        elif args.get("results") is not None:
            args = dict(self._built(fix, args), dest=args.get("dest"))
        report = {"fix": fix, "check_mode": bool(self._task.check_mode)}
        report.update((key, as_list(args.get(key))) for key in LISTS)
        holder = ((task_vars or {}).get("ods_lock_taken") or {}).get("holder")
        if self._task.check_mode and holder:  # --check takes no lock: it says which run holds it
            report["found"].insert(0, f"a fix is at work on this project: {project_lock.describe(holder)}")
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
