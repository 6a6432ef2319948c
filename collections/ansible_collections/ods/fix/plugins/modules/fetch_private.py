#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: fetch_private
short_description: Fetch files from the target into a directory on the controller, never readable by others
version_added: 0.1.0
description:
  - Fetches each file with Ansible's own C(ansible.builtin.fetch), which compares the target's checksum
    with what arrived, into a private directory (0700) made inside O(dest); makes it 0600 there; and only
    then moves it into O(dest). A dump or a vector backup is never readable by others, not even for a moment.
  - O(dest) is created 0700 when it is missing; an existing directory's mode is left as it is.
  - An action plugin, so the controller's side is done in the controller's process. It replaces a sequence of
    C(command) (mkdir), C(tempfile), C(fetch), C(file) (mode) and C(command) (mv) tasks that cost a module run
    each, and each file again.
  - The copies are the run's output, like its report, so the task never reports C(changed). In check mode
    nothing is fetched.
extends_documentation_fragment:
  - ods.fix.attributes
options:
  src:
    description: The files on the target; their file names must differ.
    type: list
    elements: str
    required: true
  dest:
    description: The directory on the controller they go into, each under its own file name.
    type: path
    required: true
attributes:
  check_mode:
    support: full
    details: Fetches nothing in check mode.
  action:
    description: Indicates this has a corresponding action plugin, so some parts of the options run on the controller.
    support: full
  idempotent:
    support: none
    details: Every run fetches the files again; it never reports a change.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The backup and its manifest to the controller
  ods.fix.fetch_private:
    src: ["{{ backup.file }}", "{{ backup.manifest }}"]
    dest: /root/ods-backups/dev-01
"""

RETURN = r"""
fetched:
  description: Where each file went on the controller, in the order of O(src).
  returned: always
  type: list
  elements: str
"""
