# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""external-network's report: the missing networks (and the file and line that declare each), what was created,
recreated and started, and the containers left because their own layer holds files a recreate would delete."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import RECREATE_ASKED, actions, checked_fix, field

RECREATED = "(it holds the deleted network's id: only a new container joins the new network)"


def build(results, options, check_mode):
    recreated = [line.replace(RECREATE_ASKED, RECREATED) for line in actions(results.get("recreate"))]
    done = actions(results.get("fix")) + recreated + actions(results.get("start"))
    return checked_fix(results, check_mode, done=done, left=field(results.get("fix"), "held", []))
