"""A new fix, scaffolded in one command: every file of one name, each marked TODO where the fix is still to write.

python -m pyrunner.scaffold NAME [--section TEXT] [--issue N]    (scripts/new-fix NAME does the same)

It only adds files, so removing the fix again is `git clean`. The fix starts as `planned` in the catalog:
`ods-fix list` shows it, the CLI refuses to run it, scripts/test does not run its scenario, and
`pytest tests/test_catalog.py` passes and lists, for it, what is still to write. docs/adding-a-fix.md says the rest.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from string import Template

from pyrunner import catalog, paths

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
UNSAFE_IN_SECTION = re.compile(r'["\\$#\n]|: ')

CATALOG_ENTRY = "collections/ansible_collections/ods/fix/plugins/plugin_utils/fixes/$role.json"
REPORT = "collections/ansible_collections/ods/fix/plugins/plugin_utils/reports/$role.py"
PLAYBOOK = "collections/ansible_collections/ods/fix/playbooks/$role.yml"
FRAGMENT = "collections/ansible_collections/ods/fix/changelogs/fragments/$name.yml"
FAULT = "pyrunner/sandbox/fault_$role.py"

FILES = {
    "roles/$role/meta/main.yml": """\
---
galaxy_info:
  role_name: $role
  namespace: ods
  author: ods-fix contributors
  description: The manual's $section, diagnosed and fixed.
  license: Apache-2.0
  min_ansible_version: "2.19"
  platforms:
    - name: Debian
      versions: [bookworm]
  galaxy_tags: [docker, compose]
dependencies:
  - role: ods.fix.ods
""",
    "roles/$role/meta/argument_specs.yml": """\
---
argument_specs:
  main:
    short_description: Fix $section
    description:
      - TODO what the fix checks and what it changes, in the manual's order; what it leaves alone.
      - The services are the stack's, as discovered.
    options: {}
""",
    "roles/$role/defaults/main.yml": """\
---
# TODO each option of the fix, prefixed ${role}_, with the same default and description as in
# meta/argument_specs.yml; the catalog entry names the CLI flag that sets it.
""",
    "roles/$role/tasks/main.yml": """\
---
- name: Fix $section as the stack is laid out
  module_defaults:
    group/ods.fix.stack: "{{ ods_stack_defaults }}"
  block:
    - name: Preflight | Lock the project
      ansible.builtin.include_role:
        name: ods.fix.ods
        tasks_from: lock.yml

    - name: Check
      ansible.builtin.import_tasks: check.yml

    - name: Check | Keep what was found
      ansible.builtin.set_fact:
        ${role}_before: "{{ ${role}_check }}"

    - name: Fix
      ansible.builtin.import_tasks: fix.yml

    - name: Verify
      ansible.builtin.import_tasks: verify.yml

    - name: Report
      ansible.builtin.import_tasks: report.yml
  rescue:
    - name: Report | What was done before the failure, and where to look
      ansible.builtin.include_tasks: report.yml
      vars:
        ods_failed:
          task: "{{ ansible_failed_task.name }}"
          msg: "{{ ansible_failed_result.msg | default('the step failed') }}"
          ods_failure: "{{ ansible_failed_result.ods_failure | default('') }}"
          reported: "{{ ansible_failed_result.ods_report is defined }}"
  always:
    - name: Let go of the project's lock
      ansible.builtin.include_role:
        name: ods.fix.ods
        tasks_from: unlock.yml
""",
    "roles/$role/tasks/check.yml": """\
---
# TODO the manual's check, as an ods.fix module that returns ok and problems (check_mode: false: it only reads).
- name: Check | TODO what the manual checks | $section
  ansible.builtin.set_fact:
    ${role}_check:
      ok: false
      problems: ["$name: the check is not written yet (roles/$role/tasks/check.yml)"]
""",
    "roles/$role/tasks/fix.yml": """\
