#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


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
  - ods.fix.attributes
  - ods.fix.project
options:
  service:
    description: The compose service, by its name. One of O(service) and O(role) is required.
    type: str
  role:
    description: The service by the role it plays in the stack (V(database), V(cache), V(data_api), ...).
    type: str
  cache_auth:
    description:
      - Give the command the cache's password (found where the stack keeps it, see M(ods.fix.stack_diagnose))
        in C(REDISCLI_AUTH), so that the manual's C(redis-cli ping) works on a Redis with C(--requirepass).
    type: bool
    default: false
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
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The manual's Redis check | 检查 Redis 连接
  ods.fix.compose_exec:
    project_dir: /home/dev/one-data-studio
    role: cache
    cache_auth: true
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
service:
  description: The service it ran in.
  returned: always
  type: str
"""

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials
from ansible_collections.ods.fix.plugins.module_utils.stack.docker_exec import exec_stdin


def main():
    argument_spec = dict(
        service=dict(type="str"),
        role=dict(type="str"),
        cache_auth=dict(type="bool", default=False),
        argv=dict(type="list", elements="str", required=True),
        stdin=dict(type="str", no_log=True),
        read_only=dict(type="bool", default=False),
        timeout=dict(type="int", default=120),
    )
    module = compose.stack_module(
        argument_spec,
        required_one_of=[("service", "role")],
        mutually_exclusive=[("service", "role")],
    )
    params = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    if params["service"]:
        compose.check_services(module, profile, [params["service"]])
    service = params["service"] or compose.role_service(module, profile, params["role"])
    containers = compose.project_containers(api, profile["project"])
    container = containers.get(service)
    if container is None or container.status != "running":
        module.fail_json(
            msg=f"{service} is not running", container=container.name if container else "", service=service
        )
    if module.check_mode and not params["read_only"]:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=True,
            skipped=True,
            container=container.name,
            service=service,
            msg="would run {}".format(params["argv"][0]),
        )
    env = {}
    if params["cache_auth"]:
        _origin, password = credentials.cache_password(api, profile, service, container)
        if password:
            module.no_log_values.add(password)
            env["REDISCLI_AUTH"] = password
    result = exec_stdin(
        api,
        container,
        params["argv"],
        (params["stdin"] or "").encode("utf-8"),
        environment=env,
        timeout=params["timeout"],
    )
    redactor = credentials.redactor(profile, containers)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=not params["read_only"],
        container=container.name,
        service=service,
        rc=result.code,
        stdout=redactor.redact(result.stdout.decode("utf-8", "replace")),
        stderr=redactor.redact(result.stderr.decode("utf-8", "replace")),
    )


if __name__ == "__main__":
    main()
