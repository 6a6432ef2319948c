# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""mysql-connect's report: the database's container, network and credentials, and the APIs' view of it."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, checked_fix, field, outcome

ACCESS_DENIED = 1045


def build(results, options, check_mode):
    before = results["before"]
    after = outcome(before, results.get("after"), check_mode)
    password = results.get("password")
    done = actions(results.get("service_state"))
    if field(password, "changed", False):
        done.append(password["action"])
    denied = (after.get("credentials") or {}).get("code") == ACCESS_DENIED
    hint = []
    if denied and not options.get("reset_db_password"):
        hint = ["re-run with --reset-db-password to set the server's password to the one the APIs use"]
    # The manual's symptom line confirms a problem; on a healthy stack old log lines are history.
    symptoms = []
    if before.get("problems"):
        symptoms = [f"the manual's symptom, logged: {s['last']}" for s in before.get("symptoms", {}).values()]
    return checked_fix(results, check_mode, done=done, left=hint, found=before.get("problems", []) + symptoms)
