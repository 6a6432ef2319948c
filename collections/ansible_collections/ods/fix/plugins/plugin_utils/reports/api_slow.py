# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""api-slow's report: the cache, the slow queries, and the APIs' health latency."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import field, prefixed, ran, report

KILL_HINT = "kill read-only ones with --kill-after SECONDS; ods-fix never kills a write (KILL QUERY <id> by hand)"


def build(results, options, check_mode):
    redis = ran(results.get("redis")) or {"services": {}, "actions": []}
    queries_before, health_before = results["queries_before"], results["health_before"]
    # Only a kill changes the process list; otherwise what the first look saw is still true.
    killing = int(options.get("kill_after") or 0) > 0
    queries_now = queries_before if check_mode or not killing else results.get("queries_after") or queries_before
    health_now = health_before if check_mode else results.get("health_after") or health_before
    services = redis.get("services") or {}
    cache = next(iter(services), "")
    cache_was = (services.get(cache) or {}).get("before") or "healthy"
    pong = "" if check_mode else (field(results.get("pong"), "stdout", "") or "").strip()
    pong_ok = check_mode or not services or pong == "PONG"
    still_slow = [] if check_mode else list(queries_now.get("slow", []))
    found = []
    if cache_was not in ("healthy", "running"):
        found.append(f"{cache} is {cache_was}: the APIs run without their cache")
    found += prefixed("slow query: ", queries_before.get("slow", [])) + list(health_before.get("problems", []))
    left = [] if pong_ok else ["redis-cli ping does not answer PONG"]
    left += prefixed("still running: ", still_slow) + ([KILL_HINT] if still_slow else [])
    left += [] if check_mode else list(health_now.get("problems", []))
    return report(
        found=found,
        done=list(redis.get("actions", [])) + list(field(results.get("kill"), "killed", [])),
        left=left,
        details={
            "queries_before": queries_before.get("queries"),
            "queries_after": queries_now.get("queries"),
            "apis": health_now.get("apis"),
            "pong": pong,
        },
        failed=not check_mode and (not pong_ok or bool(health_now.get("problems"))),
    )
