# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""milvus-restore's report: what the backup held, each collection restored or kept, the copies to drop."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import field, report


def build(results, options, check_mode):
    plan, restore, kept = results.get("plan"), results.get("restore"), results.get("kept")
    restored = field(restore, "restored", [])
    kept_names = [entry["kept"] for entry in restored if entry.get("kept")]
    done = field(plan, "recovered", []) + (field(plan, "would", []) if check_mode else []) + field(restore, "done", [])
    done += field(plan, "unchanged", []) + field(kept, "done", [])
    left = []
    if kept_names:
        left.append(
            f"once the restored data is confirmed, ods-fix milvus-restore --confirm --yes drops {', '.join(kept_names)}"
        )
    checked = results.get("checked")
    return report(
        found=field(plan, "found", []),
        done=done,
        left=left,
        details={
            "backup_sha256": field(checked, "sha256", ""),
            "backup_created": field(checked, "created", ""),
            "plans": field(plan, "plans", []),
            "restored": restored,
            "swapped": field(kept, "swapped", []),
            "dropped": field(kept, "dropped", []),
        },
    )


def where_to_look(results, options):
    """After a failure: the journal of the unfinished restore, which the next milvus-restore run finishes undoing."""
    return [
        "<project>/.ods-fix/milvus-restore.json on the target, if it is there: the collections a restore had begun; "
        "the next ods-fix milvus-restore (any of its commands) puts back what they replaced"
    ]
