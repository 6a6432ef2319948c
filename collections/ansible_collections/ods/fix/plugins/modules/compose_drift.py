#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: compose_drift
short_description: Find the containers that still run with the settings from before the compose files or .env changed
version_added: 0.1.0
description:
  - Compose labels each container with the hash of its service's configuration and recreates it on C(up) when the
    files give another. After an edit of C(.env) or a compose file without C(up), a container runs with the old
    settings; C(docker restart) keeps them.
  - Compares each container's label with C(config --hash '*') of the Compose that made the project (v1 and v2 hash
    differently), run with the files, name, directory, env file and profiles that made it.
  - Names the settings that changed by comparing each container's environment with what the files give now;
    no value is returned.
  - A container made with a variable that nothing sets now (neither C(.env) nor the environment Compose runs in), or
    whose own layer holds files no volume keeps, is named with the reason, not offered for a recreate.
  - Reads only. M(ods.fix.compose_service) with C(state=recreated) recreates what it finds.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
  - ods.fix.project
options: {}
"""

EXAMPLES = r"""
- name: Which containers run with old settings
  ods.fix.compose_drift:
    project_dir: /home/dev/one-data-studio
  register: drift
"""

RETURN = r"""
ok:
  description: No container runs with settings other than the files give (or none could be compared, see RV(note)).
  returned: success
  type: bool
drifted:
  description: The containers whose config hash is not the files'.
  returned: success
  type: list
  elements: dict
  contains:
    service: {description: The service., type: str}
    container: {description: Its container., type: str}
    settings: {description: Names of the settings whose value changed (none when another part of its definition did)., type: list}
    unset:
      description:
        - Variables the files use that neither .env nor the environment sets now, where the container may have been made
          with another value (from the shell that started it). Such a container is not to be recreated blind.
      type: list
    held: {description: Files in its own layer that no volume keeps; a recreate would delete them., type: list}
    recreate:
      description: The Compose command that recreates it with the files, project and profiles that made it.
      type: str
    summary: {description: One line saying so; setting names only., type: str}
problems:
  description: One line per drifted container, setting names only.
  returned: success
  type: list
  elements: str
note:
  description: Why nothing could be compared (no Compose CLI of the project's flavor, Compose refused the files), or empty.
  returned: success
  type: str
"""

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials, drift


def main():
    module = compose.stack_module({})
    api, project = compose.open_project(module)
    profile = project["profile"]
    containers = compose.project_containers(api, profile["project"])
    drifted, note = drift.find(profile, containers, drift.project_cli(project["compose_flavor"]))
    result = {"ok": not drifted, "drifted": drifted, "problems": [item["summary"] for item in drifted], "note": note}
    # Names only by design; a line of Compose's own (the note) might still quote a value of .env.
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=False,
        **credentials.redactor(profile, containers).redact_obj(result),
    )


if __name__ == "__main__":
    main()
