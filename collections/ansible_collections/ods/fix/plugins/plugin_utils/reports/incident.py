# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""incident's report: what the capture saw first, how the stack was isolated, the sealed evidence."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, field, prefixed, report

ISOLATION_LEFT = {
    "stop": "the stack is stopped; investigate before starting it again (docker-compose start)",
    "disconnect": "the containers run off every network (their processes kept for forensics); once done, put them "
    "back with docker-compose up -d --force-recreate, or the docker network connect commands above",
    "none": "nothing was isolated (--isolate none); the stack still runs as it was",
}
ROTATE = (
    "assume every secret is known: ods-fix rotate-keys --yes, and new provider keys (ods-fix rotate-keys --key "
    "OPENAI_API_KEY ...)"
)


def build(results, options, check_mode):
    capture, isolated = results.get("capture"), results.get("isolated")
    capture_failed = results.get("capture_failed") or ""
    bundle, verified = options.get("bundle", ""), results.get("verified") or {}
    sealed = not check_mode and not capture_failed
    found = field(capture, "highlights", []) + ([f"the capture failed: {capture_failed}"] if capture_failed else [])
    done = prefixed("would ", field(capture, "would", []))
    if sealed:
        done.append(
            f"captured {len(field(capture, 'files', []))} files, the volatile state first, secret values redacted "
            f"({len(field(capture, 'redacted', []))} names)"
        )
    done += actions(isolated)
    if sealed:
        done.append(
            f"sealed {bundle} (0600, sha256 {str(verified.get('sha256', ''))[:16]}…), fetched and verified: "
            f"{verified.get('files')} files match the manifest"
        )
    left = []
    if capture_failed:
        left.append(
            "no evidence bundle: capture by hand what is left (docker logs, docker inspect, docker diff of each "
            "container) before anything else changes"
        )
    if sealed:
        left.append(f"evidence: {bundle}; check it any time with: ods-fix incident verify {bundle}")
    left += [ISOLATION_LEFT[options["isolate"]], ROTATE]
    return report(
        found=found,
        done=done,
        left=left,
        details={
            "bundle": bundle if sealed else "",
            "sha256": verified.get("sha256", ""),
            "findings": field(capture, "findings", {}),
            "isolation": field(isolated, "services", {}),
            "redacted": field(capture, "redacted", []),
            "notes": field(capture, "notes", []),
        },
        failed=bool(capture_failed),
        msg=f"the capture failed ({capture_failed}); the stack was isolated anyway ({options['isolate']})",
    )
