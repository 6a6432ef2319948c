# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""mysql-backup's report: what was dumped, where, and how to restore it."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import field, prefixed, refused, report


def build(results, options, check_mode):
    backup = results["backup"]
    rows = field(backup, "rows", {})
    if check_mode:
        line = f"would back up {field(backup, 'database') or options.get('database') or ''}"
    elif not field(backup, "file"):  # the dump failed, or never ran: the failure says why
        line = None
    elif backup.get("up_to_date"):
        line = f"no change since {backup['file']}"
    else:
        line = (
            f"backed up {backup['database']} ({len(rows)} tables, {sum(rows.values())} rows) to {backup['file']} "
            f"(sha256 {backup['sha256'][:12]})"
        )
    fetched = list(results.get("fetched") or []) if options.get("fetch") else []
    return report(
        done=[line, *prefixed("on the controller: ", fetched)] if line else [],
        left=[] if check_mode or not fetched else [f"restore with: ods-fix mysql-restore --backup {fetched[0]} --yes"],
        details={
            "file": field(backup, "file", ""),
            "manifest": field(backup, "manifest", ""),
            "sha256": field(backup, "sha256", ""),
            "rows": rows,
            "fetched": fetched,
        },
    )


def output_refused(results, options, check_mode):
    """The controller's directory for the backup cannot be made: refused before any dump."""
    output, error = options["output"], field(results.get("made"), "stderr", "") or ""
    return refused(
        found=[f"{output} cannot hold the backup: {error}"],
        next_step="give --output a directory that can be written",
        input_error=True,
        msg=f"cannot make {output}/{options['host']} ({error.removeprefix('mkdir: ')}); nothing was backed up",
    )
