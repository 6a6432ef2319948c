# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""cors' report: each API's preflight per origin, the setting that lists the origins, web's same-origin route."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, field, outcome, report

NO_WEB = {"problems": [], "ok": True}


def build(results, options, check_mode):
    before, web_before = results["before"], results.get("web_before") or NO_WEB
    after = outcome(before, results.get("after"), check_mode)
    web_after = outcome(web_before, results.get("web_after") if options.get("web_enabled") else None, check_mode)
    healthy = after.get("ok") and web_after.get("ok")
    done = (
        actions(results.get("setting"))
        + actions(results.get("restart"), "(it reads the allowed origins at start)")
        + actions(results.get("web_config"))
        + actions(results.get("web_restart"), "(nginx reads its config at start)")
    )
    if not check_mode and healthy:
        proxy_only = list(after.get("proxy_only") or [])
        answering = [api for api in after.get("apis") or {} if api not in proxy_only]
        if answering:
            done.append(f"the preflight from {', '.join(options['origins'])} passes on {', '.join(answering)}")
        if proxy_only:
            pronoun = "it" if len(proxy_only) == 1 else "them"
            done.append(
                f"{', '.join(proxy_only)} read no CORS origin setting: a browser reaches {pronoun} through the front "
                "end's same-origin proxy (the manual's remedies 1 and 3)"
            )
        if options.get("web_enabled"):
            done.append(f"web proxies {options['proxy_path']} to the API")
    left = []
    if not check_mode:
        left = list(after.get("problems", [])) + list(web_after.get("problems", []))
        left += field(results.get("setting"), "left", [])
        proxy = (web_after.get("http") or {}).get("proxy") or {}
        if "routed" in proxy and not proxy["routed"]:
            site = (web_after.get("config") or {}).get("site") or "the nginx config"
            left.append(
                f"no known-good nginx config was kept to put back: restore the location /api/ block in {site} "
                "(proxy_pass to the data API), then restart web, or run ods-fix cors --add-route"
            )
    return report(
        found=list(before.get("problems", [])) + list(web_before.get("problems", [])),
        done=done,
        left=left,
        details={"before": before, "after": after, "web_before": web_before, "web_after": web_after},
        failed=not check_mode and not healthy,
    )
