# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Turn what diagnose saw into findings and a triage (pure functions, unit-tested).

A finding is ``{code, service, role, severity, summary}``: the service by its
own name, and the role it plays (the database, an API, ...), which is what the
catalog's symptoms and dependencies name. Root causes are findings on a service
itself (stopped, unhealthy, ...); findings that follow from a root cause on a
service it depends on (the APIs answering 500 while the database is stopped)
are kept, marked ``caused_by``, and left out of the triage.

The triage maps root findings to fixes by the catalog's symptom map, which
the stack_diagnose action hands to the module from the controller. The
standard library only: the CLI loads this file to match findings the same way.
"""

import fnmatch
import re

# What each role needs in order to work: a root cause (the database stopped) is told from its consequences
# (the APIs answering 500) by it.
DEPENDS_ON = {
    "api": ["database", "cache", "vector_store"],
    "vector_store": ["vector_meta", "vector_object"],
    "web": ["api"],
}

DOWN_CODES = ("missing", "stopped", "restarting", "unhealthy")
# Findings only the user can act on (a line of their files, a limit to raise): in `left`, and doctor's "for you".
USER_TO_CHANGE = ("healthcheck", "memory_killed", "restart_loop")
DISK_REMEDY = "docker builder prune && docker image prune take back the build cache and dangling images; never volumes"
CONSEQUENCE_CODES = ("unreachable", "api_error", "db_unreachable", "unhealthy", "restarting", "error_logs")
ERROR_WORD = re.compile(r"error", re.IGNORECASE)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CONFIG_MISSING = re.compile(r"required setting (\w+) is missing from (\S+)")
TABLE_FULL = re.compile(r"ERROR 1114|The table '?[^']*'? is full", re.IGNORECASE)
ACCESS_DENIED = re.compile(r"Access denied for user '([^']*)'@'([^']*)'")


def finding(code, service, summary, severity="error", **evidence):
    item = {"code": code, "service": service, "severity": severity, "summary": summary}
    if evidence:
        item["evidence"] = evidence
    return item


def with_roles(findings, roles):
    """Each finding with the role its service plays ({service: role}; unmapped: other)."""
    for item in findings:
        item["role"] = roles.get(item["service"], "other")
    return findings


def cpu_percent(stats):
    """docker stats' CPU %: the container's share of the host over the sampling interval."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return round(cpu_delta / float(system_delta) * online * 100.0, 1)


def memory(stats):
    """docker stats' MEM USAGE (minus page cache, as the CLI does) and %."""
    mem = stats.get("memory_stats") or {}
    usage = mem.get("usage", 0)
    detail = mem.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", detail.get("cache", 0)))
    used = max(usage - cache, 0)
    limit = mem.get("limit") or 0
    found = {
        "mem_mb": round(used / 1048576.0, 1),
        "mem_limit_mb": round(limit / 1048576.0, 1),
        "mem_percent": round(used * 100.0 / limit, 1) if limit else 0.0,
    }
    if mem.get("max_usage"):  # cgroup v1 only: v2 engines keep no peak
        found["peak_mb"] = round(mem["max_usage"] / 1048576.0, 1)
    return found


def error_lines(text, keep=20):
    """The manual's `grep -i error` over a log tail: (count, last `keep` matching lines)."""
    matches = [ANSI_ESCAPE.sub("", line).rstrip() for line in text.splitlines() if ERROR_WORD.search(line)]
    return len(matches), matches[-keep:]


def _depends_on(role, other, seen=None):
    seen = seen or set()
    for dep in DEPENDS_ON.get(role, []):
        if dep == other:
            return True
        if dep not in seen:
            seen.add(dep)
            if _depends_on(dep, other, seen):
                return True
    return False