---
# TODO each step of the manual's fix, registered. A refusal before any change is the first task; what a step
# replaces is kept under ods_state_dir first.
- name: Fix | TODO the manual's fix | $section
  ansible.builtin.debug:
    msg: "$name: the fix is not written yet (roles/$role/tasks/fix.yml)"
  register: ${role}_fix
""",
    "roles/$role/tasks/verify.yml": """\
---
- name: Verify | Check again
  ansible.builtin.import_tasks: check.yml
  when: not ansible_check_mode
""",
    "roles/$role/tasks/report.yml": """\
---
- name: Report | What was wrong, what was done, what is left
  ods.fix.fix_report:
    results:
      before: "{{ ${role}_before | default({}) }}"
      after: "{{ ${role}_check | default({}) }}"
      fix: "{{ ${role}_fix | default({}) }}"
    dest: "{{ ods_report_dir }}"
    failure: "{{ ods_failed | default(omit) }}"
""",
    REPORT: '''\
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""$name's report: TODO what it found, did and left, from what roles/$role registered."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, checked_fix


def build(results, options, check_mode):
    return checked_fix(results, check_mode, done=actions(results.get("fix")))
''',
    "tests/unit/plugins/plugin_utils/reports/test_$role.py": '''\
"""The $name report (plugin_utils/reports/$role.py): what it found, did and left,
from raw results."""

from __future__ import annotations

from ansible_collections.ods.fix.plugins.plugin_utils.reports import $role

# TODO results shaped like the modules' RETURN documentation, taken from a real run.
PROBLEM = "TODO what the check finds"


def test_${role}_reports_what_it_found_and_what_the_second_check_still_sees() -> None:
    results = {
        "before": {"ok": False, "problems": [PROBLEM]},
        "after": {"ok": False, "problems": [PROBLEM]},
        "fix": {"changed": True, "actions": ["TODO what the fix did"]},
    }
    built = $role.build(results, {}, False)
    assert built["found"] == [PROBLEM]
    assert built["done"] == ["TODO what the fix did"]
    assert built["left"] == [PROBLEM] and built["failed"]


def test_a_${role}_check_run_reports_what_it_found_and_leaves_nothing_as_failed() -> None:
    results = {"before": {"ok": False, "problems": [PROBLEM]}, "fix": {"skipped": True}}
    built = $role.build(results, {}, True)
    assert built["found"] == [PROBLEM] and built["left"] == [] and not built["failed"]
''',
    PLAYBOOK: """\
---
- name: Fix $section
  hosts: all
  gather_facts: false
  roles:
    - role: ods.fix.$role
""",
    "molecule/$role/molecule.yml": """\
---
# $role: TODO prepare injects the manual's fault for real (ods-fix sandbox break $name); check changes
# nothing; converge runs the role; verify asserts the outcome (the service answers, the data is back) and
# that nothing else was touched. scripts/test runs it on both layouts once the fix is ready.
provisioner:
  inventory:
    group_vars:
      all:
        ods_molecule_project: "ods-mol-$name{{ ods_molecule_suffix }}"
        ods_molecule_services: [database]  # TODO the services (or roles) the fix needs
        ods_molecule_untouched: [database]  # TODO those it must leave alone
scenario:
  test_sequence:  # no destroy first: create's `sandbox up --fresh` removes what an interrupted run left
    - create
    - prepare
    - check
    - converge
    - idempotence
    - verify
    - destroy
""",
    "molecule/$role/prepare.yml": """\
---
- name: Prepare | Record what must survive, then inject the manual's fault
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Prepare | Record what must survive
      ansible.builtin.include_tasks: ../shared/tasks/record.yml

    - name: Prepare | ods-fix sandbox break $name
      ansible.builtin.command:
        argv: [ods-fix, sandbox, break, $name]
      environment:
        ODS_FIX_SANDBOX_DIR: "{{ ods_molecule_sandbox_dir }}"
      changed_when: true
""",
    "molecule/$role/converge.yml": """\
---
- name: Converge | Fix $section
  hosts: sandbox
  gather_facts: false
  roles:
    - role: ods.fix.$role
