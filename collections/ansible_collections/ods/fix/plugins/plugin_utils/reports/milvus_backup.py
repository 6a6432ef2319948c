# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""milvus-backup's report: the collections exported, their rows, where the backup is."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import field, report


def build(results, options, check_mode):
    export = results["export"]
    collections = (field(export, "manifest", {}) or {}).get("collections") or []
    summary = ", ".join(f"{c['name']}: {c['rows']} rows" for c in collections)
    if check_mode:
        wanted = ", ".join(options.get("collections") or []) or "every collection"
        line = f"would export {wanted} to {options['dest']}"
    elif not field(export, "file"):  # the export failed, or never ran: the failure says why
        line = None
    elif export.get("up_to_date"):
        line = f"no change since {export['file']} ({summary})"
    else:
        line = f"exported {summary} to {export['file']} (sha256 {export['sha256'][:12]})"
    fetched = (list(results.get("fetched") or []) or [""])[0] if options.get("fetch") else ""
    return report(
        done=([line] if line else []) + ([f"on the controller: {fetched}"] if fetched else []),
        left=[f"restore with: ods-fix milvus-restore --backup {fetched} --yes"] if fetched else [],
        details={
            "file": field(export, "file", ""),
            "sha256": field(export, "sha256", ""),
            "manifest": field(export, "manifest", {}),
            "fetched": fetched,
        },
    )