def service_findings(expected, services):
    found = []
    for name in expected:
        info = services.get(name)
        if info is None:
            found.append(finding("missing", name, f"{name} has no container (never started or removed)"))
            continue
        status = info.get("status")
        if status in ("exited", "dead", "created"):
            detail = "exit code {}".format(info.get("exit_code"))
            if info.get("oom_killed"):
                detail += ", killed for lack of memory (OOM)"
            found.append(finding("stopped", name, f"{name} is not running ({status}, {detail})"))
        elif status == "restarting":
            found.append(
                finding("restarting", name, "{} keeps restarting ({} restarts)".format(name, info.get("restart_count")))
            )
        elif status == "paused":
            found.append(finding("stopped", name, f"{name} is paused"))
        elif info.get("health") == "unhealthy":
            found.append(finding("unhealthy", name, f"{name} is running but its health check fails"))
    return found


def project_file_findings(probes):
    """Findings on the project's files: its env file short of what the containers were made with, and containers
    still running with settings from before the files were edited."""
    found = []
    for service, items in sorted((probes.get("ports") or {}).items()):
        for item in items:
            found.append(
                finding(
                    "port_taken",
                    service,
                    item["summary"],
                    port=item["port"],
                    host_ip=item["host_ip"],
                    where=item["where"],
                    holder=item["holder"],
                )
            )
    for service, item in sorted((probes.get("healthchecks") or {}).items()):
        # Info: Docker's word is wrong, not the service; nothing to fix but a line of the compose file.
        found.append(
            finding(
                "healthcheck",
                service,
                item["summary"],
                severity="info",
                kind=item["kind"],
                where=item["where"],
                docker=item["docker"],
                answer=item["answer"],
                misleads=item["misleads"],
            )
        )
    for service, item in sorted((probes.get("restarts") or {}).items()):
        # Beside its `stopped` or `restarting` finding, whose fix starts it again: this one says what would keep it
        # running (a limit to raise, and where), which no fix does for the user.
        found.append(
            finding(
                "memory_killed" if item["oom_killed"] else "restart_loop",
                service,
                item["summary"],
                severity="info",
                restarts=item["restarts"],
                exit_code=item["exit_code"],
                policy=item["policy"],
                limit_mb=item["limit_mb"],
                where=item["where"],
                last_log=item.get("last_log") or [],
            )
        )
    for name, item in sorted((probes.get("networks") or {}).items()):
        found.append(
            finding(
                "external_network",
                name,
                item["summary"],
                declared_in=item["declared_in"],
                services=item["services"],
            )
        )
    disk = probes.get("docker_disk") or {}
    if disk.get("low"):
        # No fix prunes for the user (build cache can take an hour to make again): the remedy is said, to run.
        found.append(finding("docker_disk", "docker", disk["summary"], severity="warning", remedy=DISK_REMEDY))
    env_file = probes.get("env_file") or {}
    if env_file.get("problems"):
        found.append(
            finding(
                "env_file",
                ".env",
                "; ".join(env_file["problems"]),
                severity="warning",
                file=env_file["file"],
                variables=env_file["variables"],
            )
        )
    for service, item in sorted((probes.get("drift") or {}).items()):
        found.append(
            finding(
                "config_drift",
                service,
                item["summary"],
                severity="warning",
                container=item["container"],
                settings=item["settings"],
            )
        )
    return found


