# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""config-drift's report: the containers that ran with old settings (setting names only), those recreated, and
those left because their own layer holds files a recreate would delete."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, checked_fix, field


def build(results, options, check_mode):
    note = field(results.get("before"), "note", "")
    return checked_fix(
        results,
        check_mode,
        done=actions(results.get("fix")),
        left=[f"drift could not be checked: {note}"] if note else [],
    )
