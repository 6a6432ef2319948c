# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""What every fix's report builder shares.

A builder is `build(results, options, check_mode)` in reports/<fix>.py. It gets the raw results its role
registered (keyed by the names the role gives them), the role's settings it words the report with, and whether
the run is a check; it returns the report's found/done/left lists, its details, and whether the fix failed.
fix_report (the action) calls it; pytest calls it with results taken from real runs.
"""

RESTART_ASKED = "(a restart was asked for)"
REBUILD_ASKED = "(a rebuild was asked for)"
# compose_service's reason for a recreate (module_utils/stack/services.py), which other fixes word their own way.
RECREATE_ASKED = "(its environment is fixed when it is created: a restart would not read its new settings)"


def ran(result):
    """The result of a task that ran, or None for one that was skipped or never reached (empty)."""
    if not isinstance(result, dict) or not result or result.get("skipped"):
        return None
    return result


def field(result, key, default=None):
    """result[key] of a task that ran, else default."""
    found = ran(result)
    return default if found is None or found.get(key) is None else found[key]


def actions(result, reason=None):
    """The lines a fix step did ("actions"); with reason, the step's generic reason worded for this fix."""
    lines = list(field(result, "actions", []))
    if reason:
        lines = [line.replace(RESTART_ASKED, reason) for line in lines]
    return lines


def outcome(before, after, check_mode):
    """What is true after the fix: in check mode nothing changed, so what was found before."""
    return before if check_mode or ran(after) is None else after


def prefixed(prefix, lines):
    return [prefix + line for line in lines]


def report(found=(), done=(), left=(), details=None, failed=False, msg="", input_error=False):
    built = {
        "found": [str(line) for line in found if line not in (None, "")],
        "done": [str(line) for line in done if line not in (None, "")],
        "left": [str(line) for line in left if line not in (None, "")],
        "details": details or {},
        "failed": bool(failed),
    }
    if msg:
        built["msg"] = msg
    if input_error:
        built["input_error"] = True
    return built


def refused(found, next_step, msg, details=None, input_error=False):
    """The report of a fix that stopped before changing anything: what it found, the one thing to do, why."""
    return report(found=found, left=[next_step], details=details, failed=True, msg=msg, input_error=input_error)


def checked_fix(results, check_mode, done, left=(), found=None, details=None):
    """The report of a fix that checks, fixes and checks again: found is what the first check saw, left what
    the second still sees (nothing in check mode), and the fix failed when the second check is not ok."""
    before = results["before"]
    after = outcome(before, results.get("after"), check_mode)
    return report(
        found=before.get("problems", []) if found is None else found,
        done=done,
        left=([] if check_mode else list(after.get("problems", []))) + list(left),
        details={"before": before, "after": after} if details is None else details,
        failed=not check_mode and not after.get("ok", False),
    )


def failure_report(built, failure, dest, host):
    """A run that stopped at a failed step, as the person on call needs it, in order: what was found and done
    before the step failed (the builder's lines, from the steps that ran), the failure, what the builder says is
    left, then where to look (the builder's where_to_look, then this run's report and output)."""
    step, msg = failure.get("task") or "a step", failure.get("msg") or "it failed"
    where = list(built.get("where") or [])
    if dest:
        run_dir = dest.rstrip("/").rsplit("/", 1)[0] if dest.rstrip("/").endswith("/reports") else dest
        where.append(f"this report: {dest}/{host}; the run's whole output: {run_dir}/runner/artifacts/*/stdout")
    details = dict(built.get("details") or {}, failure={"task": step, "msg": msg})
    return report(
        found=built.get("found") or [],
        done=built.get("done") or [],
        left=[f"stopped: the step '{step}' failed: {msg}", *(built.get("left") or []), *prefixed("look at ", where)],
        details=details,
        failed=True,
        msg=msg,
        input_error=failure.get("ods_failure") == "input",
    )
