#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: web_config
short_description: Put the last known-good nginx config back into the web container, keeping the broken one
version_added: 0.1.0
description:
  - The manual's 检查 Nginx 配置, as a remedy. The copy that M(ods.fix.web_health) kept the last time the
    config passed C(nginx -t) is copied into the container (running or stopped) over the current one.
  - The config it replaces is kept first, in O(state_dir) (C(nginx.conf.broken-YYYYMMDD-HHMMSS), 0600).
  - Nothing is done when the container's config already is the known-good one.
  - The container must be restarted afterwards for nginx to read it.
extends_documentation_fragment:
  - ods.fix.project
options:
  service:
    description: The web service.
    type: str
    default: web
  config_path:
    description: The nginx config in the container.
    type: str
    default: /etc/nginx/nginx.conf
  state_dir:
    description: Where M(ods.fix.web_health) keeps the known-good config on the target.
    type: path
    required: true
attributes:
  check_mode:
    support: full
  idempotent:
    support: full
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Restore the last good nginx config | 检查 Nginx 配置
  ods.fix.web_config:
    project_dir: /home/dev/one-data-studio
    state_dir: /home/dev/one-data-studio/deploy/backups/web
"""

RETURN = r"""
actions:
  description: What was done (or would be), one line each.
  returned: always
  type: list
  elements: str
kept:
  description: Where the replaced config was kept.
  returned: when changed and not in check mode
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose
from ansible_collections.ods.fix.plugins.module_utils.containerfiles import GOOD_NAME, read_archive, tar_one


def main():
    argument_spec = dict(
        service=dict(type="str", default="web"),
        config_path=dict(type="str", default="/etc/nginx/nginx.conf"),
        state_dir=dict(type="path", required=True),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    api, project = compose.open_project(module)
    good_path = os.path.join(params["state_dir"], GOOD_NAME)
    if not os.path.isfile(good_path):
        module.fail_json(msg="no known-good nginx config was kept in %s" % params["state_dir"])
    with open(good_path, "rb") as handle:
        good = handle.read()
    container = compose.project_containers(api, project["project_name"]).get(params["service"])
    if container is None:
        module.fail_json(msg="%s has no container" % params["service"])
    name = os.path.basename(params["config_path"])
    current = (read_archive(container, params["config_path"]) or {}).get(name)
    if current == good:
        module.exit_json(changed=False, actions=[])
    verb = "would " if module.check_mode else ""
    action = "%sput back the last known-good %s (kept %s)" % (verb, params["config_path"], good_path)
    if module.check_mode:
        module.exit_json(changed=True, actions=[action])
    kept = os.path.join(params["state_dir"], "%s.broken-%s" % (name, time.strftime("%Y%m%d-%H%M%S")))
    if current is not None:
        fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(current)
        action += "; the broken one is kept in %s" % kept
    container.put_archive(os.path.dirname(params["config_path"]), tar_one(name, good))
    module.exit_json(changed=True, actions=[action], kept=kept if current is not None else "")


if __name__ == "__main__":
    main()
