#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: web_health
short_description: The manual's front-end checks (页面加载失败), and the known-good nginx config they keep
version_added: 0.1.0
description:
  - The manual's three steps, on the stack's web front end (the manual's C(web); whatever the stack calls it).
    Its container's state (C(docker-compose ps web)); for nginx, C(nginx -t) (检查 Nginx 配置) and its
    document root (检查静态文件; the manual's C(/app/dist), nginx:alpine's C(/usr/share/nginx/html); read from
    nginx's own config, C(nginx -T)), which must hold C(index.html) and every asset it refers to.
  - When web runs, C(GET /) must answer 200 with that C(index.html) and its first asset must load; fetched
    inside web with whatever it has (curl, Python, wget, node), else through its published port, else from
    an API on the same network.
  - When web is stopped (an nginx that cannot start), its config is read from the stopped container and
    tested with C(nginx -t) in a throwaway container of the same image on web's networks, so that upstreams
    named by host name resolve; one that does not is named.
  - A Vite dev server (node on 5173, the front end's sources bind-mounted) has no nginx config; it must
    answer, serve its index, and proxy O(proxy_path) to the API.
  - With O(save_good), a config that passes C(nginx -t) and proxies O(proxy_path) is kept on the target in
    O(state_dir) (every file nginx loads), so that a later fix can put it back. Saving it is the tool's own
    bookkeeping, not a change to the stack; it is not reported as a change.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
options:
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
  - ods-fix contributors (!UNKNOWN)
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
  description: web runs, its config passes nginx -t, its document root is complete, and GET / and an asset answer 200.
  returned: always
  type: bool
service:
  description: The web service.
  returned: always
  type: str
flavor:
  description: V(nginx) or V(vite).
  returned: always
  type: str
condition:
  description: The container's condition (V(healthy), V(exited), V(missing), ...).
  returned: always
  type: str
config:
  description: The front end's configuration, as nginx -t sees it.
  returned: always
  type: dict
  contains:
    valid:
      description: nginx -t passes (a Vite dev server has none to test).
      type: bool
    output:
      description: What nginx -t printed.
      type: str
    failing_line:
      description: The file and line nginx -t names, with its message; empty when valid.
      type: str
    files:
      description: The configuration files nginx loads.
      type: list
      elements: str
    site:
      description: The file holding the server block.
      type: str
    source:
      description: Where the layout was read from (V(nginx -T), or the container's files).
      type: str
    sha256:
      description: The SHA-256 of the configuration files, for the good copy.
      type: str
dist:
  description: The built front end in the document root.
  returned: always
  type: dict
  contains:
    root:
      description: The document root (null when no root directive was found).
      type: str
    index:
      description: index.html is there.
      type: bool
    assets:
      description: The assets index.html loads.
      type: list
      elements: str
    missing:
      description: Those of them that are missing.
      type: list
      elements: str
    files:
      description: How many files the document root holds.
      type: int
http:
  description: What the front end answers.
  returned: when web is running
  type: dict
  contains:
    index_code:
      description: The status of GET /.
      type: int
    index_matches:
      description: GET / answers the app's index.html.
      type: bool
    asset:
      description: The asset fetched.
      type: str
    asset_code:
      description: Its status.
      type: int
    proxy:
      description: The same-origin API route, C(path), C(code), C(routed) (it reached the API).
      type: dict
    how:
      description: How it was fetched (from the host's published port, or inside the container).
      type: str
good_copy:
  description: The last good configuration kept by this fix.
  returned: always
  type: dict
  contains:
    path:
      description: Where it is kept.
      type: str
    exists:
      description: One is kept.
      type: bool
    sha256:
      description: Its SHA-256, when one is kept.
      type: str
    saved:
      description: This run kept a new copy.
      type: bool
problems:
  description: One line per problem.
  returned: always
  type: list
  elements: str
"""

import hashlib
import os
import re

from ansible_collections.ods.fix.plugins.module_utils import safe_file
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, container_files, services
from ansible_collections.ods.fix.plugins.module_utils.web import front_end

ASSET_REF = re.compile(r"""(?:src|href)=["'](/[^"'?#]+)""")


def check_config(api, container, layout):
    if not layout["files"]:
        return {"valid": False, "output": f"no nginx config found in {container.name}", "failing_line": ""}, {}
    files = front_end.config_bytes(container, layout)
    valid, output = front_end.nginx_test(api, container, None if container.status == "running" else files)
    result = {
        "valid": valid,
        "output": output,
        "failing_line": "" if valid else front_end.failing_line(output),
        "files": layout["files"],
        "site": layout["site"],
        "source": layout["source"],
        "sha256": hashlib.sha256(container_files.tar_files(files)).hexdigest(),
    }
    upstream = None if valid else front_end.unresolved_upstream(output)
    if upstream:
        result["unresolved_upstream"] = upstream
    return result, files


def check_dist(container, root):
    if not root:
        return {"root": None, "index": False, "assets": [], "missing": [], "files": 0}, None
    base = os.path.basename(root.rstrip("/"))
    files = container_files.read_archive(container, root, limit={base + "/index.html"})
    if files is None:
        return {"root": root, "index": False, "assets": [], "missing": [], "files": 0}, None
    names = set(name[len(base) + 1 :] for name in files)
    index = files.get(base + "/index.html")
    assets = sorted(set(ASSET_REF.findall(index.decode("utf-8", "replace")))) if index else []
    missing = [ref for ref in assets if ref.lstrip("/") not in names]
    return {"root": root, "index": index is not None, "assets": assets, "missing": missing, "files": len(names)}, index


def check_http(profile, containers, service, params, index, assets):
    code, body, how = front_end.fetch(profile, containers, service, "/")
    result = {"index_code": code, "how": how}
    result["index_matches"] = code == 200 and (index is None or body.strip() == index.decode().strip())
    if code is None:
        result["error"] = body
    if assets:
        result["asset"] = assets[0]
        result["asset_code"], _body, _how = front_end.fetch(profile, containers, service, assets[0])
    if params["proxy_path"]:
        code, body, _how = front_end.fetch(profile, containers, service, params["proxy_path"])
        result["proxy"] = {"path": params["proxy_path"], "code": code, "routed": front_end.proxied(code, body)}
    return result


def keep_good(params, files, check_mode):
    path = os.path.join(params["state_dir"], container_files.GOOD_SET)
    copy = {"path": path, "exists": os.path.isfile(path), "saved": False}
    if copy["exists"]:
        with open(path, "rb") as handle:
            copy["sha256"] = hashlib.sha256(handle.read()).hexdigest()
    data = container_files.tar_files(files)
    fresh = hashlib.sha256(data).hexdigest()
    if params["save_good"] and not check_mode and copy.get("sha256") != fresh:
        if not os.path.isdir(params["state_dir"]):
            os.makedirs(params["state_dir"], mode=0o700)
        safe_file.replace(path, data, mode=0o600)
        copy.update(exists=True, sha256=fresh, saved=True)
    return copy


def http_problems(service, http, require_proxy):
    problems = []
    if http["index_code"] != 200 or not http["index_matches"]:
        problems.append(
            "GET / answers {}{}".format(
                http["index_code"] or http.get("error"), "" if http["index_matches"] else ", not the app's index.html"
            )
        )
    if http.get("asset") and http.get("asset_code") != 200:
        problems.append("GET {} answers {}".format(http["asset"], http["asset_code"]))
    proxy = http.get("proxy")
    if require_proxy and proxy and not proxy["routed"]:
        problems.append(
            "{} does not proxy {} to the API (it answers {} with the front end's page): the same-origin "
            "/api route (使用反向代理处理 CORS) is broken".format(service, proxy["path"], proxy["code"])
        )
    elif require_proxy and proxy and proxy["code"] in (502, 503, 504):
        problems.append(
            "{} proxies {}, but the API behind it does not answer ({})".format(service, proxy["path"], proxy["code"])
        )
    return problems


def upstream_down(profile, containers, config):
    """True (and config["upstream_down"] set) when nginx -t fails on an upstream that is a stopped service here."""
    name = config.get("unresolved_upstream")
    container = containers.get(name)
    if name in profile["services"] and (container is None or container.status != "running"):
        config["upstream_down"] = name
        return True
    return False


def inspect_vite(profile, containers, service, params, result):
    container = containers.get(service)
    result.update(config={}, dist={}, good_copy={})
    if container is not None and container.status == "running":
        result["http"] = check_http(profile, containers, service, params, None, [])
        result["problems"] += http_problems(
            service, result["http"], params["require_proxy"] or bool(params["proxy_path"])
        )
    return result


def inspect(api, profile, params, check_mode):
    service = profile["roles"]["web"]
    containers = compose.project_containers(api, profile["project"])
    container = containers.get(service)
    flavor = profile["services"][service].get("flavor", "nginx")
    result = {"service": service, "flavor": flavor, "condition": services.condition(container), "problems": []}
    problems = result["problems"]
    if container is None:
        problems.append(f"{service} has no container")
        result.update(config={}, dist={}, good_copy={}, ok=False)
        return result
    if result["condition"] not in ("healthy", "running", "starting"):
        problems.append("{} is {}".format(service, result["condition"]))
    if flavor == "vite":
        inspect_vite(profile, containers, service, params, result)
        result["ok"] = not problems
        return result
    layout = front_end.read_layout(container)
    result["config"], files = check_config(api, container, layout)
    result["dist"], index = check_dist(container, layout["root"])
    if container.status == "running" and result["condition"] != "unhealthy":
        result["http"] = check_http(profile, containers, service, params, index, result["dist"]["assets"])
    routed = result.get("http", {}).get("proxy", {}).get("routed", True)
    copy_path = os.path.join(params["state_dir"], container_files.GOOD_SET)
    result["good_copy"] = {"path": copy_path, "exists": os.path.isfile(copy_path), "saved": False}
    if result["config"]["valid"] and routed:
        result["good_copy"] = keep_good(params, files, check_mode)
    elif result["config"]["valid"]:
        result["good_copy"]["not_saved"] = "{} is not proxied to the API".format(params["proxy_path"])
    elif upstream_down(profile, containers, result["config"]):
        # Its config is fine: the upstream it names is down (nginx resolves it at start and -t).
        down = result["config"]["upstream_down"]
        problems.append(
            "nginx -t fails only because its upstream {down} is not running: fix {down} first ({fix})".format(
                down=down, fix="ods-fix api-500" if profile["services"][down]["role"] == "api" else "ods-fix diagnose"
            )
        )
    else:
        problems.append(
            "nginx -t fails: %s"
            % (result["config"]["failing_line"] or (result["config"]["output"].splitlines() or [""])[-1])
        )
    root = result["dist"]["root"] or "the document root (no root directive found)"
    if not result["dist"]["index"]:
        problems.append("%s has no index.html (%d files)" % (root, result["dist"]["files"]))
    elif result["dist"]["missing"]:
        problems.append("{} lacks assets its index.html loads: {}".format(root, ", ".join(result["dist"]["missing"])))
    if "http" in result:
        problems.extend(http_problems(service, result["http"], params["require_proxy"]))
        proxy = result["http"].get("proxy") or {}
        stale = front_end.stale_upstream(profile, containers, proxy.get("code")) if proxy else None
        if stale:
            result["stale_upstream"] = stale
            problems.append(
                "{service} answers {code} on {path} while {stale} itself answers: nginx still sends it to the address "
                "{stale} had when nginx started (it resolves upstream names only then); restarting nginx makes it look "
                "again".format(service=service, code=proxy["code"], path=proxy["path"], stale=stale)
            )
    result["ok"] = not problems
    return result


def main():
    argument_spec = dict(
        state_dir=dict(type="path", required=True),
        save_good=dict(type="bool", default=True),
        proxy_path=dict(type="str", default="/api/v1/health"),
        require_proxy=dict(type="bool", default=False),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    compose.role_service(module, profile, "web")
    module.exit_json(
        ansible_facts=compose.profile_facts(module), changed=False, **inspect(api, profile, params, module.check_mode)
    )


if __name__ == "__main__":
    main()
