# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""perf's report: what is hot (with figures), its cause and remedy, what was lowered or restarted."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, field, report


def build(results, options, check_mode):
    triage = results["triage"]
    log_level = results.get("log_level")
    return report(
        found=triage.get("found", []),
        done=actions(log_level) + actions(results.get("restarts")),
        left=[cause["remedy"] for cause in triage.get("causes", [])] + list(field(log_level, "left", [])),
        details={key: triage.get(key) for key in ("stats", "hot", "causes", "mysql_io")},
    )
