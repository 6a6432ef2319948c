# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""A container killed for lack of memory, or restarted again and again by its restart policy: how often, its memory
limit, what it uses now (and its peak, where the engine keeps one), and the compose file's line that sets the limit.
A restart brings such a service back; only a limit raised where it is set (or a host with more free memory) keeps it.

Stdlib only: the container's inspect data and the compose file's lines come in, a finding's words go out.
"""

# Restarts by its policy since the container was created: past this, it is a loop, not a hiccup.
LOOP = 3
# What a looping container's log says last: why it exits, in its own words (the report is redacted as a whole).
LOG_LINES = 3
LOG_WIDTH = 200


def mib(value):
    return round((value or 0) / 1048576.0, 1)


def last_lines(text, keep=LOG_LINES):
    """The last `keep` lines of a log that say something, each cut to LOG_WIDTH characters."""
    said = [line.strip() for line in text.splitlines() if line.strip()]
    return [line if len(line) <= LOG_WIDTH else line[: LOG_WIDTH - 3] + "..." for line in said[-keep:]]


def judge(service, attrs, where, usage=None):
    """{service, oom_killed, restarts, ...} for a container killed for memory or in a restart loop, else None.

    where: the compose file's line that sets its memory limit ("" when none does); usage: diagnose's resources
    entry for it while it runs ({mem_mb, peak_mb?}).
    """
    state = attrs.get("State") or {}
    host = attrs.get("HostConfig") or {}
    restarts = attrs.get("RestartCount") or 0
    oom = bool(state.get("OOMKilled"))
    if not oom and restarts < LOOP:
        return None
    usage = usage or {}
    return {
        "service": service,
        "oom_killed": oom,
        "restarts": restarts,
        "status": state.get("Status", ""),
        "exit_code": state.get("ExitCode"),
        "policy": (host.get("RestartPolicy") or {}).get("Name") or "no",
        "limit_mb": mib(host.get("Memory")),
        "where": where,
        "now_mb": usage.get("mem_mb") if state.get("Status") == "running" else None,
        "peak_mb": usage.get("peak_mb"),
        "last_log": [],
    }


def describe(item):
    """One line: what happened, how often, the limit and where it is set, and what would keep it from recurring."""
    service = item["service"]
    if item["oom_killed"]:
        what = f"{service} was killed for lack of memory (OOM"
        what += f", exit code {item['exit_code']})" if item["status"] != "running" else "; it runs again)"
    else:
        what = f"{service} keeps exiting (last exit code {item['exit_code']})"
    if item["restarts"]:
        what += f", restarted {item['restarts']} times by its restart policy ({item['policy']})"
    used = []
    if item.get("now_mb") is not None:
        used.append(f"{item['now_mb']} MiB now")
    if item.get("peak_mb"):
        used.append(f"{item['peak_mb']} MiB at its peak")
    used = f" ({', '.join(used)})" if used else ""
    if item["limit_mb"]:
        where = f"set at {item['where']}" if item["where"] else "set outside the compose files (by docker update)"
        limit = f"its memory limit is {item['limit_mb']} MiB{used}, {where}"
        if item["oom_killed"]:
            return f"{what}: {limit}; raise it there (a restart alone lasts until it fills up again)"
        said = item.get("last_log") or []
        why = "its log's last lines: " + " | ".join(said) if said else "its log says why it exits"
        return f"{what}: {limit}; {why}"
    if item["oom_killed"]:
        return (
            f"{what}: it has no memory limit of its own{used}, so the host ran out of memory; free memory on the "
            "host, or give it a limit (mem_limit) so that only it is killed"
        )
    said = item.get("last_log") or []
    why = "its log's last lines: " + " | ".join(said) if said else "its log says why it exits"
    return f"{what}{used}: {why}; restarting it again is no fix by itself"
