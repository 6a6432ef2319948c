# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""web-recover's report: the built front end, nginx's config, and what GET / answers."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import (
    REBUILD_ASKED,
    actions,
    checked_fix,
    field,
    outcome,
    refused,
)


def build(results, options, check_mode):
    before = results["before"]
    after = outcome(before, results.get("after"), check_mode)
    why = f"({(before.get('dist') or {}).get('root') or 'its document root'} was missing or incomplete)"
    done = [line.replace(REBUILD_ASKED, why) for line in field(results.get("rebuild"), "actions", [])]
    done += actions(results.get("config"))
    done += actions(results.get("restart"), "(nginx reads its config at start)")
    if not check_mode and after.get("ok"):
        asset = (after.get("http") or {}).get("asset") or "no asset"
        done.append(f"GET / answers 200 with the app's index.html; {asset} loads")
    return checked_fix(results, check_mode, done=done)


def no_good_copy(results, options, check_mode):
    """nginx -t fails and no known-good copy was kept: nothing is changed, the fix is the user's."""
    before = results["before"]
    config = before.get("config") or {}
    where = config.get("failing_line") or config.get("site") or "the nginx config"
    return refused(
        found=before.get("problems", []),
        next_step=(
            f"fix {where}, check it with docker-compose exec {before.get('service')} nginx -t, then restart it "
            "(nothing was changed: no known-good copy of the config was kept on this machine yet)"
        ),
        details={"before": before},
        msg=f"nginx -t fails: {config.get('failing_line') or config.get('output')}; no known-good copy in "
        f"{options.get('state_dir')} (nothing was changed)",
    )
