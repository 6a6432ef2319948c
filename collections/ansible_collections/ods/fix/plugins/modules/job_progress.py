#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: job_progress
short_description: Read the progress of a long ods.fix job running asynchronously
version_added: 0.1.0
description:
  - Polled in an C(until) loop after a task started with C(async) and C(poll=0), it returns the job's progress
    file (bytes and rows done, rate, ETA) as C(ods_progress), and C(finished) once Ansible's async job is done.
    The ods-fix CLI shows each poll's C(ods_progress) in its live display.
  - C(ansible.builtin.async_status) tells only whether the job has finished; a long restore needs more.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
options:
  jid:
    description: The async job id.
    type: str
    required: true
  progress_file:
    description: The JSON file the job writes its progress to.
    type: path
    required: true
  async_dir:
    description: Ansible's async directory on the target.
    type: path
    default: ~/.ansible_async
  wait:
    description:
      - Seconds to wait for the job to finish before answering (it answers as soon as it has). With C(delay=0)
        in the C(until) loop, the end of the job is seen at once, and one poll costs one module start per
        O(wait) seconds instead of one per C(delay). On a small target the polls would take CPU from the job.
    type: float
    default: 0
"""

EXAMPLES = r"""
- name: Follow the restore
  ods.fix.job_progress:
    jid: "{{ load_job.ansible_job_id }}"
    progress_file: /srv/ods/deploy/backups/progress.json
  register: progress
  until: progress.finished
  retries: 1440
  delay: 0
  wait: 5
"""

RETURN = r"""
finished:
  description: The async job has ended (successfully or not).
  returned: always
  type: bool
ods_progress:
  description: C(phase), C(bytes), C(total), C(percent), C(rows), C(rate_mb_s), C(eta_s).
  returned: always
  type: dict
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            jid=dict(type="str", required=True),
            progress_file=dict(type="path", required=True),
            async_dir=dict(type="path", default="~/.ansible_async"),
            wait=dict(type="float", default=0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    deadline = time.monotonic() + max(0.0, p["wait"])
    while True:
        job = read_json(os.path.join(p["async_dir"], p["jid"]))
        finished = bool(job.get("finished")) or ("rc" in job or "failed" in job or "changed" in job)
        if finished or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    module.exit_json(changed=False, finished=finished, ods_progress=read_json(p["progress_file"]))


if __name__ == "__main__":
    main()
