#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: evidence_verify
short_description: Check an evidence bundle against its manifest (and, optionally, its own SHA-256)
version_added: 0.2.0
description:
  - Opens an C(ods-fix-evidence/1) bundle (see M(ods.fix.evidence_capture)), checks that every member is in the
    manifest with the same SHA-256 and that every file the manifest lists is there. The same check as
    C(ods-fix incident verify BUNDLE).
  - Run it where the bundle is, usually on the controller (delegated to localhost), right after the fetch.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
options:
  path:
    description: The bundle.
    type: path
    required: true
  sha256:
    description: The bundle's SHA-256 as its maker reported it; the copy must have the same.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Verify the fetched bundle
  ods.fix.evidence_verify:
    path: /home/me/evidence/dev-01/incident-20261201-020000.tar.gz
    sha256: "{{ sealed.bundle.sha256 }}"
  delegate_to: localhost
"""

RETURN = r"""
files:
  description: How many files the manifest lists.
  returned: always
  type: int
sha256:
  description: The bundle's SHA-256.
  returned: always
  type: str
problems:
  description: What does not match, one line each.
  returned: always
  type: list
  elements: str
"""

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils.security import evidence


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), sha256=dict(type="str", default="")),
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not os.path.isfile(path):
        module.fail_json(msg=f"{path} does not exist", problems=["missing"], files=0, sha256="")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    manifest, problems = evidence.verify(path)
    if module.params["sha256"] and digest.hexdigest() != module.params["sha256"]:
        problems.insert(
            0, "the bundle's sha256 is {}, its maker reported {}".format(digest.hexdigest(), module.params["sha256"])
        )
    result = dict(
        changed=False, files=len((manifest or {}).get("files") or []), sha256=digest.hexdigest(), problems=problems
    )
    if problems:
        module.fail_json(msg="{} does not verify: {}".format(path, "; ".join(problems[:3])), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
