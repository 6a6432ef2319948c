#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: compose_env_file
short_description: Find what the project's env file lacks, and write it from the values the containers were made with
version_added: 0.1.0
description:
  - Compose reads C(.env) from the project directory. Without it every C(${VAR:?}) makes every Compose command fail,
    C(ps) included, and every other C(${VAR}) silently takes its default at the next C(up).
  - Names the file Compose reads, the variables the compose files use that nothing sets (with file and line), and where
    each value would come from. The values come from the project's own containers first (their environment, name,
    image and published ports show what each variable was), then a C(.env) written where Compose does not look (the
    checkout's root), then the checkout's C(.env.example) (its placeholders of secrets are not values), then, for a
    secret the files require and nothing gives, a new random one, unless a volume of a service that reads it exists.
  - With O(write), writes the missing file (mode 0600, from the example's text when there is one), or adds the missing
    variables to the existing one after a backup; a value already in the file is never changed. Nothing is written
    when a required variable has no value; the result says which.
  - No value is returned, only names, files and lines.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.full
  - ods.fix.project
options:
  write:
    description: Write the file (else only report).
    type: bool
    default: false
  backup_dir:
    description: Where the existing file's backup goes (not beside it, where a container that mounts the folder reads).
    type: path
    default: ""
"""

EXAMPLES = r"""
- name: What the env file lacks
  ods.fix.compose_env_file:
    project_dir: /home/dev/one-data-studio
  register: env_file
"""

RETURN = r"""
ok:
  description: The file exists and gives every variable the files need whose value the containers show.
  returned: success
  type: bool
env_file:
  description: The file Compose reads.
  returned: success
  type: str
exists:
  description: Whether it existed when the module started.
  returned: success
  type: bool
unset:
  description: The variables the compose files use that nothing sets, each with whether it is required, where it is used,
    and the source its value would come from (containers, misplaced, example, generated, default, none).
  returned: success
  type: list
  elements: dict
problems:
  description: One line each, names only.
  returned: success
  type: list
  elements: str
left:
  description: The required variables nothing gives, and why; nothing is written while there are any.
  returned: success
  type: list
  elements: str
written:
  description: The variables written (names), the file and its backup.
  returned: when written
  type: dict
"""

import os

from ansible_collections.ods.fix.plugins.module_utils import safe_file
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, compose_files, discovery, dotenv, env_file

VOLUME_LABEL = "com.docker.compose.volume"


def describe(found, values, check_mode, backup):
    """One line: what was (or would be) written, each variable's name with where its value came from."""
    by_source = {}
    for entry in found["unset"]:
        if entry["var"] in values:
            by_source.setdefault(entry["source"], []).append(entry["var"])
    words = {
        "containers": "as the containers were made",
        "misplaced": "from " + (found["misplaced"] or ".env"),
        "example": "from " + (found["example"] or "the example"),
        "generated": "generated (no volume holds data made with an old value)",
    }
    parts = ["{} ({})".format(", ".join(names), words[source]) for source, names in sorted(by_source.items())]
    verb = "would write" if check_mode else ("added to" if found["exists"] else "wrote")
    line = "{} {}: {}".format(verb, found["env_file"], "; ".join(parts))
    return line + (f"; the old file kept as {backup}" if backup else "")


def plan(params, name, default_name, working_dir, files, env_label, containers, volumes):
    return env_file.plan(
        {
            "project": name,
            "default_name": default_name,
            "project_dir": params["project_dir"],
            "working_dir": working_dir,
            "config_files": files,
            "dotenv": env_label,
        },
        containers,
        [v for v in volumes if v],
    )


def main():
    module = compose.stack_module(
        dict(write=dict(type="bool", default=False), backup_dir=dict(type="path", default=""))
    )
    compose.require_docker(module)
    params = module.params
    try:
        api = compose.client(params["docker_host"])
        name, containers, files, working_dir, env_label, _version, _source = discovery.locate(
            api, params["project_dir"], params["project_name"]
        )
    except (compose.ProjectError, discovery.ProfileError) as exc:
        module.fail_json(msg=str(exc), ods_failure="input")
    default_name = discovery.normalize_project_name(os.path.basename(os.path.normpath(working_dir)))
    name = name or default_name
    volumes = [
        (v.attrs.get("Labels") or {}).get(VOLUME_LABEL)
        for v in api.volumes.list(filters={"label": f"com.docker.compose.project={name}"})
    ]
    try:
        found = plan(params, name, default_name, working_dir, files, env_label, containers, volumes)
    except (compose_files.ComposeFileError, dotenv.DotenvError, OSError) as exc:
        module.fail_json(msg=f"the project's files cannot be read: {exc}", ods_failure="input")
    values = found.pop("values")
    problems = env_file.problems(found)
    result = dict(found, ok=not problems, problems=problems, changed=False)
    if not (params["write"] and problems):
        module.exit_json(**result)
    if found["left"]:
        module.fail_json(msg="nothing written to {}: {}".format(found["env_file"], "; ".join(found["left"])), **result)
    if not values:
        module.exit_json(**result)
    result["changed"] = True
    result["written"] = {"file": found["env_file"], "variables": sorted(values), "backup": ""}
    if not module.check_mode:
        text = env_file.render(dict(found, values=values))
        if found["exists"]:
            result["written"]["backup"] = safe_file.backup(found["env_file"], directory=params["backup_dir"] or None)
        safe_file.replace(found["env_file"], text, mode=0o600)
    result["actions"] = [describe(found, values, module.check_mode, result["written"]["backup"])]
    if module.check_mode:
        module.exit_json(**result)
    refusal = discovery.compose_refusal(files, working_dir, env_label)
    if refusal:
        module.fail_json(msg="{} written, and still: {}".format(found["env_file"], refusal), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
