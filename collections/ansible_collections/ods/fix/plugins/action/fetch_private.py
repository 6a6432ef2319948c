# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Fetch files from the target into a directory on the controller, privately (see modules/fetch_private.py)."""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False  # ansible.builtin.fetch, which it runs, makes what it needs on the target
    _VALID_ARGS = frozenset(("src", "dest"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        sources = self._task.args.get("src")
        dest = self._task.args.get("dest")
        if not dest or not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
            raise AnsibleActionFail("src (a list of paths on the target) and dest (a directory here) are required")
        names = [os.path.basename(source) for source in sources]
        if len(set(names)) != len(names) or any(name in ("", ".", "..") for name in names):
            raise AnsibleActionFail(f"the files to fetch need distinct file names: {', '.join(sources)}")
        dest = os.path.expanduser(str(dest))
        if self._task.check_mode:
            result.update(changed=False, skipped=True, msg="check mode: nothing fetched", fetched=[])
            return result
        try:
            # Created 0700 when missing; an existing directory's mode is the user's and stays.
            os.makedirs(dest, mode=0o700, exist_ok=True)
            private = tempfile.mkdtemp(dir=dest, prefix=".ods-fix-fetch-")  # 0700
        except OSError as exc:
            raise AnsibleActionFail(f"cannot make the directory {dest} on this machine: {exc}") from exc
        fetched = []
        try:
            for source, name in zip(sources, names, strict=True):
                landed = os.path.join(private, name)
                # Ansible's own fetch: the target's checksum is compared with what arrived.
                outcome = self._fetch(source, landed, task_vars)
                if outcome.get("failed"):
                    raise AnsibleActionFail(f"cannot fetch {source}: {outcome.get('msg', 'the fetch failed')}")
                os.chmod(landed, 0o600)  # in the 0700 directory: never readable by others, not even for a moment
                os.rename(landed, os.path.join(dest, name))
                fetched.append(os.path.join(dest, name))
        except OSError as exc:
            raise AnsibleActionFail(f"cannot put the fetched files into {dest}: {exc}") from exc
        finally:
            shutil.rmtree(private, ignore_errors=True)
        result.update(changed=False, fetched=fetched)
        return result

    def _fetch(self, source, landed, task_vars):
        task = self._task.copy()
        task.args = dict(src=source, dest=landed, flat=True, fail_on_missing=True, validate_checksum=True)
        fetch = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.fetch",
            task=task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        return fetch.run(task_vars=task_vars)
