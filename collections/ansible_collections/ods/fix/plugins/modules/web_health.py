#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: web_health
short_description: The manual's front-end checks (页面加载失败), and the known-good nginx config they keep
version_added: 0.1.0
description:
  - The manual's three steps. The web container's state (C(docker-compose ps web)), C(nginx -t) (检查 Nginx
    配置), and C(/app/dist) (检查静态文件), which must hold C(index.html) and every asset it refers to.
  - When web is running, C(GET /) must answer 200 with that C(index.html), and its first asset must load.
  - When web is stopped (an nginx that cannot start), its config is read from the stopped container and
    tested with C(nginx -t) in a throwaway container of the same image, with no network.
  - With O(save_good), a config that passes C(nginx -t) is kept on the target in O(state_dir), so that a
    later fix can put it back. Saving it is the tool's own bookkeeping, not a change to the stack; it is
    not reported as a change.
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
  dist_dir:
    description: The built front end in the container.
    type: str
    default: /app/dist
  url:
    description: The front end's URL as seen inside the container.
    type: str
    default: http://127.0.0.1/
  state_dir:
    description: Where the known-good config is kept on the target.
    type: path
    required: true
  save_good:
    description: Keep the config when it passes C(nginx -t) (and, when web runs, its O(proxy_path) is proxied).
    type: bool
    default: true
  proxy_path:
    description:
      - A path web must proxy to the API (the manual's reverse-proxy remedy for CORS, 使用反向代理处理 CORS).
        Proxied means the API's JSON comes back, or a 502/503/504 (the route exists, the API is down). The
        front end's own index.html (a missing route falls through to the single-page app) is not.
      - Empty skips it.
    type: str
    default: /api/v1/health
  require_proxy:
    description: Count a O(proxy_path) that is not proxied as a problem.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads only; in check mode the known-good config is not saved.
  idempotent:
    support: full
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Check the front end | 页面加载失败
  ods.fix.web_health:
    project_dir: /home/dev/one-data-studio
    state_dir: /home/dev/one-data-studio/deploy/backups/web
  register: web
"""

RETURN = r"""
ok:
  description: web runs, its config passes nginx -t, dist is complete, and GET / and an asset answer 200.
  returned: always
  type: bool
condition:
  description: The container's condition (V(healthy), V(exited), V(missing), ...).
  returned: always
  type: str
config:
  description: C(valid), C(output) of nginx -t, C(failing_line) (file:line and the message), C(sha256).
  returned: always
  type: dict
dist:
  description: C(index) (whether index.html is there), C(assets) it refers to, C(missing) among them, C(files).
  returned: always
  type: dict
http:
  description: C(index_code), C(index_matches) (the body is dist's index.html), C(asset), C(asset_code).
  returned: when web is running
  type: dict
good_copy:
  description: C(path), C(exists), C(sha256), C(saved) (this run kept a new copy).
  returned: always
  type: dict
problems:
  description: One line per problem.
  returned: always
  type: list
  elements: str
"""

import hashlib
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, safefile, services
from ansible_collections.ods.fix.plugins.module_utils.containerfiles import GOOD_NAME, read_archive, tar_one

ASSET_REF = re.compile(r"""(?:src|href)=["'](/[^"'?#]+)""")
FAILING_LINE = re.compile(r"\[emerg\] (?:\d+#\d+: )?(.*? in (\S+:\d+))")


def nginx_test(api, container, config_path, config):
    """(passes, output) of `nginx -t`: in web when it runs, else in a throwaway container of its image."""
    if container.status == "running":
        code, output = container.exec_run(["nginx", "-t"])
        return code == 0, output.decode("utf-8", "replace").strip()
    probe = api.containers.create(container.image.id, entrypoint=["nginx"], command=["-t"], network_disabled=True)
    try:
        probe.put_archive(os.path.dirname(config_path), tar_one(os.path.basename(config_path), config))
        probe.start()
        code = probe.wait(timeout=60).get("StatusCode")
        return code == 0, probe.logs().decode("utf-8", "replace").strip()
    finally:
        probe.remove(force=True)


def check_config(api, container, params):
    name = os.path.basename(params["config_path"])
    files = read_archive(container, params["config_path"])
    if not files or name not in files:
        return {"valid": False, "output": "%s is missing" % params["config_path"], "failing_line": ""}, None
    config = files[name]
    valid, output = nginx_test(api, container, params["config_path"], config)
    match = FAILING_LINE.search(output)
    return {
        "valid": valid,
        "output": output,
        "failing_line": "" if valid or not match else match.group(1),
        "sha256": hashlib.sha256(config).hexdigest(),
    }, config


def check_dist(container, dist_dir):
    base = os.path.basename(dist_dir.rstrip("/"))
    files = read_archive(container, dist_dir, limit={base + "/index.html"})
    if files is None:
        return {"index": False, "assets": [], "missing": [], "files": 0}, None
    names = set(name[len(base) + 1 :] for name in files)
    index = files.get(base + "/index.html")
    assets = sorted(set(ASSET_REF.findall(index.decode("utf-8", "replace")))) if index else []
    missing = [ref for ref in assets if ref.lstrip("/") not in names]
    return {"index": index is not None, "assets": assets, "missing": missing, "files": len(names)}, index


def http_get(container, url):
    """(code, body) of url fetched with curl inside the container."""
    code, output = container.exec_run(["curl", "-sS", "-m", "5", "-w", "\n%{http_code}", url])
    text = output.decode("utf-8", "replace")
    body, _, status = text.rpartition("\n")
    if code != 0 or not status.isdigit():
        return None, text.strip()
    return int(status), body


def check_http(container, params, index, assets):
    code, body = http_get(container, params["url"])
    result = {"index_code": code, "index_matches": index is not None and body.strip() == index.decode().strip()}
    base = params["url"].rstrip("/")
    if assets:
        result["asset"] = assets[0]
        result["asset_code"], _ = http_get(container, base + assets[0])
    if params["proxy_path"]:
        code, body = http_get(container, base + params["proxy_path"])
        routed = code in (502, 503, 504) or (code is not None and body.lstrip().startswith("{"))
        result["proxy"] = {"path": params["proxy_path"], "code": code, "routed": routed}
    return result


def keep_good(params, config, check_mode):
    path = os.path.join(params["state_dir"], GOOD_NAME)
    copy = {"path": path, "exists": os.path.isfile(path), "saved": False}
    if copy["exists"]:
        with open(path, "rb") as handle:
            copy["sha256"] = hashlib.sha256(handle.read()).hexdigest()
    fresh = hashlib.sha256(config).hexdigest()
    if params["save_good"] and not check_mode and copy.get("sha256") != fresh:
        if not os.path.isdir(params["state_dir"]):
            os.makedirs(params["state_dir"], mode=0o700)
        safefile.replace(path, config, mode=0o644)
        copy.update(exists=True, sha256=fresh, saved=True)
    return copy


def inspect(api, project, params, check_mode):
    container = compose.project_containers(api, project["project_name"]).get(params["service"])
    result = {"condition": services.condition(container), "problems": []}
    problems = result["problems"]
    if container is None:
        problems.append("%s has no container" % params["service"])
        result.update(config={}, dist={}, good_copy={}, ok=False)
        return result
    result["config"], config = check_config(api, container, params)
    result["dist"], index = check_dist(container, params["dist_dir"])
    if container.status == "running" and result["condition"] != "unhealthy":
        result["http"] = check_http(container, params, index, result["dist"]["assets"])
    proxied = result.get("http", {}).get("proxy", {}).get("routed", True)
    copy_path = os.path.join(params["state_dir"], GOOD_NAME)
    result["good_copy"] = {"path": copy_path, "exists": os.path.isfile(copy_path), "saved": False}
    if result["config"]["valid"] and proxied:
        result["good_copy"] = keep_good(params, config, check_mode)
    elif result["config"]["valid"]:
        result["good_copy"]["not_saved"] = "%s is not proxied to the API" % params["proxy_path"]
    else:
        problems.append(
            "nginx -t fails: %s"
            % (result["config"]["failing_line"] or (result["config"]["output"].splitlines() or [""])[-1])
        )
    if not result["dist"]["index"]:
        problems.append("%s has no index.html (%d files)" % (params["dist_dir"], result["dist"]["files"]))
    elif result["dist"]["missing"]:
        problems.append(
            "%s lacks assets its index.html loads: %s" % (params["dist_dir"], ", ".join(result["dist"]["missing"]))
        )
    if result["condition"] not in ("healthy", "running", "starting"):
        problems.append("%s is %s" % (params["service"], result["condition"]))
    elif "http" in result:
        http = result["http"]
        if http["index_code"] != 200 or not http["index_matches"]:
            problems.append(
                "GET / answers %s%s"
                % (http["index_code"], "" if http["index_matches"] else ", not the app's index.html")
            )
        if http.get("asset") and http.get("asset_code") != 200:
            problems.append("GET %s answers %s" % (http["asset"], http["asset_code"]))
        proxy = http.get("proxy")
        if params["require_proxy"] and proxy and not proxy["routed"]:
            problems.append(
                "web does not proxy %s to the API (it answers %s with the front end's page): the same-origin "
                "/api route (使用反向代理处理 CORS) is broken" % (proxy["path"], proxy["code"])
            )
        elif params["require_proxy"] and proxy and proxy["code"] in (502, 503, 504):
            problems.append(
                "web proxies %s, but the API behind it does not answer (%s)" % (proxy["path"], proxy["code"])
            )
    result["ok"] = not problems
    return result


def main():
    argument_spec = dict(
        service=dict(type="str", default="web"),
        config_path=dict(type="str", default="/etc/nginx/nginx.conf"),
        dist_dir=dict(type="str", default="/app/dist"),
        url=dict(type="str", default="http://127.0.0.1/"),
        state_dir=dict(type="path", required=True),
        save_good=dict(type="bool", default=True),
        proxy_path=dict(type="str", default="/api/v1/health"),
        require_proxy=dict(type="bool", default=False),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    api, project = compose.open_project(module)
    declared = project["declared_services"]
    if declared and params["service"] not in declared:
        module.fail_json(
            msg="unknown service %s: the compose file in %s has %s"
            % (params["service"], params["project_dir"], ", ".join(declared)),
            ods_failure="input",
        )
    module.exit_json(changed=False, **inspect(api, project, params, module.check_mode))


if __name__ == "__main__":
    main()
