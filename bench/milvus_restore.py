"""Benchmark: `ods-fix milvus-restore` against a plain pymilvus insert loop, 200k vectors of dimension 768.

Run on purpose, not in CI:
    ods-fix sandbox up
    python bench/milvus_restore.py --make     # once: a 200k x 768 backup (about 620 MB), made in bisheng-api
    python bench/milvus_restore.py            # then: both restores, same Milvus, same run

Both end in the same state: collection bench_vectors with the same schema and HNSW index, every row
inserted, flushed, indexed and loaded. The plain loop is what the pymilvus docs show: `client.insert` of
1000-row batches of dicts, then flush, wait for the index, load; its data is read from the same backup,
already inside the container and not timed. ods-fix's time is the whole command: the file checked on this
machine, the plan, the inserts, flush, index, load, and the verification (count, sample searches).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from pyrunner.sandbox import stack

ODS_FIX = str(Path(sys.executable).parent / "ods-fix")
NAME = "bench_vectors"
IN_CONTAINER = "/tmp/ods-fix-bench"
# The format's own code (Digest, npy_header, FORMAT), run in bisheng-api to make the backup.
VECTOR_FORMAT = (
    Path(__file__).resolve().parent.parent
    / "collections/ansible_collections/ods/fix/plugins/module_utils/vector/backup_format.py"
).read_text()

MAKE = r"""
import gzip, hashlib, io, json, os, tarfile
import numpy as np

rows, dim = ROWS, DIM
rng = np.random.default_rng(7)
vectors = rng.random((rows, dim), dtype=np.float32)
texts = ["chunk %d of a knowledge-base document, as bisheng stores it" % i for i in range(rows)]
metadata = [{"n": i, "source": "file-%d.pdf" % (i % 97), "page": i % 300} for i in range(rows)]
digest = Digest(["id"])
lines = []
for i in range(rows):
    scalars = {"id": 450000000000000000 + i, "text": texts[i], "metadata": metadata[i]}
    lines.append(json.dumps(scalars, separators=(",", ":")))
    digest.add(scalars, [vectors[i].tobytes()])
schema = {
    "name": "NAME", "description": "", "auto_id": True, "enable_dynamic_field": False, "consistency_level": 2,
    "rows": rows,
    "fields": [
        {"name": "id", "type": "INT64", "params": {}, "is_primary": True, "auto_id": True},
        {"name": "text", "type": "VARCHAR", "params": {"max_length": 65535}, "is_primary": False, "auto_id": False},
        {"name": "embedding", "type": "FLOAT_VECTOR", "params": {"dim": dim}, "is_primary": False, "auto_id": False},
        {"name": "metadata", "type": "JSON", "params": {}, "is_primary": False, "auto_id": False},
    ],
    "indexes": [{"field": "embedding", "index_name": "embedding", "index_type": "HNSW", "metric_type": "L2",
                 "params": {"M": 16, "efConstruction": 64}}],
}
members = {
    "NAME/schema.json": json.dumps(schema, indent=2, sort_keys=True).encode(),
    "NAME/rows.jsonl.gz": gzip.compress(("\n".join(lines) + "\n").encode(), 6),
    "NAME/embedding.npy": npy_header(rows, dim) + vectors.tobytes(),
}
manifest = {"format": FORMAT, "created": "bench", "milvus_version": "", "collections": [{
    "name": "NAME", "rows": rows, "counted": rows, "dims": {"embedding": dim},
    "content_digest": digest.hexdigest(),
    "files": {k: hashlib.sha256(v).hexdigest() for k, v in members.items()}}]}
