#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: stack_diagnose
short_description: Diagnose a ONE-DATA-STUDIO compose stack, as the manual's diagnose.sh does
version_added: 0.1.0
description:
  - Collects the five parts of the manual's diagnosis report (诊断流程) in one pass, probing in parallel,
    service status (C(docker-compose ps)), resource use (C(docker stats --no-stream)), recent error logs
    (C(docker-compose logs --tail=100 | grep -i error)), network reachability from the APIs to
    mysql, redis and milvus, and DB connectivity (the manual's C(SELECT 1) through alldata-api's
    C(database.engine), and directly in the mysql container).
  - Turns what it saw into findings, links consequences to their root cause, and maps each root
    cause to the ods-fix command that fixes it (from the fix catalog).
  - Read-only. Secret values from the env file and the containers' environment are redacted from
    everything it returns.
  - Written for ods-fix rather than composed from community.docker modules because the diagnosis
    must take about as long as the manual's commands; one module probing all containers in
    parallel does, one task per probe would not.
extends_documentation_fragment:
  - ods.fix.project
options:
  env_file:
    description: The application settings file (the manual's C(deploy/.env)); its secret values are redacted.
    type: path
    default: ""
  services:
    description: Services the stack should run. Empty means those in the compose file, else those with containers.
    type: list
    elements: str
    default: []
  api_services:
    description: The API services, probed for health and reachability.
    type: list
    elements: str
    default: [alldata-api, bisheng-api]
  api_health_url:
    description: The health URL as seen from inside an API container.
    type: str
    default: http://127.0.0.1:8080/api/v1/health
  db_check_service:
    description: The service in which the manual's C(from database import engine) check runs.
    type: str
    default: alldata-api
  db_service:
    description: The MySQL service.
    type: str
    default: mysql
  web_service:
    description: The nginx front-end service.
    type: str
    default: web
  cors_origins:
    description: Origins whose CORS preflight is sent to the first running API (the manual's curl -X OPTIONS).
    type: list
    elements: str
    default: ["http://localhost:3000"]
  probe_targets:
    description: What the APIs must reach, service name to port; services not in O(services) are left out.
    type: dict
    default: {mysql: 3306, redis: 6379, milvus-standalone: 19530}
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
  timeout:
    description: Seconds to wait for all probes.
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    details: The module never changes anything; it runs the same in check mode.
  idempotent:
    support: full
author:
  - ods-fix contributors
"""

EXAMPLES = r"""
- name: Diagnose the stack | 诊断流程
  ods.fix.stack_diagnose:
    project_dir: /home/dev/one-data-studio
    env_file: /home/dev/one-data-studio/deploy/.env
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
        C(findings), C(triage), C(broken) (services with a root-cause finding) and C(healthy).
      type: dict
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ods.fix.plugins.module_utils import compose, diagnosis, dotenv, probes
from ansible_collections.ods.fix.plugins.module_utils.redact import Redactor


def gather(api, containers, params, expected):
    tasks = {}
    targets = dict((name, port) for name, port in params["probe_targets"].items() if name in expected)
    running = dict((s, c) for s, c in containers.items() if c.status == "running")
    for service, container in containers.items():
        tasks["logs:" + service] = lambda c=container: c.logs(tail=params["log_lines"]).decode("utf-8", "replace")
    for service, container in running.items():
        tasks["stats:" + service] = lambda c=container: c.stats(stream=False)
    for service in params["api_services"]:
        if service in running:
            tasks["api:" + service] = lambda c=running[service]: probes.probe_api(c, targets, params["api_health_url"])
    if params["db_check_service"] in running:
        tasks["db:via_api"] = lambda c=running[params["db_check_service"]]: probes.probe_manual_db_check(c)
    if params["db_service"] in running:
        tasks["db:direct"] = lambda c=running[params["db_service"]]: probes.probe_mysql(c)
    cors_api = next((s for s in params["api_services"] if s in running), None)
    if cors_api and params["cors_origins"]:
        tasks["cors:" + cors_api] = lambda c=running[cors_api]: probes.probe_preflight(
            c, params["api_health_url"], params["cors_origins"]
        )
    if params["web_service"] in running:
        web = running[params["web_service"]]
        tasks["web:config"] = lambda c=web: probes.probe_nginx(c)
        tasks["web:dist"] = lambda c=web: probes.probe_dist(c)
    return compose.run_parallel(tasks, params["timeout"])


def assemble(results, params):
    seen = {"resources": {}, "logs": {}, "network": {}, "health": {}, "database": {}, "web": {}, "cors": {}}
    for key, (ok, value) in sorted(results.items()):
        kind, _, name = key.partition(":")
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
            seen["health"][name] = probes.health_summary(value)
        elif kind == "db":
            entry = value if ok else {"ok": False, "error": value}
            if name == "via_api":
                entry["service"] = params["db_check_service"]
            seen["database"][name] = entry
        elif kind == "web":
            seen["web"][name] = value if ok else {"ok": False, "error": value}
        elif kind == "cors" and ok:
            seen["cors"][name] = value
    return seen


def next_step(entry):
    if not entry["command"]:
        return "%s: %s" % (entry["finding"], entry["note"])
    line = "%s  (fixes %s)" % (entry["command"], entry["finding"])
    if entry.get("status") == "planned":
        line += "; not built yet, meanwhile the manual's: %s" % entry["manual_remedy"]
    return line


def build_redactor(params, containers):
    redactor = Redactor()
    for path in (params["env_file"], os.path.join(params["project_dir"], ".env")):
        if path:
            redactor.add_env(dotenv.read(path))
    for container in containers.values():
        env = (container.attrs.get("Config") or {}).get("Env") or []
        redactor.add_env(dict(item.split("=", 1) for item in env if "=" in item))
    return redactor


def main():
    argument_spec = dict(
        env_file=dict(type="path", default=""),
        services=dict(type="list", elements="str", default=[]),
        api_services=dict(type="list", elements="str", default=["alldata-api", "bisheng-api"]),
        api_health_url=dict(type="str", default="http://127.0.0.1:8080/api/v1/health"),
        db_check_service=dict(type="str", default="alldata-api"),
        db_service=dict(type="str", default="mysql"),
        web_service=dict(type="str", default="web"),
        cors_origins=dict(type="list", elements="str", default=["http://localhost:3000"]),
        probe_targets=dict(type="dict", default={"mysql": 3306, "redis": 6379, "milvus-standalone": 19530}),
        log_lines=dict(type="int", default=100),
        cpu_threshold=dict(type="float", default=90.0),
        memory_threshold=dict(type="float", default=90.0),
        timeout=dict(type="int", default=30),
    )
    argument_spec.update(compose.PROJECT_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    compose.require_docker(module)
    started = time.time()
    api, project = compose.open_project(module)
    containers = compose.project_containers(api, project["project_name"])
    expected = params["services"] or project["declared_services"] or sorted(containers)
    seen = assemble(gather(api, containers, params, expected), params)
    findings, plan = diagnosis.analyse(
        expected, project["services"], seen, params["cpu_threshold"], params["memory_threshold"]
    )
    roots = [f for f in findings if f["severity"] != "info" and "caused_by" not in f]
    broken = sorted(set(f["service"] for f in roots))
    details = dict(seen)
    details.update(
        project=project["project_name"],
        project_dir=params["project_dir"],
        compose_flavor=project["compose_flavor"],
        engine_version=project["engine_version"],
        generated_at=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        stamp=time.strftime("%Y%m%d-%H%M%S", time.localtime(started)),
        seconds=round(time.time() - started, 2),
        services=project["services"],
        expected_services=expected,
        findings=findings,
        triage=plan,
        broken=broken,
        healthy=not roots,
    )
    report = {
        "fix": "diagnose",
        "found": [f["summary"] for f in roots],
        "done": [],
        "left": [next_step(p) for p in plan],
        "details": details,
    }
    redactor = build_redactor(params, containers)
    report = redactor.redact_obj(report)
    text = redactor.redact(diagnosis.render_text(report["details"], params["log_lines"]))
    module.exit_json(changed=False, ods_report=report, report_text=text)


if __name__ == "__main__":
    main()
