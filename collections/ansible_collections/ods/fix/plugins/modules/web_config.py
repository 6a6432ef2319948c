#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: web_config
short_description: Put the last known-good nginx config back into the web container, keeping the broken one
version_added: 0.1.0
description:
  - The manual's 检查 Nginx 配置, as a remedy. The files that M(ods.fix.web_health) kept the last time the
    config passed C(nginx -t) and proxied the API (every file nginx loads, wherever they are; the manual's
    C(/etc/nginx/nginx.conf), nginx:alpine's C(conf.d/default.conf)) are copied back into the container
    (running or stopped) over those that differ.
  - The candidate is tested first with C(nginx -t) in a throwaway container of web's image on web's networks,
    so that upstreams named by host name resolve; when one does not (the API it names is down), that is said,
    and the known-good copy is still put back (it passed when it was kept).
  - The files it replaces are kept first, in O(state_dir) (C(nginx-config.broken-YYYYMMDD-HHMMSS.tar), 0600).
  - Nothing is done when the container's config already is the known-good one.
  - With O(add_route) and no known-good copy, a C(location) for O(route_path)'s prefix that proxies to the data
    API (by its service name and port) is added to the site's config file instead (the manual's 使用反向代理处理
    CORS), tested the same way.
  - The container must be restarted (or nginx reloaded) afterwards for nginx to read it.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.full
  - ods.fix.project
options:
  state_dir:
    description: Where M(ods.fix.web_health) keeps the known-good config on the target.
    type: path
    required: true
  add_route:
    description: With no known-good copy, add the same-origin route to the data API rather than fail.
    type: bool
    default: false
  route_path:
    description: A path the route must serve; its first segment is the route's prefix (V(/api/v1/health) gives C(/api/)).
    type: str
    default: /api/v1/health
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
  description: Where the replaced files were kept.
  returned: when changed and not in check mode
  type: str
tested:
  description: C(passes), C(output) of the candidate's nginx -t, C(unresolved_upstream) when one did not resolve.
  returned: when a candidate was tested
  type: dict
"""

import os
import re
import time

from ansible_collections.ods.fix.plugins.module_utils import safe_file
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, container_files
from ansible_collections.ods.fix.plugins.module_utils.web import front_end

ROUTE = """    # Added by ods-fix cors --add-route: the same-origin route to the API (使用反向代理处理 CORS).
    location %(prefix)s {
        proxy_pass http://%(target)s;
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }

"""


ROUTE_PREFIX = re.compile(r"^/[A-Za-z0-9._~-]+/$")


def with_route(module, profile, container, route_path):
    """{path: bytes}: the site's config file with the route added before its `location /` block."""
    layout = front_end.read_layout(container)
    site = layout["site"]
    if not site:
        module.fail_json(msg=f"no nginx site config found in {container.name} to add the route to")
    files = front_end.config_bytes(container, layout)
    text = files[site].decode("utf-8")
    api = profile["roles"].get("data_api") or profile["roles"]["apis"][0]
    prefix = "/" + route_path.strip("/").split("/", 1)[0] + "/"
    if not ROUTE_PREFIX.match(prefix) or any(ord(c) < 32 or ord(c) == 127 for c in route_path):
        # It goes into nginx's config as is: a newline, a ; or a { would add directives of its own.
        module.fail_json(
            msg=f"the route {route_path!r} is not a plain URL path (letters, digits, . _ ~ -): refused",
            ods_failure="input",
        )
    # An upstream block named after the API already says where it is (and may not be given a port again).
    named = any(
        re.search(rf"^\s*upstream\s+{re.escape(api)}\s*\{{", data.decode("utf-8", "replace"), re.MULTILINE)
        for data in files.values()
    )
    target = api if named else "{}:{}".format(api, profile["services"][api]["port"])
    block = ROUTE % {"prefix": prefix, "target": target}
    marker = re.search(r"^[ \t]*location\s+/\s*\{", text, re.MULTILINE) or re.search(r"^\}\s*$", text, re.MULTILINE)
    if marker is None:
        module.fail_json(msg=f"cannot find where to add the route in {site}")
    return {site: (text[: marker.start()] + block + text[marker.start() :]).encode("utf-8")}, site, prefix


def main():
    argument_spec = dict(
        state_dir=dict(type="path", required=True),
        add_route=dict(type="bool", default=False),
        route_path=dict(type="str", default="/api/v1/health"),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    api, profile, service, containers = compose.open_role(module, "web")
    good_path = os.path.join(params["state_dir"], container_files.GOOD_SET)
    container = containers.get(service)
    if container is None:
        module.fail_json(msg=f"{service} has no container")
    verb = "would " if module.check_mode else ""
    if os.path.isfile(good_path):
        with open(good_path, "rb") as handle:
            good = container_files.untar_files(handle.read())
        what = f"put back the last known-good %s (kept in {good_path})"
    elif params["add_route"]:
        good, _site, prefix = with_route(module, profile, container, params["route_path"])
        what = f"added location {prefix} to %s, proxying to the data API"
    else:
        module.fail_json(msg="no known-good nginx config was kept in {}".format(params["state_dir"]))
    current = container_files.read_files(container, sorted(good))
    differ = sorted(path for path, data in good.items() if current.get(path) != data)
    if not differ:
        module.exit_json(ansible_facts=compose.profile_facts(module), changed=False, actions=[])
    action = verb + what % ", ".join(differ)
    if module.check_mode:
        module.exit_json(ansible_facts=compose.profile_facts(module), changed=True, actions=[action])
    passes, output = front_end.nginx_test(api, container, good)
    tested = {"passes": passes, "output": output}
    upstream = front_end.unresolved_upstream(output)
    if upstream:
        tested["unresolved_upstream"] = upstream
        action += f"; it could not be tested: nginx cannot resolve the upstream {upstream} (is it running?)"
    elif not passes:
        module.fail_json(
            msg="the candidate config does not pass nginx -t: %s (nothing put back)"
            % (front_end.failing_line(output) or output.splitlines()[-1:]),
            tested=tested,
        )
    broken = dict((path, current[path]) for path in differ if current.get(path) is not None)
    kept = ""
    if broken:
        kept = os.path.join(params["state_dir"], "nginx-config.broken-{}.tar".format(time.strftime("%Y%m%d-%H%M%S")))
        safe_file.replace(kept, container_files.tar_files(broken), mode=0o600)
        action += f"; the files it replaced are kept in {kept}"
    container.put_archive("/", container_files.tar_files(dict((path, good[path]) for path in differ)))
    module.exit_json(
        ansible_facts=compose.profile_facts(module), changed=True, actions=[action], kept=kept, tested=tested
    )


if __name__ == "__main__":
    main()