def probe_findings(probes, cpu_threshold, memory_threshold, database="database"):
    """Findings from the probes' results; `database` is the database's service (named in what it says)."""
    found = []
    found.extend(project_file_findings(probes))
    for api, targets in sorted((probes.get("network") or {}).items()):
        for target, result in sorted(targets.items()):
            if not result.get("ok"):
                found.append(
                    finding(
                        "unreachable",
                        target,
                        "{} cannot reach {}: {}".format(api, target, result.get("error")),
                        severity="warning",
                        source=api,
                    )
                )
    for api, result in sorted((probes.get("health") or {}).items()):
        code = result.get("code")
        if code is not None and code >= 500:
            failing = [name for name, check in sorted((result.get("checks") or {}).items()) if not check.get("ok")]
            found.append(
                finding(
                    "api_error",
                    api,
                    "{} {} answers {} (failing: {})".format(
                        api, result.get("path") or "its health URL", code, ", ".join(failing) or "unknown"
                    ),
                    severity="warning",
                )
            )
    via_api = (probes.get("database") or {}).get("via_api")
    if via_api and not via_api.get("ok"):
        error = via_api.get("error", "")
        denied = ACCESS_DENIED.search(error)
        if denied:
            found.append(
                finding(
                    "db_auth",
                    database,
                    "MySQL refuses {}'s credentials: Access denied for '{}'@'{}' "
                    "(the password in its settings differs from the server's)".format(
                        via_api.get("service"), denied.group(1), denied.group(2)
                    ),
                )
            )
        else:
            found.append(
                finding(
                    "db_unreachable",
                    via_api.get("service", "the data API"),
                    "the SELECT 1 through the app's engine ({}) fails: {}".format(
                        via_api.get("probe") or "the manual's", error
                    ),
                    severity="warning",
                )
            )
    direct = (probes.get("database") or {}).get("direct")
    if direct and not direct.get("ok"):
        found.append(
            finding(
                "unhealthy",
                database,
                "{} is running but does not answer SELECT 1: {}".format(database, direct.get("error")),
            )
        )
    for service, result in sorted((probes.get("cache") or {}).items()):
        if not result.get("ok"):
            found.append(
                finding("unhealthy", service, "{} does not answer PING: {}".format(service, result.get("error")))
            )
    web = probes.get("web") or {}
    service = probes.get("web_service") or "web"
    if web.get("config") and not web["config"].get("ok") and not web["config"].get("upstream_down"):
        found.append(finding("nginx_config", service, "nginx -t fails: {}".format(web["config"].get("output", ""))))
    if web.get("dist") and not web["dist"].get("ok"):
        found.append(
            finding(
                "dist_missing",
                service,
                "{} has no index.html ({})".format(
                    web["dist"].get("root") or "the document root", web["dist"].get("error", "empty")
                ),
            )
        )
    proxy = web.get("proxy") or {}
    if proxy.get("stale"):
        found.append(
            finding(
                "unhealthy",
                service,
                "{} answers {} on {} while {} answers it directly: nginx kept the address {} had when nginx "
                "started".format(
                    service, web["proxy"]["code"], web["proxy"]["path"], web["proxy"]["stale"], web["proxy"]["stale"]
                ),
            )
        )
    if web.get("http") and not web["http"].get("ok"):
        found.append(
            finding("unhealthy", service, "{} does not serve its index: {}".format(service, web["http"].get("error")))
        )
    for service, answers in sorted((probes.get("cors") or {}).items()):
        for origin, answer in sorted(answers.items()):
            code = answer.get("code")
            if code is not None and (code >= 300 or answer.get("allow_origin") not in (origin, "*")):
                found.append(
                    finding(
                        "cors",
                        service,
                        f"the CORS preflight from {origin} is refused ({code}, no Access-Control-Allow-Origin)",
                        severity="warning",
                    )
                )
    for service, res in sorted((probes.get("resources") or {}).items()):
        if res.get("cpu_percent", 0) >= cpu_threshold:
            found.append(
                finding("high_cpu", service, "{} uses {}% CPU".format(service, res["cpu_percent"]), severity="warning")
            )
        if res.get("mem_percent", 0) >= memory_threshold:
            found.append(
                finding(
                    "high_memory",
                    service,
                    "{} uses {}% of its memory limit ({} MB)".format(service, res["mem_percent"], res.get("mem_mb")),
                    severity="warning",
                )
            )
    for service, log in sorted((probes.get("logs") or {}).items()):
        lines = log.get("errors") or []
        for line in lines:
            missing = CONFIG_MISSING.search(line)
            if missing:
                found.append(
                    finding(
                        "config_missing",
                        service,
                        f"{service}: required setting {missing.group(1)} is missing from {missing.group(2)}",
                    )
                )
                break
        if any(TABLE_FULL.search(line) for line in lines):
            found.append(
                finding("disk_full", database, f"{service} logs ERROR 1114 (The table is full): the disk is full")
            )
        if log.get("error_count"):
            found.append(
                finding(
                    "error_logs",
                    service,
                    "%s: %d error lines in the last %d" % (service, log["error_count"], log.get("scanned", 0)),
                    severity="info",
                )
            )
    return found


