# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Write report files on the controller (see modules/controller_report.py for the documentation)."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase


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
        dest = os.path.expanduser(str(dest))
        written = []
        try:
            os.makedirs(dest, mode=0o700, exist_ok=True)
            for item in files:
                name, content = str(item["name"]), item.get("content", "")
                if os.path.basename(name) != name or name in (".", ".."):
                    raise AnsibleActionFail("file name %r must not contain a directory" % name)
                path = os.path.join(dest, name)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(to_bytes(content if isinstance(content, str) else str(content)))
                written.append(path)
        except OSError as exc:
            raise AnsibleActionFail("cannot write the report in %s: %s" % (dest, exc)) from exc
        result.update(changed=False, files=written)
        return result
