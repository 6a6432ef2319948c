# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""api-500's report: the APIs' health, the database brought back, the APIs restarted."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, checked_fix, refused


def build(results, options, check_mode):
    return checked_fix(results, check_mode, done=actions(results.get("db")) + actions(results.get("apis")))


def missing_settings(results, options, check_mode):
    """A setting an API needs is missing: nothing is restarted (the API would crash again)."""
    before = results["before"]
    names = []
    for missing in before.get("missing_settings", {}).values():
        names.extend(name for name in missing if name not in names)
    required = [line for line in before.get("problems", []) if "required setting" in line]
    return refused(
        found=before.get("problems", []),
        next_step=(
            f"set {', '.join(names)} where the lines above say, then run ods-fix api-500 again (nothing was "
            "restarted: the API would crash again)"
        ),
        details={"before": before},
        msg=f"{required[0] if required else 'a required setting is missing'}; set it there, then run ods-fix "
        "api-500 again (nothing was changed)",
    )
