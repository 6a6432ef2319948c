#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: stack_diagnose
short_description: Diagnose a ONE-DATA-STUDIO compose stack, as the manual's diagnose.sh does
version_added: 0.1.0
description:
  - Collects the five parts of the manual's diagnosis report (诊断流程) in one pass, probing in parallel,
    service status (C(docker-compose ps)), resource use (C(docker stats --no-stream)), recent error logs
    (C(docker-compose logs --tail=100 | grep -i error)), network reachability from the APIs to the
    database, the cache and the vector store, and DB connectivity (the manual's C(SELECT 1) through the
    data API's engine, and directly in the database's container as root), and the cache's C(PING).
  - Finds containers that still run with the settings from before the compose files or C(.env) changed, config
    drift, where their config-hash label is not what the Compose that made them says now (M(ods.fix.compose_drift)),
    and the env file Compose reads, missing or short of what the containers were made with (M(ods.fix.compose_env_file)).
  - Works on the stack as discovered (the profile; see M(ods.fix.stack_profile)), whatever its services
    are called. Each API is probed on its own health URL (from its healthcheck, its ports or its
    command); what it answers is its health, not Docker's status.
  - Turns what it saw into findings on roles (the database, an API, ...), links consequences to their
    root cause, and maps each root cause to the ods-fix command that fixes it (from the fix catalog's symptom
    map, which the action plugin passes from the controller).
  - Read-only. Secret values from the stack's settings files, the containers' environment and the
    credentials found are redacted from everything it returns.
  - Written for ods-fix rather than composed from community.docker modules because the diagnosis
    must take about as long as the manual's commands; one module probing all containers in
    parallel does, one task per probe would not.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  cors_origins:
    description:
      - Origins whose CORS preflight is sent to the data API (the manual's curl -X OPTIONS), when it reads a
        CORS setting. An API that reads none is reached through the front end's proxy, not cross-origin.
    type: list
    elements: str
    default: ["http://localhost:3000"]
  log_lines:
    description: Lines of each service's log to scan for errors.
    type: int
    default: 100
  cpu_threshold:
    description: CPU percent (of one host, as docker stats shows it) from which a container is reported.
    type: float
    default: 90
  memory_threshold:
    description: Percent of its memory limit from which a container is reported.
    type: float
    default: 90
  docker_min_free_mb:
    description: Free MiB of the filesystem holding the engine's root directory below which Docker's disk is low.
    type: int
    default: 2048
  docker_min_free_percent:
    description: Free percent of that filesystem below which Docker's disk is low.
    type: float
    default: 5.0
  timeout:
    description: Seconds to wait for all probes.
    type: int
    default: 30
  fixes:
    description:
      - The fix catalog's symptom map, C(name), C(symptoms) (C(code:role) patterns), C(status), C(section) and
        C(manual_remedy) per fix. The action plugin passes the controller's catalog when it is not given.
      - Empty leaves every finding without a fix to name.
    type: list
    elements: dict
    default: []
attributes:
  action:
    description: Indicates this has a corresponding action plugin, so some parts of the options run on the controller.
    support: full
  check_mode:
    support: full
    details: The module never changes anything; it runs the same in check mode.
  idempotent:
    support: full
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Diagnose the stack | 诊断流程
  ods.fix.stack_diagnose:
    project_dir: /home/dev/one-data-studio
  register: diagnosis

- name: Show what to run next
  ansible.builtin.debug:
    var: diagnosis.ods_report.left
"""

RETURN = r"""
report_text:
  description: The human report (the manual's diagnosis log), secrets redacted.
  returned: always
  type: str
ods_report:
  description: The diagnosis, secrets redacted.
  returned: always
  type: dict
  contains:
    fix:
      description: V(diagnose).
      type: str
    found:
      description: One line per root-cause finding.
      type: list
      elements: str
    done:
      description: Always empty; diagnose changes nothing.
      type: list
      elements: str
    left:
      description: The ods-fix command for each finding.
      type: list
      elements: str
    details:
      description: >-
        C(services), C(resources), C(logs), C(network), C(health), C(database), C(web),
        C(drift) (service to C({container, settings, summary}), setting names only),
        C(env_file) (C({file, problems, variables}) when the env file Compose reads lacks what the containers were made
        with, names only), C(healthchecks) (service to what its healthcheck cannot do, and its line),
        C(docker_disk) (C({disk, reclaimable, low, summary}): the free space of the filesystem holding the engine's
        root directory, and what C(docker system df) counts as reclaimable, by kind),
        C(networks) (each external network missing, or whose containers hold a deleted one's id, with the file and
        line that declare it and the services it keeps from starting),
        C(ports) (service to the host ports another holds, and who), C(restarts) (service to how it was killed
        for memory or keeps restarting, its memory limit and the compose line that sets it, and for a loop its
        log's last lines), C(findings), C(triage),
        C(broken) (services with a root-cause finding) and C(healthy).
      type: dict
"""

import os
import time
from urllib.parse import urlsplit

from ansible_collections.ods.fix.plugins.module_utils import project_lock
from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.stack import (
    compose,
    compose_files,
    credentials,
    diagnosis,
    discovery,
    docker_disk,
    drift,
    env_file,
    healthchecks,
    networks,
    ports,
    probes,
    restarts,
    settings,
)
from ansible_collections.ods.fix.plugins.module_utils.web import front_end, nginx_conf

API_ROUTE = "/api/v1/health"  # the manual's health path, through the front end's same-origin /api route
# The Vite dev server has node, and neither curl nor Python: GET its index with node.
NODE_GET = (
    "require('http').get(process.argv[1], r => { process.stdout.write(String(r.statusCode)); process.exit(0) })"
    ".on('error', e => { console.log(e.message); process.exit(1) })"
)


def web_probes(profile, service, container, tasks, running):
    entry = profile["services"][service]
    if entry.get("flavor") == "vite":
        tasks["web:http"] = lambda: vite_index(container, entry["url"])
        return
    tasks["web:config"] = lambda: nginx_config(profile, container, running)
    tasks["web:proxy"] = lambda: api_route(profile, service, running)
    tasks["web:dist"] = lambda: probes.probe_dist(container, nginx_conf.read(container, probes.exec_in)["root"] or "/")


def nginx_config(profile, container, running):
    """nginx -t; an upstream that does not resolve because its service of this stack is down is that service's
    fault (reported as such), not the config's."""
    result = probes.probe_nginx(container)
    upstream = result.get("unresolved")
    if upstream in profile["services"] and upstream not in running:
        result["upstream_down"] = upstream
    return result


def api_route(profile, service, running):
    """The front end's /api route, when it answers 502/504 while the API behind it answers (a stale upstream)."""
    code, _body, _how = front_end.fetch(profile, running, service, API_ROUTE)
    stale = front_end.stale_upstream(profile, running, code)
    return {"ok": stale is None, "code": code, "path": API_ROUTE, "stale": stale}


def vite_index(container, url):
    code, output = probes.exec_in(container, ["node", "-e", NODE_GET, "--", url])
    if code == 0 and output.strip() == "200":
        return {"ok": True, "code": 200}
    return {"ok": False, "error": "GET {}: {}".format(url, probes.last_line(output) or f"exit {code}")}


def reads_cors(profile, service):
    return any("CORS" in key for key in settings.origins(profile, service))


def gather(api, profile, containers, params, expected, root, cache_password):
    tasks = {}
    roles = profile["roles"]
    targets = {}
    for role in ("database", "cache", "vector_store"):
        service = roles.get(role)
        if service and service in expected:
            targets[service] = profile["services"][service]["port"]
    running = dict((s, c) for s, c in containers.items() if c.status == "running")
    for service, container in containers.items():
        tasks["logs:" + service] = lambda c=container: c.logs(tail=params["log_lines"]).decode("utf-8", "replace")
    for service, container in running.items():
        tasks["stats:" + service] = lambda c=container: c.stats(stream=False)
    for service in roles["apis"]:
        if service in running:
            url = profile["services"][service]["health_url"]
            tasks["api:" + service] = lambda c=running[service], u=url: probes.probe_api(c, targets, u)
    db_check = roles.get("data_api") or next(iter(roles["apis"]), None)
    if db_check in running:
        tasks["db:via_api"] = lambda c=running[db_check]: probes.probe_manual_db_check(c)
    if roles.get("database") in running:
        tasks["db:direct"] = lambda: root_access.select_one(root)
    if roles.get("cache") in running:
        cache = roles["cache"]
        tasks["cache:" + cache] = lambda c=running[cache]: probes.probe_redis(api, c, cache_password)
    cors_api = roles.get("data_api")
    if cors_api in running and params["cors_origins"] and reads_cors(profile, cors_api):
        url = profile["services"][cors_api]["health_url"]
        tasks["cors:" + cors_api] = lambda c=running[cors_api]: probes.probe_preflight(c, url, params["cors_origins"])
    if roles.get("web") in running:
        web_probes(profile, roles["web"], running[roles["web"]], tasks, running)
    tasks["docker:disk"] = lambda: engine_disk(api, params)
    return compose.run_parallel(tasks, params["timeout"])


def engine_disk(api, params):
    """{disk, reclaimable, low, summary}: Docker's own disk as `df` says, and when it is low, what `docker system
    df` counts as reclaimable (which sizes every volume: only worth its time then)."""
    root = api.info().get("DockerRootDir") or ""
    # An engine reached over the network keeps its root directory on its own host: nothing here to measure.
    local = docker_disk.local_engine(params.get("docker_host") or os.environ.get("DOCKER_HOST", ""))
    disk = docker_disk.usage(root) if root and local else None
    low = docker_disk.low(disk, params["docker_min_free_mb"], params["docker_min_free_percent"])
    if not low:
        return {"disk": disk or {}, "reclaimable": {}, "low": False, "summary": ""}
    found = docker_disk.reclaimable(api.df())
    summary = docker_disk.describe(disk, found, params["docker_min_free_mb"], params["docker_min_free_percent"])
    return {"disk": disk, "reclaimable": found, "low": True, "summary": summary}


def assemble(results, profile):
    seen = {
        "resources": {},
        "logs": {},
        "network": {},
        "health": {},
        "database": {},
        "web": {},
        "cors": {},
        "cache": {},
    }
    for key, (ok, value) in sorted(results.items()):
        kind, _unused, name = key.partition(":")
        if kind == "logs":
            lines = value.splitlines() if ok else []
            count, errors = diagnosis.error_lines(value if ok else "")
            seen["logs"][name] = {"scanned": len(lines), "error_count": count, "errors": errors}
        elif kind == "stats" and ok:
            usage = {"cpu_percent": diagnosis.cpu_percent(value)}
            usage.update(diagnosis.memory(value))
            seen["resources"][name] = usage
        elif kind == "api":
            if not ok:
                seen["health"][name] = {"code": None, "error": value}
                continue
            seen["network"][name] = value["network"]
            path = urlsplit(profile["services"][name]["health_url"]).path
            seen["health"][name] = probes.health_summary(value, path)
        elif kind == "db":
            entry = value if ok else {"ok": False, "error": value}
            if name == "via_api":
                entry["service"] = profile["roles"].get("data_api") or profile["roles"]["apis"][0]
                if entry.get("ok") is None:  # the probe cannot run in this image: the direct probe decides
                    seen["database"]["via_api_skipped"] = entry
                    continue
            seen["database"][name] = entry
        elif kind == "cache":
            seen["cache"][name] = value if ok else {"ok": False, "error": value}
        elif kind == "web":
            seen["web"][name] = value if ok else {"ok": False, "error": value}
            seen["web_service"] = profile["roles"]["web"]
        elif kind == "cors" and ok:
            seen["cors"][name] = value
        elif kind == "docker":
            seen["docker_disk"] = value if ok else {"error": value}
    return seen


def next_step(entry):
    if not entry["command"]:
        return "{}: {}".format(entry["finding"], entry["note"])
    line = "{}  (fixes {})".format(entry["command"], entry["finding"])
    if entry.get("status") == "planned":
        line += "; not built yet, meanwhile the manual's: {}".format(entry["manual_remedy"])
    return line


def compose_lines(profile):
    """{service: {field: (file, line)}} of the compose files ({} when they cannot be read)."""
    try:
        project = compose_files.load_project(
            profile["config_files"], profile["working_dir"], profile.get("dotenv") or ""
        )
    except compose_files.ComposeFileError:
        return {}
    return dict((name, spec.get("lines") or {}) for name, spec in project["services"].items())


def line_of(lines, service, field, otherwise):
    at = (lines.get(service) or {}).get(field)
    return f"{os.path.basename(at[0])}:{at[1]}" if at and at[1] else otherwise


def silent_healthchecks(containers, health, lines):
    """{service: what healthchecks.judge says} for each container whose healthcheck cannot fail or cannot pass;
    an API's answer on its health URL (health, from the probes) says whether Docker's word misleads now."""
    found = {}
    for service, container in sorted(containers.items()):
        attrs = container.attrs or {}
        test = ((attrs.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
        where = line_of(lines, service, "healthcheck", "its image's HEALTHCHECK")
        answer = (health.get(service) or {}).get("code")
        item = healthchecks.judge(service, test, attrs.get("State") or {}, answer, where)
        if item:
            found[service] = dict(item, summary=healthchecks.describe(item))
    return found


def restarted(containers, lines, resources):
    """{service: what restarts.judge says} for each container killed for memory or in a restart loop."""
    found = {}
    for service, container in sorted(containers.items()):
        where = line_of(lines, service, "mem_limit", "") or line_of(lines, service, "deploy", "")
        item = restarts.judge(service, container.attrs or {}, where, resources.get(service))
        if item:
            if not item["oom_killed"]:
                # Why it exits, in its own words: a restart loop's cause is in the log, not in Docker's state.
                item["last_log"] = restarts.last_lines(container.logs(tail=20).decode("utf-8", "replace"))
            found[service] = dict(item, summary=restarts.describe(item))
    return found


def taken_ports(api, profile, containers, expected, lines):
    """{service: [what ports.taken says]} for each expected service that is not running and whose published host
    port another container or a process holds."""
    found = {}
    others = None
    for service in expected:
        container = containers.get(service)
        published = (profile["services"].get(service) or {}).get("published") or []
        if not published or (container is not None and container.status == "running"):
            continue
        if others is None:
            others = api.containers.list()
        where = line_of(lines, service, "ports", "its ports")
        items = ports.taken(service, container, published, others, where)
        if items:
            found[service] = items
    return found


def env_file_state(profile, project_dir, containers):
    """{file, problems, variables} when the env file Compose reads lacks what the containers were made with."""
    found = env_file.plan(
        dict(
            profile,
            default_name=discovery.normalize_project_name(os.path.basename(os.path.normpath(profile["working_dir"]))),
            project_dir=project_dir,
        ),
        list(containers.values()),
        [],
    )
    problems = env_file.problems(found)
    if not problems:
        return {}
    variables = [e["var"] for e in found["unset"] if e["required"] or e["source"] == "containers"]
    return {"file": found["env_file"], "problems": problems, "variables": variables}


def main():
    argument_spec = dict(
        cors_origins=dict(type="list", elements="str", default=["http://localhost:3000"]),
        log_lines=dict(type="int", default=100),
        cpu_threshold=dict(type="float", default=90.0),
        memory_threshold=dict(type="float", default=90.0),
        timeout=dict(type="int", default=30),
        fixes=dict(type="list", elements="dict", default=[]),
        docker_min_free_mb=dict(type="int", default=docker_disk.MIN_FREE_MB),
        docker_min_free_percent=dict(type="float", default=docker_disk.MIN_FREE_PERCENT),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    started = time.time()
    api, project = compose.open_project(module)
    profile = project["profile"]
    database = compose.role_service(module, profile, "database")
    compose.role_apis(module, profile)
    containers = compose.project_containers(api, profile["project"])
    expected = project["declared_services"]
    root = root_access.for_service(api, profile, database, containers.get(database), params["db_root_password_file"])
    cache = profile["roles"].get("cache")
    _origin, cache_password = (
        credentials.cache_password(api, profile, cache, containers.get(cache)) if cache else (None, None)
    )
    seen = assemble(gather(api, profile, containers, params, expected, root, cache_password), profile)
    drifted, _why = drift.find(profile, containers, drift.project_cli(project["compose_flavor"]))
    seen["drift"] = dict((item["service"], item) for item in drifted)
    seen["env_file"] = env_file_state(profile, params["project_dir"], containers)
    lines = compose_lines(profile)
    seen["healthchecks"] = silent_healthchecks(containers, seen["health"], lines)
    seen["ports"] = taken_ports(api, profile, containers, expected, lines)
    seen["restarts"] = restarted(containers, lines, seen["resources"])
    external = profile.get("external_networks") or {}
    seen["networks"] = networks.by_network(external, containers, networks.engine_networks(api, external))
    roles = dict((s, e["role"]) for s, e in profile["services"].items())
    findings, plan = diagnosis.analyse(
        expected, project["services"], seen, params["cpu_threshold"], params["memory_threshold"], roles, params["fixes"]
    )
    roots = [f for f in findings if f["severity"] != "info" and "caused_by" not in f]
    broken = sorted(set(f["service"] for f in roots))
    details = dict(seen)
    details.update(
        project=profile["project"],
        project_dir=params["project_dir"],
        compose_flavor=project["compose_flavor"],
        engine_version=project["engine_version"],
        generated_at=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        stamp=time.strftime("%Y%m%d-%H%M%S", time.localtime(started)),
        seconds=round(time.time() - started, 2),
        services=project["services"],
        expected_services=expected,
        roles=profile["roles"],
        unmapped=profile["unmapped"],
        findings=findings,
        triage=plan,
        broken=broken,
        healthy=not roots,
    )
    # A healthcheck that says nothing is no outage (the stack stays healthy), but it is for the user to change; so is
    # a memory limit a service was killed under, or what makes it exit again and again.
    left = [next_step(p) for p in plan] + [f["summary"] for f in findings if f["code"] in diagnosis.USER_TO_CHANGE]
    # A fix at work on the project (it holds the lock) may be why a service is down right now: say so first.
    holder = project_lock.holder(project_lock.state_dir(params["project_dir"]))
    details["lock"] = {k: holder.get(k) for k in ("fix", "pid", "since")} if holder else {}
    running = [f"a fix is at work on this project: {project_lock.describe(holder)}"] if holder else []
    report = {
        "fix": "diagnose",
        "found": running + [f["summary"] for f in roots],
        "done": [],
        "left": left,
        "details": details,
    }
    redactor = credentials.redactor(profile, containers, root, cache_password)
    report = redactor.redact_obj(report)
    text = redactor.redact(diagnosis.render_text(report["details"], params["log_lines"]))
    module.exit_json(ansible_facts=compose.profile_facts(module), changed=False, ods_report=report, report_text=text)


if __name__ == "__main__":
    main()
