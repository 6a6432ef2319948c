# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # Options shared by every ods.fix module that works on the ODS compose project.
    DOCUMENTATION = r"""
options:
  project_dir:
    description:
      - The ODS checkout on the target, the directory holding C(docker-compose.yml).
    type: path
    required: true
  project_name:
    description:
      - The compose project name.
      - Empty means what Compose itself uses, C(COMPOSE_PROJECT_NAME) from the project's C(.env),
        else the directory name.
    type: str
    default: ""
  docker_host:
    description:
      - The Docker engine to talk to, for example V(unix:///var/run/docker.sock).
      - Empty means C(DOCKER_HOST), else the local socket.
    type: str
    default: ""
  stack_roles:
    description:
      - The inventory's C(ods_roles) overrides, role to service (V(database), V(cache), V(api), ...), for a
        stack whose services ods.fix cannot tell apart by themselves.
      - Roles set it for the whole play through the V(group/ods.fix.stack) module defaults.
    type: dict
    default: {}
  profile:
    description:
      - The stack profile that M(ods.fix.stack_profile) discovered for this run (services, roles, settings,
        credentials' sources); empty means discover it again, and the module returns what it found as the fact
        C(ods_profile), which the next modules get (the roles' module_defaults).
    type: dict
    default: {}
  profile_services:
    description:
      - The services the profile was discovered with; a profile whose services differ from the running
        project's is discovered again.
    type: list
    elements: str
    default: []
  env_file:
    description:
      - The settings file the stack reads (C(.env) or an C(env_file)); empty means the one discovery found.
    type: path
    default: ""
  db_root_password_file:
    description:
      - A private file holding MySQL's root password, when the stack does not say it; empty means the
        password discovery found (the database container's environment or its secret file).
    type: path
    default: ""
  lock_token:
    description:
      - The token of the run's project lock (M(ods.fix.project_lock)), for a step of a run that holds it. The step
        is refused, changing nothing, unless the lock is still the run's, and it holds the lock while it runs, also
        after the controller has gone. Empty for a run that holds no lock (check mode, a read-only fix).
      - Roles set it for the whole play through the V(group/ods.fix.stack) module defaults.
    type: str
    default: ""
requirements:
  - The Python C(docker) library on the target (Debian C(python3-docker)).
notes:
  - Containers are found through the labels that Compose v1 and v2 both set
    (C(com.docker.compose.project), C(com.docker.compose.service)), so the modules work with either.
"""