def link_causes(findings):
    """Mark findings that follow from a root cause: a dependency down, or the very service unreachable.

    Only symptoms of a missing dependency can be consequences; a deleted dist
    or a missing setting is a problem of its own whatever else is down.
    """
    roots = [f for f in findings if f["code"] in DOWN_CODES]
    for item in findings:
        if item["code"] not in CONSEQUENCE_CODES:
            continue
        for root in roots:
            if root is item or "caused_by" in item:
                continue
            if item["code"] == "unreachable":
                linked = item["service"] == root["service"]
            else:
                linked = _depends_on(item.get("role", "other"), root.get("role", "other"))
            if linked:
                item["caused_by"] = "{}:{}".format(root["code"], root["service"])
    return findings


def _dedupe(findings):
    seen, unique = set(), []
    for item in findings:
        key = (item["code"], item["service"], item.get("evidence", {}).get("source"))
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def fix_for(fixes, code, role):
    """The entry of the symptom map that fixes a finding ``code`` on a service playing ``role`` (first match)."""
    key = f"{code}:{role}"
    for fix in fixes:
        for pattern in fix["symptoms"]:
            if fnmatch.fnmatchcase(key, pattern):
                return fix
    return None


def triage(findings, fixes):
    """Root findings mapped to their fix by the catalog's symptom map: what to run next."""
    plan = []
    # A service that exits again on its own (a restart loop, a memory limit): its finding for the user says why.
    user_to_change = set(f["service"] for f in findings if f["code"] in USER_TO_CHANGE)
    for item in findings:
        if item["severity"] == "info" or "caused_by" in item:
            continue
        fix = fix_for(fixes, item["code"], item.get("role", "other"))
        entry = {"finding": "{}:{}".format(item["code"], item["service"]), "summary": item["summary"]}
        if fix is None:
            why = (item.get("evidence") or {}).get("remedy")
            if not why and item["service"] in user_to_change:
                why = "what keeps it down is for you to change (below)"
            entry.update(fix=None, command=None, note="no automated fix: " + (why or "see the manual"))
        else:
            entry.update(
                fix=fix["name"],
                command="ods-fix {}".format(fix["name"]),
                status=fix["status"],
                section=fix["section"],
                manual_remedy=fix["manual_remedy"],
            )
        plan.append(entry)
    return plan


def analyse(expected, services, probes, cpu_threshold=90.0, memory_threshold=90.0, roles=None, fixes=()):
    """(findings, triage); roles maps each service to its role ({service: role})."""
    roles = roles or {}
    database = next((s for s, r in sorted(roles.items()) if r == "database"), "database")
    findings = service_findings(expected, services) + probe_findings(probes, cpu_threshold, memory_threshold, database)
    findings = link_causes(with_roles(_dedupe(findings), roles))
    # A service that cannot start because another holds its port, or because its external network is missing:
    # starting it again (its fix) changes nothing.
    blocked = dict((f["service"], "port_taken:" + f["service"]) for f in findings if f["code"] == "port_taken")
    for network in (f for f in findings if f["code"] == "external_network"):
        for service in network["evidence"]["services"]:
            blocked.setdefault(service, "external_network:" + network["service"])
    for item in findings:
        if item["service"] in blocked and item["code"] in ("stopped", "missing") and "caused_by" not in item:
            item["caused_by"] = blocked[item["service"]]
    return findings, triage(findings, fixes)