members["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
out = os.fdopen(1, "wb")
with tarfile.open(fileobj=out, mode="w|") as tar:
    for name, data in members.items():
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o600
        tar.addfile(info, io.BytesIO(data))
"""

PLAIN = r"""
import gzip, json, sys, time
import numpy as np
from pymilvus import DataType
from services import VectorStore

client = VectorStore(timeout=600).client
vectors = np.load("DIR/NAME/embedding.npy", mmap_mode="r")
rows = [json.loads(line) for line in gzip.open("DIR/NAME/rows.jsonl.gz", "rt")]
started = time.monotonic()
schema = client.create_schema(auto_id=True, enable_dynamic_field=False)
schema.add_field("id", DataType.INT64, is_primary=True)
schema.add_field("text", DataType.VARCHAR, max_length=65535)
schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
schema.add_field("metadata", DataType.JSON)
index = client.prepare_index_params()
index.add_index("embedding", index_type="HNSW", metric_type="L2", params={"M": 16, "efConstruction": 64})
client.create_collection("NAME", schema=schema, index_params=index)
for start in range(0, len(rows), 1000):
    batch = [{"text": r["text"], "embedding": vectors[start + i].tolist(), "metadata": r["metadata"]}
             for i, r in enumerate(rows[start:start + 1000])]
    client.insert("NAME", batch)
client.flush("NAME")
inserted = time.monotonic() - started
def indexing(info):
    return int(info["indexed_rows"]) < len(rows) or int(info.get("pending_index_rows", 0)) > 0
while indexing(client.describe_index("NAME", "embedding")):
    time.sleep(1)
client.load_collection("NAME")
print(json.dumps({"seconds": time.monotonic() - started, "insert_seconds": inserted, "rows": len(rows)}))
"""


def bisheng() -> str:
    instance = stack.require_instance()
    return str(stack.project_containers(stack.docker_client(), instance.project)["bisheng-api"].name)


def python_in(container: str, program: str, stdout: int | None = None) -> str:
    result = subprocess.run(
        ["docker", "exec", "-i", container, "python", "-"],
        input=program.encode(),
        stdout=stdout if stdout is not None else subprocess.PIPE,
        check=True,
    )
    return (result.stdout or b"").decode()


def drop(container: str) -> None:
    python_in(
        container,
        "from services import VectorStore\nc = VectorStore().client\n"
        f"[c.drop_collection(n) for n in c.list_collections() if n == '{NAME}' or n.startswith('{NAME}_replaced_')]\n",
    )


def make(container: str, backup: Path, rows: int, dim: int) -> None:
    print(f"generating {rows} x {dim} vectors in {container} into {backup} ...", flush=True)
    program = VECTOR_FORMAT + MAKE.replace("ROWS", str(rows)).replace("DIM", str(dim)).replace("NAME", NAME)
    with backup.open("wb") as out:
        subprocess.run(
            ["docker", "exec", "-i", container, "python", "-"], input=program.encode(), stdout=out, check=True
        )
    backup.chmod(0o600)


def plain(container: str, backup: Path) -> dict[str, float]:
    drop(container)
    subprocess.run(["docker", "exec", container, "mkdir", "-p", IN_CONTAINER], check=True)
    with backup.open("rb") as data:
        subprocess.run(["docker", "exec", "-i", container, "tar", "-x", "-C", IN_CONTAINER], stdin=data, check=True)
    try:
        return json.loads(python_in(container, PLAIN.replace("DIR", IN_CONTAINER).replace("NAME", NAME)))
    finally:
        subprocess.run(["docker", "exec", container, "rm", "-rf", IN_CONTAINER], check=True)


def ods_fix(container: str, backup: Path) -> dict[str, float]:
    drop(container)
    started = time.monotonic()
    result = subprocess.run(
        [ODS_FIX, "milvus-restore", "--sandbox", "--backup", str(backup), "--yes", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"ods-fix milvus-restore failed ({result.returncode}): {result.stdout[-2000:]}{result.stderr[-2000:]}")
    restored = json.loads(result.stdout)["hosts"]["sandbox"]["report"]["details"]["restored"][0]
    return {"seconds": seconds, "rows": restored["rows"], "steps": restored["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backup", type=Path, default=Path("/tmp/bench/milvus_bench.tar"))
    parser.add_argument("--make", action="store_true", help="Generate the backup first.")
    parser.add_argument("--rows", type=int, default=200000)
    parser.add_argument("--dim", type=int, default=768)
    args = parser.parse_args()
    container = bisheng()
    if args.make or not args.backup.exists():
        args.backup.parent.mkdir(parents=True, exist_ok=True)
        make(container, args.backup, args.rows, args.dim)
    size_mb = args.backup.stat().st_size / 1048576
    print(f"backup {args.backup}: {size_mb:.0f} MB", flush=True)
    print("plain pymilvus loop (1000-row batches of dicts, flush, index, load) ...", flush=True)
    loop = plain(container, args.backup)
    print(f"  {loop['seconds']:.1f} s ({loop['insert_seconds']:.1f} s inserting and flushing)", flush=True)
    print("ods-fix milvus-restore --yes ...", flush=True)
    ours = ods_fix(container, args.backup)
    steps = ", ".join(f"{step} {value} s" for step, value in ours["steps"].items())
    print(f"  {ours['seconds']:.1f} s ({steps}; the rest: checks, plan, copy into bisheng-api)", flush=True)
    drop(container)
    rows = args.rows
    print()
    print(f"{'way':<34}{'seconds':>9}{'rows/s':>10}")
    print(f"{'plain pymilvus insert loop':<34}{loop['seconds']:>9.1f}{rows / loop['seconds']:>10.0f}")
    print(f"{'ods-fix milvus-restore':<34}{ours['seconds']:>9.1f}{rows / ours['seconds']:>10.0f}")
    print(f"ratio (plain / ods-fix): {loop['seconds'] / ours['seconds']:.2f}x")
    insert_ours = ours["steps"]["insert_and_flush"]
    print(
        f"inserting and flushing only: plain {rows / loop['insert_seconds']:.0f} rows/s, "
        f"ods-fix {rows / insert_ours:.0f} rows/s: {loop['insert_seconds'] / insert_ours:.2f}x"
    )


if __name__ == "__main__":
    main()
