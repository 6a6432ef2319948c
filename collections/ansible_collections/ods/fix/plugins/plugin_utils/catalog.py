# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The catalog of fixes: the single source of truth for ods-fix.

One file per fix, ``fixes/<role>.json`` beside this one: its CLI name (the role, playbook and scenario are the
same name with underscores), its place in the manual's order, the manual's section, options, whether it changes
things and needs --yes, the fixes it must run after (``after``: doctor's order), and the diagnose findings it
fixes (``symptoms``, ``code:role`` patterns: the role a service plays in the stack, see discovery.ROLES, never a
service's name). A new fix is a new file: ``scripts/new-fix NAME`` writes it, as ``planned``. The CLI
subcommands, ``ods-fix list``, the README table, the test matrix and diagnose's triage all read it.
The standard library only: pyrunner loads this file directly. It stays on the controller (plugin_utils): the
diagnose module gets only the symptom map, from the stack_diagnose action (symptom_map()).
"""

import json
import os

READY = "ready"
PLANNED = "planned"
ENTRIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixes")


def _load():
    entries = []
    for name in sorted(os.listdir(ENTRIES)):
        if name.endswith(".json"):
            with open(os.path.join(ENTRIES, name), encoding="utf-8") as handle:
                entries.append(json.load(handle))
    return sorted(entries, key=lambda entry: (entry["order"], entry["name"]))


FIXES = _load()


def by_name(name):
    for fix in FIXES:
        if fix["name"] == name:
            return fix
    return None


def symptom_map():
    """What diagnose's triage needs of each fix: its name, the findings it fixes, its status and manual remedy."""
    keys = ("name", "symptoms", "status", "section", "manual_remedy")
    return [dict((key, fix[key]) for key in keys) for fix in FIXES if fix["symptoms"]]
