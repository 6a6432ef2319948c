#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: controller_report
short_description: Write a fix's report files on the controller
version_added: 0.1.0
description:
  - Writes files (for example C(diagnosis-YYYYMMDD-HHMMSS.log) and C(.json)) into a directory on the
    controller, the directory mode 0700 and the files mode 0600.
  - An action plugin, run on the controller without connecting to the target; it replaces a
    C(file) + C(copy) + C(template) sequence that cost a connection and a module transfer each.
  - Reports are output, not state of the target, so the task never reports C(changed) and writes
    in check mode too. The content must already be redacted.
extends_documentation_fragment:
  - ods.fix.attributes
options:
  dest:
    description: Directory on the controller; created if missing.
    type: path
    required: true
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: File name, without a directory part.
        type: str
        required: true
      content:
        description: What the file holds.
        type: str
        default: ""
attributes:
  check_mode:
    support: full
    details: Writes the files in check mode too; they describe the run, they do not change the target.
  action:
    description: Indicates this has a corresponding action plugin, so some parts of the options run on the controller.
    support: full
  idempotent:
    support: none
    details: Every run writes its files again; it never reports a change.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Write the diagnosis on the controller
  ods.fix.controller_report:
    dest: /tmp/reports/dev-01
    files:
      - name: diagnosis.json
        content: "{{ result.ods_report | to_nice_json }}"
"""

RETURN = r"""
files:
  description: The paths written.
  returned: success
  type: list
  elements: str
"""
