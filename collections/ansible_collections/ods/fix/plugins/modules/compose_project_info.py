#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: compose_project_info
short_description: Inspect a ONE-DATA-STUDIO compose project, whichever Compose created it
version_added: 0.1.0
description:
  - Reports the Docker engine, the compose project name, which Compose (v1 or v2) created its
    containers, which Compose CLIs the target has, and the state of every service container.
  - Every ods.fix role runs it first (the C(ods) role's preflight), so a missing engine, a wrong
    project directory or a stack that is not running is reported in one line before anything changes.
  - community.docker's C(docker_compose_v2) only knows v2 projects and C(docker_container_info) one
    container at a time; this module covers both Compose versions through the labels they share.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
  - ods.fix.project
options:
  require_running:
    description: Fail when the project has no containers at all (the stack was never started or was removed).
    type: bool
    default: false
  detect_cli:
    description:
      - Also find the Compose CLIs installed on the target (C(compose_clis), C(compose_cli)).
      - Off by default, it costs a run of each CLI (about a second for Compose v1).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Inspect the compose project
  ods.fix.compose_project_info:
    project_dir: /home/dev/one-data-studio
    require_running: true
  register: ods_project
"""

RETURN = r"""
project:
  description: The project as the engine sees it.
  returned: success
  type: dict
  contains:
    project_dir: {description: The project directory., type: str}
    project_name: {description: The compose project name., type: str}
    engine_version: {description: The Docker engine version., type: str}
    api_version: {description: The Docker engine API version., type: str}
    compose_flavor: {description: "V(v1) or V(v2), from the containers' labels; null without containers.", type: str}
    compose_cli:
      description: With O(detect_cli), the argv of the Compose CLI to use for this project (same flavor), or null.
      type: list
      elements: str
    compose_clis: {description: 'With O(detect_cli), the Compose CLIs on the target, C({v1: argv, v2: argv}).', type: dict}
    declared_services: {description: Services in the compose file (null if it cannot be read)., type: list}
    services: {description: 'Service name to C({container, status, health, exit_code, ...}).', type: dict}
"""

from ansible_collections.ods.fix.plugins.module_utils.stack import compose


def main():
    argument_spec = dict(require_running=dict(type="bool", default=False), detect_cli=dict(type="bool", default=False))
    module = compose.stack_module(argument_spec)
    params = module.params
    _api, project = compose.open_project(module, require_running=params["require_running"])
    if params["detect_cli"]:
        clis = compose.compose_clis()
        flavor = project["compose_flavor"]
        project["compose_clis"] = clis
        project["compose_cli"] = clis.get(flavor) if flavor else (clis.get("v2") or clis.get("v1"))
    module.exit_json(ansible_facts=compose.profile_facts(module), changed=False, project=project)


if __name__ == "__main__":
    main()
