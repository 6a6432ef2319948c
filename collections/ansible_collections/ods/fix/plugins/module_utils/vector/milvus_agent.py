# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The vector backup's agent: export, plan, restore, roll back and confirm, run inside the agent API.

milvus_vectors sends vector/backup_format.py's source and then this file's, with a call to ``main``, to ``python -`` in
the agent API (bisheng-api): that container has pymilvus, numpy and the manual's ``services.VectorStore``
(whose client, configured by the stack's own settings, is the one used). pymilvus and numpy are imported inside
the functions that need them. It reports by JSON lines on stdout (say()): progress, then one result.
"""

import contextlib
import gzip
import hashlib
import json
import os
import sys
import time

# In the collection; in the container, backup_format's source was sent ahead of this file's.
with contextlib.suppress(ImportError):
    from ansible_collections.ods.fix.plugins.module_utils.vector.backup_format import (
        BATCH_BYTES,
        FORMAT,
        MANIFEST,
        ROWS,
        SCHEMA,
        SUPPORTED,
        Digest,
        VectorError,
        dimension_mismatch,
        kept_copy_of,
        kept_name,
        npy_header,
        same_schema,
        skipped_fields,
        vector_fields,
    )


def say(event, **data):
    """One JSON line on stdout: progress for the module, or the final result."""
    data["event"] = event
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def client():
    sys.path[:0] = ["/app/src", "/app"]  # where the API keeps its modules (the second layout: /app/src)
    from services import VectorStore  # the manual's interface; its client uses the stack's settings

    try:
        store = VectorStore(timeout=30)
        store.list_collections()
    except Exception as exc:
        raise VectorError(
            f"Milvus does not answer through VectorStore in the agent API "
            f"({(str(exc).splitlines() or [type(exc).__name__])[0][:200]}): run ods-fix milvus-restart"
        ) from exc
    return store.client


def live_schema(milvus, name):
    desc = milvus.describe_collection(name)
    fields = []
    for field in desc["fields"]:
        kind = getattr(field["type"], "name", str(field["type"]))
        params = dict((k, int(v) if str(v).isdigit() else v) for k, v in (field.get("params") or {}).items())
        fields.append(
            {
                "name": field["name"],
                "type": kind,
                "params": params,
                "is_primary": bool(field.get("is_primary")),
                "auto_id": bool(field.get("auto_id")),
            }
        )
    indexes = []
    for index_name in milvus.list_indexes(name):
        info = milvus.describe_index(name, index_name)
        params = dict(
            (k, int(v) if str(v).isdigit() else v)
            for k, v in info.items()
            if k not in ("index_type", "metric_type", "field_name", "index_name", "total_rows", "indexed_rows")
            and k not in ("pending_index_rows", "state", "index_state_fail_reason")
        )
        indexes.append(
            {
                "field": info["field_name"],
                "index_name": info.get("index_name", index_name),
                "index_type": info["index_type"],
                "metric_type": info.get("metric_type"),
                "params": params,
            }
        )
    return {
        "name": name,
        "description": desc.get("description", ""),
        "auto_id": bool(desc.get("auto_id")),
        "enable_dynamic_field": bool(desc.get("enable_dynamic_field")),
        "consistency_level": desc.get("consistency_level", 2),
        "fields": fields,
        "indexes": indexes,
    }


def exact_count(milvus, name):
    rows = milvus.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")
    return int(rows[0]["count(*)"])


@contextlib.contextmanager
def loaded(milvus, name):
    """The collection loaded for the duration (queries need it), released again if it was not loaded."""
    was_loaded = str(milvus.get_load_state(name).get("state")).endswith("Loaded")
    if not was_loaded:
        milvus.load_collection(name)
    try:
        yield
    finally:
        if not was_loaded:
            milvus.release_collection(name)


def iterate_rows(milvus, name, batch):
    """Every row with every field; the collection must be loaded."""
    iterator = milvus.query_iterator(name, batch_size=batch, output_fields=["*"])
    try:
        while True:
            rows = iterator.next()
            if not rows:
                return
            yield from rows
    finally:
        iterator.close()


def split_row(row, vectors):
    import numpy as np

    scalars = dict((k, v) for k, v in row.items() if k not in vectors)
    return scalars, [np.asarray(row[v], dtype="<f4").tobytes() for v in vectors]


def live_digest(milvus, name, schema, batch=1000):
    digest = Digest(skipped_fields(schema))
    vectors = vector_fields(schema)
    for row in iterate_rows(milvus, name, batch):
        digest.add(*split_row(row, vectors))
    return digest


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_rows(milvus, name, batch, directory, schema, digest, expected):
    """rows.jsonl.gz and one .npy per vector field (header rewritten with the final count at the end)."""
    vectors = vector_fields(schema)
    dims = dict((f["name"], int(f["params"]["dim"])) for f in schema["fields"] if f["name"] in vectors)
    npys = dict((v, open(os.path.join(directory, v + ".npy"), "wb")) for v in vectors)
    try:
        for field, handle in npys.items():
            handle.write(npy_header(0, dims[field]))
        with gzip.open(os.path.join(directory, ROWS), "wt", encoding="utf-8", compresslevel=6) as rows_out:
            for row in iterate_rows(milvus, name, batch):
                scalars, blobs = split_row(row, vectors)
                for field, blob in zip(vectors, blobs, strict=True):
                    npys[field].write(blob)
                rows_out.write(json.dumps(scalars, ensure_ascii=False, separators=(",", ":")) + "\n")
                digest.add(scalars, blobs)
                if digest.rows % 10000 == 0:
                    say("progress", phase=f"exporting {name}", rows=digest.rows, total_rows=expected)
        for field, handle in npys.items():
            handle.seek(0)
            handle.write(npy_header(digest.rows, dims[field]))
    finally:
        for handle in npys.values():
            handle.close()
    return dims


def export_collection(milvus, name, out_dir, batch):
    schema = live_schema(milvus, name)
    unsupported = [f["name"] + " " + f["type"] for f in schema["fields"] if f["type"] not in SUPPORTED]
    if unsupported:
        raise VectorError("collection {} has fields ods-fix cannot export: {}".format(name, ", ".join(unsupported)))
    directory = os.path.join(out_dir, name)
    os.makedirs(directory)
    digest = Digest(skipped_fields(schema))
    with loaded(milvus, name):
        expected = exact_count(milvus, name)
        dims = write_rows(milvus, name, batch, directory, schema, digest, expected)
    schema["rows"] = digest.rows
    with open(os.path.join(directory, SCHEMA), "w") as handle:
        json.dump(schema, handle, indent=2, sort_keys=True)
    members = [SCHEMA, ROWS] + [v + ".npy" for v in vector_fields(schema)]
    return {
        "name": name,
        "rows": digest.rows,
        "counted": expected,
        "dims": dims,
        "content_digest": digest.hexdigest(),
        "files": dict((f"{name}/{m}", sha256_file(os.path.join(directory, m))) for m in members),
    }


def export(args):
    milvus = client()
    # ods-fix's own kept copies are left out unless named.
    names = args["collections"] or sorted(c for c in milvus.list_collections() if kept_copy_of(c) is None)
    missing = sorted(set(names) - set(milvus.list_collections()))
    if missing:
        raise VectorError(
            "no collection {} in Milvus (it has: {})".format(", ".join(missing), ", ".join(milvus.list_collections()))
        )
    out_dir = args["out_dir"]
    collections = [export_collection(milvus, name, out_dir, args["batch_rows"]) for name in names]
    manifest = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "milvus_version": milvus.get_server_version(),
        "collections": collections,
    }
    with open(os.path.join(out_dir, MANIFEST), "w") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
    say("result", manifest=manifest)


# --- restore ----------------------------------------------------------------------------------------


def plan_collection(milvus, entry, schema):
    """What a restore would do with one collection: create, leave alone, or (with replace) replace."""
    name = entry["name"]
    if not milvus.has_collection(name):
        return {"name": name, "action": "create", "reason": "absent", "rows_backup": entry["rows"]}
    live = live_schema(milvus, name)
    with loaded(milvus, name):
        return compare(milvus, entry, schema, live)


def compare(milvus, entry, schema, live):
    name = entry["name"]
    rows = exact_count(milvus, name)
    plan = {"name": name, "rows_live": rows, "rows_backup": entry["rows"]}
    dims = dimension_mismatch(schema, live)
    if dims:
        plan.update(action="replace", reason="dimension mismatch: " + "; ".join(dims), dimension_mismatch=True)
        return plan
    differences = same_schema(schema, live)
    if differences:
        plan.update(action="replace", reason="; ".join(differences))
    elif rows != entry["rows"]:
        plan.update(action="replace", reason="%d rows live, %d in the backup" % (rows, entry["rows"]))
    elif live_digest(milvus, name, live).hexdigest() != entry["content_digest"]:
        plan.update(action="replace", reason="same row count, different content")
    else:
        plan.update(action="none", reason="identical to the backup")
    return plan


def read_schema(data_dir, name):
    with open(os.path.join(data_dir, name, SCHEMA)) as handle:
        return json.load(handle)


def plan(args):
    milvus = client()
    plans = [plan_collection(milvus, entry, entry["schema"]) for entry in args["collections"]]
    say("result", plans=plans)


def create_collection(milvus, schema):
    from pymilvus import DataType

    fields = schema["fields"]
    definition = milvus.create_schema(
        auto_id=schema["auto_id"],
        enable_dynamic_field=schema["enable_dynamic_field"],
        description=schema["description"],
    )
    for field in fields:
        extra = dict(field["params"])
        if field["is_primary"]:
            extra.update(is_primary=True, auto_id=field["auto_id"])
        definition.add_field(field["name"], getattr(DataType, field["type"]), **extra)
    index_params = milvus.prepare_index_params()
    for index in schema["indexes"]:
        index_params.add_index(
            index["field"],
            index_name=index["index_name"],
            index_type=index["index_type"],
            metric_type=index["metric_type"],
            params=index["params"],
        )
    milvus.create_collection(
        schema["name"], schema=definition, index_params=index_params, consistency_level=schema["consistency_level"]
    )


def read_rows(path):
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def batches(data_dir, schema, size):
    """Lists of row dicts (vectors as numpy rows), the primary key left out when Milvus makes it."""
    import numpy as np

    name = schema["name"]
    skip = set(skipped_fields(schema))
    vectors = vector_fields(schema)
    arrays = dict((v, np.load(os.path.join(data_dir, name, v + ".npy"), mmap_mode="r")) for v in vectors)
    batch = []
    for i, scalars in enumerate(read_rows(os.path.join(data_dir, name, ROWS))):
        row = dict((k, v) for k, v in scalars.items() if k not in skip)
        for v in vectors:
            row[v] = arrays[v][i]
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def rows_per_batch(schema):
    width = sum(4 * int(f["params"]["dim"]) for f in schema["fields"] if f["type"] == "FLOAT_VECTOR") + 256
    return max(100, min(20000, BATCH_BYTES // width))


def insert_all(milvus, schema, data_dir, workers, total):
    """Insert in batches from `workers` threads: pymilvus packs one batch while the server takes another."""
    from concurrent.futures import ThreadPoolExecutor

    name, done, started, pending = schema["name"], 0, time.monotonic(), []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch in batches(data_dir, schema, rows_per_batch(schema)):
            pending.append((len(batch), pool.submit(milvus.insert, name, batch)))
            # At most `workers` batches in flight (and in memory); the rest wait here.
            while len(pending) > workers:
                count, future = pending.pop(0)
                future.result()
                done += count
                report_insert(name, done, total, started)
        for count, future in pending:
            future.result()
            done += count
            report_insert(name, done, total, started)
    return done


def report_insert(name, done, total, started):
    rate = done / max(time.monotonic() - started, 0.001)
    say(
        "progress",
        phase=f"inserting into {name}",
        rows=done,
        total_rows=total,
        percent=round(100.0 * done / total, 1) if total else None,
        rate_rows_s=int(rate),
        eta_s=int((total - done) / rate) if rate and total > done else 0,
    )


def wait_index(milvus, name, rows, timeout):
    """Until every index covers every row (Milvus builds them in the background after the flush)."""
    deadline = time.monotonic() + timeout
    while True:
        infos = [milvus.describe_index(name, index) for index in milvus.list_indexes(name)]
        failed = [i for i in infos if str(i.get("state")).endswith("Failed")]
        if failed:
            raise VectorError(
                "building index {} failed: {}".format(
                    failed[0]["index_name"], failed[0].get("index_state_fail_reason")
                ),
                "fix",
            )
        # indexed_rows counts compacted-away segments too; pending_index_rows says what is still to build.
        if all(int(i.get("indexed_rows", 0)) >= rows and not int(i.get("pending_index_rows", 0)) for i in infos):
            return
        if time.monotonic() > deadline:
            raise VectorError("the index of %s was not built within %d s" % (name, timeout), "fix")
        say(
            "progress",
            phase=f"building the index of {name}",
            rows=min(int(i.get("indexed_rows", 0)) for i in infos),
            total_rows=rows,
        )
        time.sleep(2)


def search_params(schema, field):
    """Search wide enough that a row's own vector finds it (the defaults trade recall for speed)."""
    for index in schema["indexes"]:
        if index["field"] == field and index["index_type"] == "HNSW":
            return {"params": {"ef": 512}}
        if index["field"] == field and index["index_type"].startswith("IVF"):
            return {"params": {"nprobe": int(index["params"].get("nlist", 128))}}
    return {}


def same_row(hit, row, vector_field=None, vector=None):
    if any(hit.get(k) != v for k, v in row.items()):
        return False
    return vector_field is None or bytes(vector) == _f32(hit[vector_field])


def _f32(values):
    import numpy as np

    return np.asarray(values, dtype="<f4").tobytes()


def found(milvus, schema, row, field, vector):
    """'search' when the row's own vector finds it at distance 0 with its fields; 'query' when only an exact
    query on its text does (an approximate index may miss it); None when it is not there."""
    name, fields = schema["name"], list(row)
    hits = milvus.search(
        name,
        [vector.tolist()],
        anns_field=field,
        limit=10,
        search_params=search_params(schema, field),
        output_fields=fields,
        consistency_level="Strong",
    )[0]
    if any(abs(hit["distance"]) < 1e-3 and same_row(hit["entity"], row) for hit in hits):
        return "search"
    texts = [f["name"] for f in schema["fields"] if f["type"] == "VARCHAR" and not f["is_primary"]]
    if texts and isinstance(row.get(texts[0]), str):
        rows = milvus.query(
            name,
            filter=f"{texts[0]} == {json.dumps(row[texts[0]])}",
            output_fields=[*fields, field],
            limit=16,
            consistency_level="Strong",
        )
        if any(same_row(hit, row, field, vector.tobytes()) for hit in rows):
            return "query"
    return None


def verify(milvus, schema, data_dir, expected, samples=3):
    """The row count, and sample rows (first, middle, last) found with their own vectors and fields."""
    import numpy as np

    name = schema["name"]
    count = exact_count(milvus, name)
    if count != expected:
        raise VectorError("%s has %d rows after the restore, the backup %d" % (name, count, expected), "fix")
    vectors = vector_fields(schema)
    if not vectors or not expected:
        return {"rows": count, "searched": 0, "found_by": {}}
    skip = set(skipped_fields(schema))
    wanted = sorted(set([0, expected // 2, expected - 1][:samples]))
    rows = {}
    for i, scalars in enumerate(read_rows(os.path.join(data_dir, name, ROWS))):
        if i in wanted:
            rows[i] = dict((k, v) for k, v in scalars.items() if k not in skip)
    array = np.load(os.path.join(data_dir, name, vectors[0] + ".npy"), mmap_mode="r")
    found_by = {}
    for i in wanted:
        found_by[i] = found(milvus, schema, rows[i], vectors[0], np.asarray(array[i], dtype="<f4"))
        if found_by[i] is None:
            raise VectorError("row %d of %s is not in the restored collection" % (i, name), "fix")
    return {"rows": count, "searched": len(wanted), "found_by": found_by}


def restore_collection(milvus, plan, data_dir, workers, when, index_timeout):
    name = plan["name"]
    schema = read_schema(data_dir, name)
    kept = None
    if plan["action"] == "replace":
        kept = kept_name(name, when)
        milvus.rename_collection(name, kept)
        milvus.release_collection(kept)  # kept on disk, not in memory
    seconds, started = {}, [time.monotonic()]

    def lap(step):
        now = time.monotonic()
        seconds[step], started[0] = round(now - started[0], 1), now

    try:
        create_collection(milvus, schema)
        inserted = insert_all(milvus, schema, data_dir, workers, schema["rows"])
        milvus.flush(name)
        lap("insert_and_flush")
        wait_index(milvus, name, inserted, index_timeout)
        lap("index")
        milvus.load_collection(name)
        checked = verify(milvus, schema, data_dir, schema["rows"])
        lap("load_and_verify")
    except Exception as exc:
        problem = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        try:
            undo(milvus, name, kept)
            after = (f"the previous {name} is back in place") if kept else (f"the partial {name} was dropped")
        except Exception as second:
            after = "undoing failed too ({}); {}".format(
                (str(second).strip().splitlines() or [type(second).__name__])[0][:200],
                (f"the previous one is kept as {kept}: ods-fix milvus-restore --rollback puts it back")
                if kept
                else f"drop the partial {name} before trying again",
            )
        raise VectorError(f"restoring {name} failed: {problem}; {after}", "fix") from exc
    return {
        "name": name,
        "action": plan["action"],
        "kept": kept,
        "rows": checked["rows"],
        "searched": checked["searched"],
        "found_by": checked["found_by"],
        "seconds": seconds,
    }


def undo(milvus, name, kept):
    """Drop what a failed restore created and put the replaced collection back under its name."""
    if milvus.has_collection(name):
        milvus.drop_collection(name)
    if kept:
        milvus.rename_collection(kept, name)
        milvus.load_collection(name)


def restore(args):
    milvus = client()
    done = []
    try:
        for plan in args["plans"]:
            if plan["action"] == "none":
                continue
            done.append(
                restore_collection(milvus, plan, args["data_dir"], args["workers"], args["when"], args["index_timeout"])
            )
            say("restored", name=plan["name"])  # the module's journal: this one is complete, keep it
    except VectorError as exc:
        say("result", restored=done, error=str(exc), kind=exc.kind)
        return
    say("result", restored=done)


def recover(args):
    """Finish undoing restores the module's journal lists as unfinished (the agent API died, or the module was
    killed): by what exists, so that running it twice does nothing more. A kept copy still there means the swap
    ran: the collection under the name is the partial new one, dropped, and the kept one goes back. With no kept
    copy (a new collection), what is under the name is the partial one."""
    milvus = client()
    undone = []
    for item in args["items"]:
        name, kept = item["name"], item.get("kept")
        if kept and not milvus.has_collection(kept):
            continue  # the rename never ran, or the undo already put it back
        partial = milvus.has_collection(name)
        if not kept and not partial:
            continue
        if partial:
            milvus.drop_collection(name)
        if kept:
            milvus.rename_collection(kept, name)
            milvus.load_collection(name)
        undone.append({"name": name, "kept": kept, "dropped_partial": partial})
    say("result", undone=undone)


def kept_copies(milvus, names):
    existing = milvus.list_collections()
    return dict((name, sorted(c for c in existing if kept_copy_of(c) == name)) for name in names)


def with_kept_copies(milvus, names):
    return names or sorted(set(kept_copy_of(c) for c in milvus.list_collections()) - set([None]))


def rollback(args):
    """Swap each collection with its newest kept copy; the current one becomes a kept copy in turn."""
    milvus = client()
    names = with_kept_copies(milvus, args["collections"])
    swapped = []
    for name, copies in sorted(kept_copies(milvus, names).items()):
        if not copies:
            continue
        if not args["check"]:
            current = None
            if milvus.has_collection(name):
                current = kept_name(name, args["when"])
                milvus.rename_collection(name, current)
                milvus.release_collection(current)
            milvus.rename_collection(copies[-1], name)
            milvus.load_collection(name)
        swapped.append({"name": name, "from": copies[-1]})
    say("result", swapped=swapped)


def confirm(args):
    """Drop the copies earlier restores kept (the restore is confirmed)."""
    milvus = client()
    names = with_kept_copies(milvus, args["collections"])
    dropped = []
    for copies in kept_copies(milvus, names).values():
        for copy in copies:
            if not args["check"]:
                milvus.drop_collection(copy)
            dropped.append(copy)
    say("result", dropped=sorted(dropped))


ACTIONS = {
    "export": export,
    "plan": plan,
    "restore": restore,
    "rollback": rollback,
    "confirm": confirm,
    "recover": recover,
}


def main(args):
    try:
        ACTIONS[args["action"]](args)
    except VectorError as exc:
        say("result", error=str(exc), kind=exc.kind)
