# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""data-leak's report: the services paused, the evidence, the access audit, the rotation, the checklist."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, field, prefixed, report

NO_ROTATION = {"ok": True, "keys": [], "left_out": [], "done": []}


def build(results, options, check_mode):
    audit, capture = results["audit"], results.get("capture")
    rotation = results.get("rotation") or NO_ROTATION
    bundle, verified = options.get("bundle", ""), results.get("verified") or {}
    checklist = bundle.removesuffix(".tar.gz") + "-checklist.md"
    still_paused = [] if options.get("resume") and options.get("rotate") else list(options.get("targets") or [])
    window = audit.get("window") or {}
    done = actions(results.get("paused")) + prefixed("would ", field(capture, "would", []))
    if not check_mode:
        done.append(f"captured {len(field(capture, 'files', []))} files of evidence, secrets redacted")
    done.append(
        f"audited {(audit.get('summary') or {}).get('requests')} requests of the last {options.get('window_hours')} h "
        f"({', '.join(window.get('services') or [])})"
    )
    done += list(rotation.get("done", [])) + actions(results.get("repaused"))
    if not check_mode:
        done.append(
            f"sealed {bundle} (0600, sha256 {str(verified.get('sha256', ''))[:16]}…), fetched and verified; the "
            f"notification checklist is beside it: {checklist}"
        )
    left = []
    if not rotation.get("ok"):
        rolled = " and was rolled back" if rotation.get("rolled_back") else ""
        left.append(f"the key rotation failed{rolled}: {rotation.get('error')}")
    if rotation.get("left_out"):
        left.append(
            f"replace at the provider, then set: {', '.join(rotation['left_out'])} (ods-fix rotate-keys --key NAME "
            "--value-from-file FILE --yes)"
        )
    if not check_mode:
        left.append(f"fill in and send the notification checklist: {checklist}")
    if still_paused:
        left.append(
            f"still paused: {', '.join(still_paused)}; close the leak, then: docker-compose unpause "
            f"{' '.join(still_paused)}"
        )
    if not check_mode:
        left.append(f"evidence: ods-fix incident verify {bundle}")
    return report(
        found=list(audit.get("highlights", [])) + field(capture, "highlights", []),
        done=done,
        left=left,
        details={
            "bundle": "" if check_mode else bundle,
            "sha256": verified.get("sha256", ""),
            "audit": audit.get("summary"),
            "window": window,
            "rotation": rotation,
            "paused": still_paused,
        },
        failed=not rotation.get("ok"),
        msg=f"the key rotation failed: {rotation.get('error', '')}",
    )
