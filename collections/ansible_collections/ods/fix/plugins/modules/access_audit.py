#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: access_audit
short_description: Audit the stack's access logs over a time window (数据泄露 审计访问日志)
version_added: 0.2.0
description:
  - Reads the access lines (the combined log format) that nginx and the APIs write to their container logs, in a
    time window, and sums them up as a responder needs after a leak. It reports the top client IPs (requests,
    errors, bytes), suspicious requests (path traversal, secret or VCS files, SQL or script injection, scanner
    paths), 404 probes, the methods used and the unusual ones, minutes with bursts of 4xx/5xx answers, and
    unusually large responses (over a size, or many times the usual size of the same path).
  - Read-only. Secret values (from the env file and the containers' environment) are redacted from what it returns.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.read_only
  - ods.fix.project
options:
  services:
    description: The services whose logs hold access lines; empty means the web front end and the APIs.
    type: list
    elements: str
    default: []
  window_hours:
    description: How far back to look, in hours.
    type: int
    default: 24
  burst_per_minute:
    description: A minute with at least this many 4xx/5xx answers is a burst.
    type: int
    default: 20
  large_bytes:
    description: A response at least this big is listed.
    type: int
    default: 1048576
"""

EXAMPLES = r"""
- name: Audit the last day of access logs | 审计访问日志
  ods.fix.access_audit:
    project_dir: /home/dev/one-data-studio
    window_hours: 24
  register: audit
"""

RETURN = r"""
summary:
  description: C(requests), C(clients), C(top_ips), C(methods), C(unusual_methods), C(suspicious), C(not_found),
    C(error_bursts), C(large_responses), C(by_source), C(first), C(last).
  returned: always
  type: dict
highlights:
  description: The summary's first lines, for the report.
  returned: always
  type: list
  elements: str
markdown:
  description: The audit as a Markdown document (for the evidence bundle).
  returned: always
  type: str
window:
  description: The window audited, C(since) and C(until) (UTC, ISO 8601).
  returned: always
  type: dict
"""

import datetime
import time

from ansible_collections.ods.fix.plugins.module_utils.security import access_log
from ansible_collections.ods.fix.plugins.module_utils.security.redact import evidence_redactor
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, settings


def main():
    argument_spec = dict(
        services=dict(type="list", elements="str", default=[]),
        window_hours=dict(type="int", default=24),
        burst_per_minute=dict(type="int", default=20),
        large_bytes=dict(type="int", default=1 << 20),
    )
    module = compose.stack_module(argument_spec)
    compose.require_docker(module)
    params = module.params
    if params["window_hours"] <= 0:
        module.fail_json(
            msg="the window must be at least one hour (got %d)" % params["window_hours"], ods_failure="input"
        )
    api, project = compose.open_project(module, require_running=False)
    profile = project["profile"]
    compose.check_services(module, profile, params["services"])
    containers = compose.project_containers(api, profile["project"])
    names = params["services"] or [s for s in [profile["roles"].get("web")] + profile["roles"]["apis"] if s]
    until = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    since = until - datetime.timedelta(hours=params["window_hours"])
    requests, read = [], []
    for service in names:
        container = containers.get(service)
        if container is None:
            continue
        text = container.logs(stdout=True, stderr=True, since=int(time.time()) - params["window_hours"] * 3600)
        for line in text.decode("utf-8", "replace").splitlines():
            request = access_log.parse(line, service)
            if request is not None:
                requests.append(request)
        read.append(service)
    summary = access_log.audit(
        requests,
        since=since,
        until=until,
        burst_per_minute=params["burst_per_minute"],
        large_bytes=params["large_bytes"],
    )
    window = {"since": since.isoformat(), "until": until.isoformat(), "hours": params["window_hours"], "services": read}
    redactor = evidence_redactor(
        settings.all_values(profile),
        [compose.container_env(c) for c in containers.values()],
        hosts=set(containers) | set(c.name for c in containers.values()),
        commands=[line for c in containers.values() for line in compose.container_commands(c)],
    )
    result = {
        "summary": summary,
        "highlights": access_log.highlights(summary),
        "markdown": access_log.render_markdown(
            summary,
            "%s to %s (%d h), from %s"
            % (window["since"], window["until"], params["window_hours"], ", ".join(read) or "no service"),
        ),
        "window": window,
    }
    module.exit_json(ansible_facts=compose.profile_facts(module), changed=False, **redactor.redact_obj(result))


if __name__ == "__main__":
    main()
