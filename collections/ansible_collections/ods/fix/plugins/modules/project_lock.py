#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: project_lock
short_description: Hold a project's lock for a run, so that two fixes that change data never interleave
version_added: 0.1.0
description:
  - With O(state=held), takes an exclusive C(flock) on C(<project_dir>/.ods-fix/lock) and keeps it in a small
    holder process after the module has returned. A second run is refused with one line that names the
    holder (fix, pid, start time).
  - The holder lets go when O(state=released) is run with the run's O(token), or once the run has gone quiet
    for O(lease) seconds with no step of it still running on the target. A long step (the async load of
    M(ods.fix.mysql_restore)) counts as running while it runs, even when the controller has gone.
  - Taking or letting go of the lock is not a change to the stack, so it never reports C(changed). In check
    mode the lock is not taken; a run that holds it is reported as a warning.
extends_documentation_fragment:
  - ods.fix.attributes
options:
  project_dir:
    description: The project whose lock this is.
    type: path
    required: true
  state:
    description: V(held) takes the lock, V(released) lets go of it.
    type: str
    choices: [held, released]
    default: held
  fix:
    description: The fix that takes it, named in a refusal.
    type: str
    default: ""
  lease:
    description: Seconds without a step after which the lock of a run that has gone (a Ctrl-C) lets go.
    type: int
    default: 600
  owner:
    description:
      - The run's controller process as C(boot_id/pid-namespace/pid/start-time) (the ods-fix CLI passes its own).
        On the same machine and pid namespace, the lock lets go as soon as that process has gone and no step of
        the run still runs, without waiting for O(lease). Empty, or on another machine, the lease decides.
    type: str
    default: ""
  token:
    description: The run's token, returned by O(state=held); needed to let go.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    details: Takes nothing; reports a holder.
  idempotent:
    support: full
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Lock the project for this run
  ods.fix.project_lock:
    project_dir: /srv/ods
    fix: mysql-restore
  register: lock

- name: Let go
  ods.fix.project_lock:
    project_dir: /srv/ods
    state: released
    token: "{{ lock.token }}"
"""

RETURN = r"""
token:
  description: The run's token (empty in check mode); pass it to the steps that change data and to O(state=released).
  returned: always
  type: str
holder:
  description: The holder's record (fix, pid, since, lease).
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import project_lock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_dir=dict(type="path", required=True),
            state=dict(type="str", choices=["held", "released"], default="held"),
            fix=dict(type="str", default=""),
            lease=dict(type="int", default=600),
            owner=dict(type="str", default=""),
            token=dict(type="str", default="", no_log=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not os.path.isdir(p["project_dir"]):
        module.fail_json(
            msg="{} is not a directory: not a project to lock".format(p["project_dir"]), ods_failure="input"
        )
    sdir = project_lock.state_dir(p["project_dir"])
    if p["state"] == "released":
        released = not module.check_mode and project_lock.release(sdir, p["token"])
        module.exit_json(changed=False, token=p["token"], holder={}, released=released)
    if p["lease"] < 1:
        module.fail_json(msg="lease must be at least 1 second", ods_failure="input")
    if module.check_mode:
        info = project_lock.holder(sdir)
        if info:
            module.warn(project_lock.describe(info))
        module.exit_json(changed=False, token="", holder=info)
    try:
        info = project_lock.acquire(sdir, p["fix"], p["lease"], p["owner"])
    except project_lock.LockError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")
    module.exit_json(changed=False, token=info.get("token", ""), holder=info)


if __name__ == "__main__":
    main()
