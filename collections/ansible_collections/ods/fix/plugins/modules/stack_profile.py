#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: stack_profile
short_description: Discover an ODS stack, its Compose project, which service plays which role, where settings live
version_added: 0.2.0
description:
  - Finds the Compose project that O(project_dir) points at from its containers' own labels (the project name,
    every C(-f) file, overlays included, the working directory, the Compose version); only when no container
    exists yet, from the compose file in that directory (or in C(deploy/local)).
  - Reads the compose files as Compose does (interpolated from the project's C(.env), overlays merged, the
    C(env_file:) entries read, profiles in use) and maps each service to the role it plays, by its image, its
    command, its ports and its name; the manual's names and the public compose files' are both recognised
    (C(milvus-standalone)/C(milvus), C(alldata-api)/C(data-api), C(web)/C(web-frontend), ...). The inventory's
    O(stack_roles) overrides any mapping.
  - Per service, its container, its flavour (MySQL or MariaDB; nginx or a Vite dev server), its port and health
    URL inside the container, where each of its settings comes from (file and line), and where its credentials are.
  - Every other ods.fix module discovers the same way; the first of a run returns the profile as the fact
    C(ods_profile) and the next ones take it through C(module_defaults), so a run reads the compose files once.
  - Read-only. The profile holds no value, only names and origins.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
  - ods.fix.project
options: {}
"""

EXAMPLES = r"""
- name: Discover the stack
  ods.fix.stack_profile:
    project_dir: /home/dev/one-data-studio
  register: stack

- name: Which service is the database
  ansible.builtin.debug:
    msg: "{{ stack.profile.roles.database }}"
"""

RETURN = r"""
profile:
  description: The stack's profile, which the next modules of a run get as the fact C(ods_profile).
  returned: always
  type: dict
  contains:
    version:
      description: The profile format's version.
      type: int
    project:
      description: The Compose project's name.
      type: str
    project_dir:
      description: The directory it was asked for.
      type: str
    working_dir:
      description: The project's working directory, as its containers' labels give it.
      type: str
    config_files:
      description: The compose files, overlays included, in Compose's order.
      type: list
      elements: str
    dotenv:
      description: The C(.env) file Compose interpolates from (empty if none).
      type: str
    profiles:
      description: The Compose profiles in use.
      type: list
      elements: str
    compose_version:
      description: The version of the Compose that made the containers.
      type: str
    compose_flavor:
      description: V(v1) or V(v2).
      type: str
    source:
      description: Where the project was found, V(labels) (its containers') or V(files) (no container yet).
      type: str
    overrides:
      description: The roles the inventory's O(stack_roles) set.
      type: dict
    roles:
      description: Role to its service (V(database), V(cache), V(vector_store), V(vector_meta), V(vector_object),
        V(web), V(data_api), V(agent_api)), and V(apis) to every API service.
      type: dict
    unmapped:
      description: The roles no service plays.
      type: list
      elements: str
    services:
      description: Service to what is known of it (container, role, flavour, port, health URL, settings' origins).
      type: dict
ods_report:
  description: C(found) (one line per role), C(done) (empty), C(left) (the roles no service plays), C(details) (the profile).
  returned: always
  type: dict
"""

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, discovery


def summary(profile):
    """One line per role, and one per setting-holding file: what a person checks first."""
    lines = [
        "project {}: {} ({}), Compose {}".format(
            profile["project"],
            ", ".join(profile["config_files"]),
            "from its containers' labels" if profile["source"] == "labels" else "no container yet",
            profile.get("compose_version") or "?",
        )
    ]
    if profile.get("profiles"):
        lines.append("profiles in use: {}".format(", ".join(profile["profiles"])))
    for role in discovery.ROLES + discovery.API_ROLES + ("apis",):
        service = profile["roles"].get(role)
        if not service:
            continue
        names = service if isinstance(service, list) else [service]
        details = []
        for name in names:
            entry = profile["services"][name]
            extra = [entry.get("container") or "no container"]
            if entry.get("flavor"):
                extra.append(entry["flavor"] + (" " + entry["version"] if entry.get("version") else ""))
            if entry.get("health_url"):
                extra.append(entry["health_url"])
            details.append("{} ({})".format(name, ", ".join(extra)))
        lines.append("{}: {}".format(discovery.ROLE_WORDS[role], "; ".join(details)))
    return lines


def main():
    module = compose.stack_module({})
    _api, project = compose.open_project(module, require_running=False)
    profile = project["profile"]
    left = [f"no service is {discovery.ROLE_WORDS[r]}: set ods_roles.{r} if one is" for r in profile["unmapped"]]
    report = {"fix": "discover", "found": summary(profile), "done": [], "left": left, "details": profile}
    module.exit_json(ansible_facts=compose.profile_facts(module), changed=False, profile=profile, ods_report=report)


if __name__ == "__main__":
    main()
