# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""env-file's report: the env file Compose reads, the variables nothing set (names, files and lines), and what
was written and from where. A required value nothing gives stops the fix before anything is written: the
failure's own line names it."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, checked_fix


def build(results, options, check_mode):
    return checked_fix(results, check_mode, done=actions(results.get("fix")))
