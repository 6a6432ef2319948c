"""Benchmark: `ods-fix mysql-restore` against the manual's `docker exec -i <mysql> mysql < dump.sql`.

Run on purpose, not in CI:
    ods-fix sandbox up
    python bench/mysql_restore.py --make      # once: bench_restore, 5 tables, 10M rows, indexes; a ~1 GB dump
    python bench/mysql_restore.py             # then: both restores, same server, same run

Both restore the same dump into bench_restore. The manual's way streams it into one mysql client;
ods-fix checks it, splits it, loads it into a shadow schema in parallel sessions, verifies every
table's row count, swaps it in and records its checksums. Peak memory is sampled every 0.2 s over the
ods-fix process tree and the module doing the load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

from pyrunner.sandbox import stack

HERE = Path(__file__).resolve().parent
ODS_FIX = str(Path(sys.executable).parent / "ods-fix")
TABLES = ("customers", "orders", "order_items", "events", "audit_log")


def mysql_container() -> str:
    instance = stack.require_instance()
    return str(stack.project_containers(stack.docker_client(), instance.project)["mysql"].name)


def sql(container: str, statement: str) -> str:
    result = subprocess.run(
        ["docker", "exec", "-i", container, "mysql", "-N", "-B"],
        input=statement,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def counts(container: str) -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM bench_restore.{t}" for t in TABLES)
    return {line.split("\t")[0]: int(line.split("\t")[1]) for line in sql(container, query).splitlines()}


def indexes(container: str) -> list[str]:
    query = (
        "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = 'bench_restore' ORDER BY 1, 2, 3"
    )
    return sql(container, query).splitlines()


def make(container: str, dump: Path) -> None:
    print("generating bench_restore (10M rows) ...", flush=True)
    with (HERE / "make_restore_data.sql").open() as script:
        subprocess.run(["docker", "exec", "-i", container, "mysql"], stdin=script, check=True)
    print(f"dumping it to {dump} ...", flush=True)
    with dump.open("wb") as out:
        subprocess.run(
            ["docker", "exec", container, "mysqldump", "--single-transaction", "--databases", "bench_restore"],
            stdout=out,
            check=True,
        )


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(root: int) -> set[int]:
    pids = {root}
    changed = True
    while changed:
        changed = False
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                parent = int(proc.joinpath("stat").read_text().split(") ", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent in pids and int(proc.name) not in pids:
                pids.add(int(proc.name))
                changed = True
    return pids


def restore_module_pids() -> set[int]:
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if b"AnsiballZ_mysql_restore" in proc.joinpath("cmdline").read_bytes():
                found.add(int(proc.name))
        except OSError:
            continue
    return found


def run_ods_fix(dump: Path, workers: int) -> tuple[float, int, str]:
    cmd = [
        ODS_FIX,
        "mysql-restore",
        "--backup",
        str(dump),
        "--database",
        "bench_restore",
        "--yes",
        "--keep",
        "1",
        "--workers",
        str(workers),
    ]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            pids = tree(proc.pid) | restore_module_pids()
            peak = max(peak, sum(rss_kb(pid) for pid in pids))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.monotonic() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"ods-fix failed ({proc.returncode}):\n{output}")
    return seconds, peak, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", type=Path, default=Path("/tmp/ods-fix-bench/bench_restore.sql"))
    parser.add_argument("--make", action="store_true", help="generate the data and the dump first")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print ods-fix's own output too")
    args = parser.parse_args()
    container = mysql_container()
    if args.make or not args.dump.exists():
        args.dump.parent.mkdir(parents=True, exist_ok=True)
        make(container, args.dump)
    size_mb = args.dump.stat().st_size / 1048576
    expected = counts(container) if "bench_restore" in sql(container, "SHOW DATABASES") else None

    sql(container, "DROP DATABASE IF EXISTS bench_restore;")
    start = time.monotonic()
    with args.dump.open("rb") as dump:
        subprocess.run(["docker", "exec", "-i", container, "mysql"], stdin=dump, check=True)
    manual = time.monotonic() - start
    manual_counts = counts(container)
    manual_indexes = indexes(container)
    rows = sum(manual_counts.values())
    if expected is not None and manual_counts != expected:
        raise SystemExit(f"the manual restore lost rows: {manual_counts} != {expected}")

    # The journal remembers an earlier run's restore of this very dump: change one row, as a user's
    # database changes, so that ods-fix really restores instead of finding it already in place.
    sql(container, "UPDATE bench_restore.customers SET city = 'changed' WHERE id = 1;")
    seconds, peak_kb, output = run_ods_fix(args.dump, args.workers)
    if "restored bench_restore" not in output:
        raise SystemExit(f"ods-fix did not restore:\n{output}")
    if args.verbose:
        print(output)
    if counts(container) != manual_counts:
        raise SystemExit("ods-fix restored different row counts")
    if indexes(container) != manual_indexes:
        raise SystemExit(f"ods-fix restored different indexes: {indexes(container)} != {manual_indexes}")
    sql(container, "DROP DATABASE IF EXISTS bench_restore__restore;")
    print(f"dump: {size_mb:.0f} MB, {rows:,} rows in {len(TABLES)} tables (with indexes)")
    print(f"manual  (docker exec -i mysql mysql < dump.sql): {manual:6.1f} s  {rows / manual:9,.0f} rows/s")
    print(
        f"ods-fix (checks, split, {args.workers} workers, verify, swap): {seconds:6.1f} s  "
        f"{rows / seconds:9,.0f} rows/s"
    )
    print(f"speed-up: {manual / seconds:.2f}x (target >= 1.0, aim 1.5)   ods-fix peak RSS: {peak_kb / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
