#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compose_exec
short_description: Run a command in a compose service's container, as `docker-compose exec SERVICE ...`
version_added: 0.1.0
description:
  - Finds the service's container through the compose labels (its name differs between Compose v1,
    C(project_service_1), and v2, C(project-service-1)) and runs O(argv) in it, with O(stdin) on its standard
    input when given.
  - community.docker's C(docker_container_exec) needs the container's name; this module takes the service's,
    as the manual's commands do.
  - A probe (O(read_only=true)) runs in check mode too and never reports a change; a command that changes
    something is skipped in check mode and reports a change.
extends_documentation_fragment:
  - ods.fix.project
options:
  service:
    description: The compose service.
    type: str
    required: true
  argv:
    description: The command and its arguments.
    type: list
    elements: str
    required: true
  stdin:
    description: Data for the command's standard input. Not logged.
    type: str
  read_only:
    description: The command only reads; run it in check mode too and never report a change.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the command.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    details: Read-only commands run; others are skipped and reported as a change.
  idempotent:
    support: none
    details: As idempotent as the command.
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: The manual's Redis check | 检查 Redis 连接
  ods.fix.compose_exec:
    project_dir: /home/dev/one-data-studio
    service: redis
    argv: [redis-cli, ping]
    read_only: true
  register: pong
"""

RETURN = r"""
rc:
  description: The command's exit code.
  returned: when it ran
  type: int
stdout:
  description: Its standard output.
  returned: when it ran
  type: str
stderr:
  description: Its standard error.
  returned: when it ran
  type: str
container:
  description: The container it ran in.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose
from ansible_collections.ods.fix.plugins.module_utils.dockerexec import exec_stdin


def main():
    argument_spec = dict(
        service=dict(type="str", required=True),
        argv=dict(type="list", elements="str", required=True),
        stdin=dict(type="str", no_log=True),
        read_only=dict(type="bool", default=False),
        timeout=dict(type="int", default=120),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    api, project = compose.open_project(module)
    container = compose.project_containers(api, project["project_name"]).get(params["service"])
    if container is None or container.status != "running":
        module.fail_json(msg="%s is not running" % params["service"], container=container.name if container else "")
    if module.check_mode and not params["read_only"]:
        module.exit_json(changed=True, skipped=True, container=container.name, msg="would run %s" % params["argv"][0])
    result = exec_stdin(
        api, container, params["argv"], (params["stdin"] or "").encode("utf-8"), timeout=params["timeout"]
    )
    module.exit_json(
        changed=not params["read_only"],
        container=container.name,
        rc=result.code,
        stdout=result.stdout.decode("utf-8", "replace"),
        stderr=result.stderr.decode("utf-8", "replace"),
    )


if __name__ == "__main__":
    main()
