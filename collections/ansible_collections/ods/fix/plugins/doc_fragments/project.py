# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
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
requirements:
  - The Python C(docker) library on the target (Debian C(python3-docker)).
notes:
  - Containers are found through the labels that Compose v1 and v2 both set
    (C(com.docker.compose.project), C(com.docker.compose.service)), so the modules work with either.
"""