""",
    "molecule/$role/verify.yml": """\
---
- name: Verify | The fault is fixed, and nothing else was touched
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Verify | The services and the settings file that must be untouched are
      ansible.builtin.include_tasks: ../shared/tasks/untouched.yml

    - name: Verify | TODO what the manual promises (the service answers, the data is back)
      ansible.builtin.fail:
        msg: "$name: verify is not written yet (molecule/$role/verify.yml)"
""",
    FAULT: '''\
"""The fault `ods-fix sandbox break $name` injects: TODO the manual's fault, done for real."""

from __future__ import annotations

from typing import Any

from pyrunner.errors import OdsFixError

NAME = "$name"
ROLE = "data_api"  # TODO the role it breaks (layouts.Layout.roles)
SECTION = "$section"
DESCRIPTION = "TODO what it breaks, as the user sees it"


def inject(container: Any) -> str:
    """TODO break it in the container, and say what was done."""
    raise OdsFixError(f"{NAME}: its fault is not written yet ({__file__})")
''',
    FRAGMENT: """\
---
minor_changes:
  - $role - TODO what the fix does, for the manual's $section.
""",
}


def files(name: str, section: str) -> dict[str, str]:
    """Each file of the new fix, by its path in the checkout."""
    values = {"name": name, "role": name.replace("-", "_"), "section": section}
    return {Template(path).substitute(values): Template(text).substitute(values) for path, text in FILES.items()}


def catalog_entry(name: str, section: str, issue: int) -> str:
    entry: dict[str, object] = {
        "name": name,
        "order": max((fix.get("order", 0) for fix in catalog._load_module().FIXES), default=0) + 10,
        "section": section,
        "summary": "TODO one line: what the fix checks and changes.",
        "status": "planned",
        "issue": issue,
        "changes": True,
        "needs_yes": False,
        "after": [],
        "symptoms": [],
        "manual_remedy": "TODO the manual's own commands",
        "options": [],
    }
    return json.dumps(entry, ensure_ascii=False, indent=2) + "\n"


def refuse(reason: str) -> int:
    print(f"new-fix: {reason}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/new-fix",
        description="Write every file of a new fix, of one name, as planned (see docs/adding-a-fix.md).",
    )
    parser.add_argument("name", help="the fix's name, with hyphens (redis-memory); underscores everywhere else")
    parser.add_argument("--section", default="TODO (the manual's section)", help="the manual's section it fixes")
    parser.add_argument("--issue", type=int, default=0, help="the issue that asks for it")
    args = parser.parse_args(argv)
    root = paths.asset_root()
    name, role = args.name, args.name.replace("-", "_")
    if not NAME.match(name):
        return refuse(f"{name!r} is not a fix name: lower-case words joined by hyphens (redis-memory)")
    if UNSAFE_IN_SECTION.search(args.section):
        return refuse("the section goes into YAML and Python as it is: leave out quotes, backslashes, $, # and ': '")
    if not (root / ".git").exists():
        return refuse(f"{root} is not a checkout: scaffold a fix in the repository")
    written = {**files(name, args.section), Template(CATALOG_ENTRY).substitute(role=role): ""}
    taken = [path for path in written if (root / path).exists()] + (["the catalog"] if catalog.get(name) else [])
    if taken or (root / "roles" / role).exists():
        return refuse(f"{name} exists already ({', '.join(taken) or 'roles/' + role}); nothing written")
    written[Template(CATALOG_ENTRY).substitute(role=role)] = catalog_entry(name, args.section, args.issue)
    for path, text in written.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {path}")
    # In a process of its own: this one's catalog was read before the entry was written.
    subprocess.run([sys.executable, "-m", "pyrunner.roledocs"], cwd=root, check=True)
    print(f"wrote roles/{role}/README.md (python -m pyrunner.roledocs, from meta/argument_specs.yml)")
    print(f"next: `pytest tests/test_catalog.py -rs` lists what is still to write for {name}; docs/adding-a-fix.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
