#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: milvus_backup_check
short_description: Check a vector backup completely before anything is restored from it
version_added: 0.1.0
description:
  - Reads the whole file once. It must be a tar in the ods-fix-milvus/1 format with a manifest; every
    member's sha256 must match the manifest; each vector file must hold rows x dim float32 values; each rows
    file must hold as many rows as the manifest says.
  - Runs where the file is (the controller, before the copy). Standard library only. Read-only.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.full
options:
  path:
    description: The backup file.
    type: path
    required: true
  collections:
    description: The collections to restore; each must be in the backup. Empty means all.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Check the backup on the controller
  ods.fix.milvus_backup_check:
    path: ./backups/dev1/milvus_20261128-120000.tar
  delegate_to: localhost
  register: backup
"""

RETURN = r"""
sha256:
  description: The file's sha256, for checking the copy on the target.
  returned: always
  type: str
bytes:
  description: The file's size.
  returned: always
  type: int
entries:
  description: The selected collections' manifest entries (name, rows, dims, content_digest, files), each with its schema.
  returned: always
  type: list
  elements: dict
created:
  description: When the backup was made.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils.vector import backup_files
from ansible_collections.ods.fix.plugins.module_utils.vector.backup_format import VectorError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            collections=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    try:
        info = backup_files.check(module.params["path"], module.params["collections"])
    except VectorError as exc:
        module.fail_json(msg=str(exc), ods_failure="input")
    entries = [
        dict(entry, schema=info["schemas"][entry["name"]])
        for entry in info["manifest"]["collections"]
        if entry["name"] in info["selected"]
    ]
    module.exit_json(
        changed=False, sha256=info["sha256"], bytes=info["bytes"], entries=entries, created=info["manifest"]["created"]
    )


if __name__ == "__main__":
    main()
