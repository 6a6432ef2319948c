#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: fix_report
short_description: The last task of every ods-fix role, what was found, what was done, what is left
version_added: 0.1.0
description:
  - Returns C(ods_report), which the ods-fix CLI shows per host and puts in C(--json), and writes it as
    C(<fix>-YYYYMMDD-HHMMSS.json) under O(dest)/<host> on the controller when O(dest) is set.
  - In a fix's role, the report is built in Python by the fix's builder (C(plugin_utils/reports/<fix>.py)) from
    O(results), the raw results the role registered, and O(options); it is unit-tested there, not in Jinja.
  - Without O(results), O(found), O(done), O(left), O(details) and O(failed) are the report as given, for a
    playbook of one's own.
  - A failed report fails the task with its message, after the report is assembled, so the person on
    call sees both what went wrong and what was done before.
  - An action plugin, run on the controller without connecting to the target.
extends_documentation_fragment:
  - ods.fix.attributes
options:
  fix:
    description:
      - The fix's catalog name, for example V(mysql-connect).
      - Defaults to the name of the role the task runs in, with hyphens (role C(api_500) reports as V(api-500)).
    type: str
    required: false
  results:
    description:
      - The fix's registered results, by the names its builder reads (for example C(before), C(after), C(apis)).
      - A skipped task's result counts as not run.
    type: dict
  options:
    description: The fix's settings that its builder words the report with (names, flags).
    type: dict
    default: {}
  builder:
    description:
      - The builder's function in C(plugin_utils/reports/<fix>.py); V(build) reports a run, others report a run
        refused before it changed anything (for example V(missing_settings) of V(api-500)).
    type: str
    default: build
  found:
    description: What was wrong, one line each.
    type: list
    elements: str
  done:
    description: What was changed (in check mode, what would be), one line each.
    type: list
    elements: str
  left:
    description: What still needs a human, or the next command, one line each.
    type: list
    elements: str
  details:
    description: Fix-specific data for C(--json). Must hold no secret.
    type: dict
  failed:
    description: Fail the task after reporting (the fix did not reach its goal).
    type: bool
    default: false
  msg:
    description: The one-line failure message; defaults to the first O(left) line.
    type: str
  input_error:
    description: With O(failed), the cause is the input or the configuration (nothing was changed); ods-fix exits 1.
    type: bool
    default: false
  failure:
    description:
      - The step that failed, in a role's C(rescue:) (C(task), C(msg), C(ods_failure), C(reported)). The report
        holds what was found and done before it, the failure, and where to look; the task then fails with the
        step's own message (and class, so that bad input stays bad input). A step that reported already (a refusal) is
        not reported twice.
    type: dict
  dest:
    description: Controller directory for the JSON report; empty writes none.
    type: path
attributes:
  check_mode:
    support: full
    details: Reports in check mode too, with C(check_mode=true) in the report.
  action:
    description: Indicates this has a corresponding action plugin, so some parts of the options run on the controller.
    support: full
  idempotent:
    support: full
    details: Never a change; with O(dest), each run writes a report file of its own, named by the time.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Report | What was wrong, what was done, what is left
  ods.fix.fix_report:
    results:
      before: "{{ api_500_before }}"
      after: "{{ api_500_check }}"
      db: "{{ api_500_db }}"
      apis: "{{ api_500_apis }}"
    dest: "{{ ods_report_dir }}"

- name: Report what a playbook of one's own did
  ods.fix.fix_report:
    fix: nightly-check
    found: "{{ health.problems }}"
    done: []
    left: "{{ health.problems }}"
    failed: "{{ not health.ok }}"
"""

RETURN = r"""
ods_report:
  description: C(fix), C(check_mode), C(found), C(done), C(left), C(details).
  returned: always
  type: dict
files:
  description: The report file written, when O(dest) is set.
  returned: when O(dest) is set
  type: list
  elements: str
"""