def render_text(details, log_lines):
    """The human report (diagnosis-YYYYMMDD-HHMMSS.log), in the manual's five parts."""
    d = details
    out = [
        "ONE-DATA-STUDIO diagnosis report (诊断报告)",
        "project: {} ({})".format(d["project"], d["project_dir"]),
        "generated: {}    compose: {}    engine: {}".format(
            d["generated_at"], d["compose_flavor"], d["engine_version"]
        ),
        "",
        "== 服务状态 (service status) ==",
    ]
    if d.get("lock"):
        out[3:3] = [
            "at work: {fix} (pid {pid}) holds this project's lock: what it stopped is down on purpose".format(
                **d["lock"]
            ),
            "",
        ]
    for name in d["expected_services"]:
        s = d["services"].get(name) or {"status": "absent"}
        health = s.get("health") if s["status"] == "running" else ""
        line = "%-20s %-10s %s" % (name, s["status"], health or "")
        if s["status"] not in ("running", "absent"):
            line += " (exit {})".format(s.get("exit_code"))
        out.append(line.rstrip())
    out += ["", "== 资源使用 (resource use) =="]
    for name, r in sorted(d["resources"].items()):
        out.append(
            "%-20s CPU %6.1f%%   MEM %8.1f MB / %.0f MB (%s%%)"
            % (name, r["cpu_percent"], r["mem_mb"], r["mem_limit_mb"], r["mem_percent"])
        )
    out += ["", "== 最近错误日志 (recent error logs, last %d lines each) ==" % log_lines]
    for name, log in sorted(d["logs"].items()):
        if log["error_count"]:
            out.append("-- %s: %d error lines" % (name, log["error_count"]))
            out += ["   " + line for line in log["errors"]]
    out += ["", "== 网络连接状态 (network reachability) =="]
    for api, targets in sorted(d["network"].items()):
        for target, r in sorted(targets.items()):
            out.append(
                "{} -> {}: {}".format(
                    api, target, "ok ({} ms)".format(r["ms"]) if r["ok"] else "FAILED: {}".format(r["error"])
                )
            )
    for api, h in sorted(d["health"].items()):
        answer = h["code"] if h.get("code") is not None else h.get("error")
        out.append(
            "{} {}: {}{}".format(
                api, h.get("path") or "health", answer, " ({})".format(h["status"]) if h.get("status") else ""
            )
        )
    for service, r in sorted((d.get("cache") or {}).items()):
        out.append("{} PING: {}".format(service, "PONG" if r["ok"] else "FAILED: {}".format(r.get("error"))))
    out += ["", "== 数据库连接状态 (database connectivity) =="]
    for name, r in sorted(d["database"].items()):
        out.append("{}: {}".format(name, "ok" if r["ok"] else "FAILED: {}".format(r.get("error"))))
    if d["web"]:
        out += ["", "== 前端 (web) =="]
        for name, r in sorted(d["web"].items()):
            out.append("{}: {}".format(name, "ok" if r["ok"] else "FAILED: %s" % (r.get("error") or r.get("output"))))
    out += ["", "== 诊断结论 (triage) =="]
    if d["healthy"]:
        out.append("No problem found.")
    for t in d["triage"]:
        out.append("* {}".format(t["summary"]))
        if t["command"]:
            planned = (
                " (not built yet; meanwhile: {})".format(t["manual_remedy"]) if t.get("status") == "planned" else ""
            )
            out.append("  fix: {}{}".format(t["command"], planned))
        else:
            out.append("  fix: {}".format(t["note"]))
    consequences = [f for f in d["findings"] if "caused_by" in f]
    if consequences:
        out.append("Consequences of the above:")
        out += ["  - {} (caused by {})".format(f["summary"], f["caused_by"]) for f in consequences]
    return "\n".join(out) + "\n"
