# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""rotate-keys' report: each key's plan, the restarts and recreations, the health on the new keys, and the
rollback when anything failed. Its outcome (details.outcome) is what data-leak reports of the rotation."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, field, ran, report

READS_AT_START = "(it reads its settings file at start)"
ENVIRONMENT_FIXED = "(its environment is fixed when it is created)"


def _done(results, check_mode):
    plan, health, health_after = results.get("plan"), results.get("health"), results.get("health_after")
    rolled_back = results.get("rolled_back")
    if not check_mode:
        done = list(field(plan, "actions", []))
    else:
        done = [f"would rotate {e['description']}" for e in field(plan, "plan", []) if e.get("action") != "none"]
        done += [f"would restart {s} {READS_AT_START}" for s in field(plan, "restart_services", [])]
        done += [f"would recreate {s} {ENVIRONMENT_FIXED}" for s in field(plan, "recreate_services", [])]
    done += actions(results.get("restarted"), READS_AT_START) + actions(results.get("recreated"))
    if field(health, "ok", False) and not check_mode:
        done.append(f"the APIs answer 200 on the new keys: {', '.join(health.get('apis') or {})}")
    done += actions(results.get("finished"))
    if check_mode and field(rolled_back, "changed", False):
        done.append(f"would put back {', '.join(rolled_back.get('keys', []))} from the last rotation's backup")
    done += (
        actions(rolled_back) + actions(results.get("restored"), READS_AT_START) + actions(results.get("rerecreated"))
    )
    if field(health_after, "ok", False) and not check_mode:
        done.append(f"the APIs answer 200 again: {', '.join(health_after.get('apis') or {})}")
    return done


def outcome(results, options, check_mode):
    plan, rolled_back = ran(results.get("plan")) or {}, results.get("rolled_back")
    rollback = bool(options.get("rollback"))
    could_not_start = not rollback and "plan" not in plan
    error = results.get("error") or (plan.get("msg", "") if could_not_start else "")
    healthy_after = field(results.get("health_after"), "ok", True)
    return {
        "ok": not (results.get("error") or could_not_start) and healthy_after,
        "could_not_start": could_not_start,
        "rolled_back": field(rolled_back, "changed", False),
        "keys": field(rolled_back, "keys", []) if rollback else plan.get("keys", []),
        "left_out": plan.get("left_out", []),
        "error": error,
        "healthy_after": healthy_after,
        "backup": plan.get("backup", ""),
        "done": _done(results, check_mode),
    }


def _failure(result, options, health_after):
    if result["could_not_start"]:
        return f"the rotation could not start: {result['error']}; nothing was changed"
    line = f"{'rollback' if options.get('rollback') else 'rotation'} of {', '.join(result['keys'])} failed: "
    line += result["error"]
    if result["rolled_back"]:
        line += "; rolled back: the settings and the DB passwords are the old ones again"
    if result["healthy_after"]:
        return line + "; the services answer 200"
    return line + "; the services do NOT answer 200 yet: " + "; ".join(field(health_after, "problems", []))


def _one_or_many(names, one, many):
    return one if len(names) == 1 else many


def build(results, options, check_mode):
    plan = ran(results.get("plan")) or {}
    rollback = bool(options.get("rollback"))
    result = outcome(results, options, check_mode)
    failure = _failure(result, options, results.get("health_after"))
    left = [] if result["ok"] else [failure]
    left_out = result["left_out"]
    if left_out:
        left.append(
            f"{', '.join(left_out)} {_one_or_many(left_out, 'is', 'are')} issued by "
            f"{_one_or_many(left_out, 'its provider', 'their providers')} and {_one_or_many(left_out, 'was', 'were')} "
            f"not rotated: revoke at the provider, then ods-fix rotate-keys --key {left_out[0]} "
            "--value-from-file FILE --yes"
        )
    absent = plan.get("absent_services", [])
    if absent and result["ok"]:
        left.append(
            f"{', '.join(absent)} {_one_or_many(absent, 'has', 'have')} no container here: "
            f"{_one_or_many(absent, 'it reads', 'they read')} the new values when started"
        )
    if not rollback:
        left += plan.get("not_rotated", [])
    if result["ok"] and result["backup"] and not check_mode:
        left.append(
            f"the old values are kept in {result['backup']} (0600); ods-fix rotate-keys --rollback --yes puts them back"
        )
    if rollback:
        found, nothing = (
            ["a rollback of the last rotation was asked for"],
            "the keys already hold the values from before the rotation",
        )
    else:
        found = [entry["line"] for entry in plan.get("plan", [])]
        nothing = f"{', '.join(e['name'] for e in plan.get('plan', []))} already hold the supplied values"
    return report(
        found=found,
        done=result["done"] or [f"nothing to do: {nothing}"],
        left=left,
        details={
            "plan": plan.get("plan", []),
            "server": plan.get("server", {}),
            "restart_services": plan.get("restart_services", []),
            "recreate_services": plan.get("recreate_services", []),
            "settings_file": plan.get("env_file", ""),
            "outcome": {key: value for key, value in result.items() if key != "could_not_start"},
            "audit_log": options.get("audit_log"),
        },
        failed=not result["ok"] and options.get("fail_on_error", True),
        msg=failure,
    )
