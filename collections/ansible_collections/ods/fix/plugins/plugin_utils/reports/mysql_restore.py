# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""mysql-restore's report: what was checked of the dump, the load, the swap, and where the old data is kept."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, field, refused, report

LOAD_DATA = "LOAD DATA"


def target(results, options):
    return (
        options.get("database") or field(results.get("plan"), "database") or field(results.get("dump"), "database", "")
    )


def build(results, options, check_mode):
    dump, load, swap = results.get("dump"), results.get("load"), results.get("swap")
    rolled = results.get("rolled")
    plan = field(results.get("plan"), "plan", {})
    rollback = options.get("rollback")
    database = target(results, options)
    done = [plan["resumed"]] if plan.get("resumed") else []
    if not rollback and plan.get("up_to_date"):
        done.append(f"already restored: {database} holds this backup, unchanged since (same checksums); nothing to do")
    if check_mode and not rollback and not plan.get("up_to_date"):
        done.append(
            f"would load {options.get('backup') or options.get('remote_backup')} into a shadow copy, stop "
            f"{', '.join(options.get('services') or [])}, swap it into {database} and keep the old tables"
        )
    if field(swap, "kept"):
        rows = (swap.get("verified") or {}).get("rows") or {}
        through_load_data = sum(1 for how in field(load, "loaded_with", {}).values() if how == LOAD_DATA)
        done += [
            f"restored {database}: {len(rows)} tables, {sum(rows.values())} rows, each table's count equal to the "
            "dump's",
            f"kept the replaced data in {swap['kept']} (ods-fix mysql-restore --rollback puts it back)",
            f"loaded in {field(load, 'seconds')} s while the APIs ran ({through_load_data} tables through LOAD DATA, "
            f"the others from their INSERTs); the APIs were down {results.get('down_s')} s (stopped, swapped, "
            "started, healthy)",
        ]
    done += [f"dropped the oldest kept copy {name}" for name in field(swap, "pruned", [])]
    if field(rolled, "kept"):
        done.append(
            f"rolled back {database} to {rolled['restored_from']}; what it replaced is kept in {rolled['kept']}"
        )
    for step in ("stopped", "started", "restarted"):
        done += actions(results.get(step))
    return report(
        found=field(dump, "checks", []) + field(load, "checks", []),
        done=done,
        left=field(swap, "problems", []),
        details={
            "database": database,
            "backup_sha256": field(dump, "sha256") or (field(load, "info", {}) or {}).get("sha256", ""),
            "apis_down_s": results.get("down_s"),
            "load": {
                "seconds": field(load, "seconds"),
                "tables": field(load, "loaded_with", {}),
                "timeline": field(load, "timeline", []),
            },
            "dump": field(dump, "dump", {}),
            "verified": field(swap, "verified") or field(rolled, "verified", {}),
            "kept": field(swap, "kept") or field(rolled, "kept", ""),
            "previous": plan.get("previous"),
        },
    )


def no_room(results, options, check_mode):
    """Refused before anything changes: no room for the shadow copy, or for the dump and its split."""
    plan = field(results.get("plan"), "plan", {})
    if not plan.get("room"):
        room = (
            f"MySQL's data directory has {plan.get('free_mb')} MB free, the shadow copy needs about "
            f"{plan.get('needed_mb')} MB"
        )
    else:
        room = (
            f"{options.get('staging_dir')} has {plan.get('staging_free_mb')} MB free, too little for the dump and "
            "its split copy"
        )
    return refused(
        found=field(results.get("dump"), "checks", []),
        next_step=f"free space, or grow the disk: {room}",
        input_error=True,
        msg=f"{room}; nothing was changed",
    )
