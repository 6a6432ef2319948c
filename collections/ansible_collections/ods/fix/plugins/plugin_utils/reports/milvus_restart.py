# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""milvus-restart's report: etcd and MinIO, Milvus itself, the APIs' MILVUS_HOST/PORT, and the client's answer."""

from ansible_collections.ods.fix.plugins.plugin_utils.reports.common import actions, checked_fix, field, outcome


def build(results, options, check_mode):
    before = results["before"]
    after = outcome(before, results.get("after"), check_mode)
    config = results.get("config")
    done = actions(results.get("dependencies")) + actions(results.get("milvus")) + actions(config)
    collections = after.get("collections") or {}
    if not check_mode and collections.get("ok"):
        rows = ", ".join(f"{name}: {count}" for name, count in (collections.get("rows") or {}).items())
        done.append(f"VectorStore().list_collections() answers: {rows or 'no collections'}")
    left = list(field(config, "left", []))
    if not check_mode and (after.get("config") or {}).get("problems"):
        expected = before.get("config") or {}
        left.append(
            f"set MILVUS_HOST={expected.get('expected_host')} and MILVUS_PORT={expected.get('expected_port')} where "
            "the lines above say, then restart or recreate the APIs (or run ods-fix milvus-restart --fix-config)"
        )
    return checked_fix(results, check_mode, done=done, left=[] if check_mode else left)
