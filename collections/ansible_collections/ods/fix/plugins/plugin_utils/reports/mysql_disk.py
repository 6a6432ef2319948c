# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""mysql-disk's report: the disk, what each schema and the binlogs take, and what the policy freed."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import report

NO_POLICY = "nothing to free yet: choose a policy, --purge-binlogs-days N and/or --archive SCHEMA.TABLE:COLUMN:DAYS"


def build(results, options, check_mode):
    result = results["disk"]
    left = list(result.get("problems", []))
    if result.get("full") and int(options.get("purge_binlogs_days", -1)) < 0 and not options.get("archive"):
        left.append(NO_POLICY)
    return report(
        found=result.get("found", []),
        done=result.get("done", []),
        left=left,
        details={key: result.get(key) for key in ("df", "schemas", "binlogs", "archives", "writable")},
        failed=not check_mode and bool(result.get("problems")),
    )


def where_to_look(results, options):
    """After a failure: the archives written, a partial one included, which restore the deleted rows."""
    result = results.get("disk") or {}
    files = [a.get("file") for a in result.get("archives") or []] + [(result.get("partial_archive") or {}).get("file")]
    return [f"the archive {f} (gunzip -c it into mysql to put its rows back)" for f in files if f]
