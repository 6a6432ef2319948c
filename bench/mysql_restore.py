"""Benchmark: `ods-fix mysql-restore` against the manual's `docker exec -i <mysql> mysql < dump.sql`.

Run on purpose, not in CI:
    ods-fix sandbox up
    python bench/mysql_restore.py --make     # once: both data sets and their dumps (about 1 GB each)
    python bench/mysql_restore.py           # both data sets; --skewed (or --balanced) for one

Two data sets of 10,000,000 rows in 5 tables with 9 secondary indexes, dumped with the sandbox's mysqldump:
- balanced (bench_restore): the rows spread over the tables (3.5M, 3.5M, 2M, 0.5M, 0.5M);
- skewed (bench_skewed): one table holds 85% of them (8.5M).

For each, the manual's way and ods-fix restore the same dump into the same server, alternately, for
--rounds rounds; the ratio is the manual's median over ods-fix's. The manual's way drops the database and
streams the dump into one mysql client. ods-fix is the whole `ods-fix mysql-restore --yes` run: checks, split,
load into the shadow schema, counts, checksums, the APIs stopped, the swap, the APIs started and healthy.
After each, every table's row count and index list must equal the source's. Peak memory is sampled every
0.2 s over the ods-fix process tree and the module doing the load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pyrunner.sandbox import stack

HERE = Path(__file__).resolve().parent
ODS_FIX = str(Path(sys.executable).parent / "ods-fix")
TABLES = ("customers", "orders", "order_items", "events", "audit_log")


@dataclass
class Dataset:
    name: str
    database: str
    script: str


DATASETS = {
    "balanced": Dataset("balanced", "bench_restore", "make_restore_data.sql"),
    "skewed": Dataset("skewed", "bench_skewed", "make_restore_skewed.sql"),
}


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


def counts(container: str, database: str) -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {database}.{t}" for t in TABLES)
    return {line.split("\t")[0]: int(line.split("\t")[1]) for line in sql(container, query).splitlines()}


def indexes(container: str, database: str) -> list[str]:
    query = (
        "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS "
        f"WHERE TABLE_SCHEMA = '{database}' ORDER BY 1, 2, 3"
    )
    return sql(container, query).splitlines()


def make(container: str, data: Dataset, dump: Path) -> None:
    print(f"generating {data.database} (10M rows) ...", flush=True)
    with (HERE / data.script).open() as script:
        subprocess.run(["docker", "exec", "-i", container, "mysql"], stdin=script, check=True)
    print(f"dumping it to {dump} ...", flush=True)
    with dump.open("wb") as out:
        subprocess.run(
            ["docker", "exec", container, "mysqldump", "--single-transaction", "--databases", data.database],
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


@dataclass
class OdsRun:
    seconds: float
    peak_kb: int
    apis_down_s: float | None
    load_s: float | None
    tables: dict[str, str]


def run_manual(container: str, data: Dataset, dump: Path) -> float:
    sql(container, f"DROP DATABASE IF EXISTS {data.database};")
    start = time.monotonic()
    with dump.open("rb") as handle:
        subprocess.run(["docker", "exec", "-i", container, "mysql"], stdin=handle, check=True)
    return time.monotonic() - start


def run_ods_fix(container: str, data: Dataset, dump: Path, workers: int, verbose: bool) -> OdsRun:
    # The journal remembers the last restore of this very dump: change one row, as a user's database changes,
    # so that ods-fix really restores instead of finding the dump already in place.
    sql(container, f"UPDATE {data.database}.customers SET city = 'changed' WHERE id = 1;")
    cmd = [ODS_FIX, "mysql-restore", "--sandbox", "--backup", str(dump), "--database", data.database, "--yes", "--json"]
    cmd += ["--keep", "1", "--workers", str(workers)]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
    output, errors = proc.communicate()
    seconds = time.monotonic() - start
    done.set()
    sampler.join()
    if verbose:
        print(errors)
    if proc.returncode != 0:
        raise SystemExit(f"ods-fix failed ({proc.returncode}):\n{errors}\n{output}")
    host = json.loads(output)["hosts"]["sandbox"]
    details = (host.get("report") or {}).get("details") or {}
    load = details.get("load") or {}
    down = details.get("apis_down_s")
    return OdsRun(
        seconds,
        peak,
        float(down) if down not in (None, "") else None,
        float(load["seconds"]) if load.get("seconds") not in (None, "") else None,
        load.get("tables") or {},
    )


def bench(container: str, data: Dataset, args: argparse.Namespace) -> dict:
    directory, remake, rounds, workers, verbose = args.dir, args.make, args.rounds, args.workers, args.verbose
    dump = directory / f"{data.database}.sql"
    if remake or not dump.exists():
        dump.parent.mkdir(parents=True, exist_ok=True)
        make(container, data, dump)
    exists = data.database in sql(container, "SHOW DATABASES").split()
    expected = (counts(container, data.database), indexes(container, data.database)) if exists else None
    manual, ods = [], []
    for round_number in range(1, rounds + 1):
        seconds = run_manual(container, data, dump)
        found = (counts(container, data.database), indexes(container, data.database))
        if expected is None:
            expected = found
        if found != expected:
            raise SystemExit(f"{data.name}: the manual restore gave other rows or indexes: {found} != {expected}")
        manual.append(seconds)
        print(f"{data.name} round {round_number}: manual  {seconds:6.1f} s", flush=True)
        run = run_ods_fix(container, data, dump, workers, verbose)
        if (counts(container, data.database), indexes(container, data.database)) != expected:
            raise SystemExit(f"{data.name}: ods-fix restored other rows or indexes")
        ods.append(run)
        print(
            f"{data.name} round {round_number}: ods-fix {run.seconds:6.1f} s (load {run.load_s} s, "
            f"APIs down {run.apis_down_s} s, peak RSS {run.peak_kb / 1024:.0f} MB)",
            flush=True,
        )
    rows = sum(expected[0].values())
    manual_s = statistics.median(manual)
    ods_s = statistics.median(r.seconds for r in ods)
    return {
        "data": data.name,
        "dump_mb": dump.stat().st_size / 1048576,
        "rows": rows,
        "biggest": max(expected[0].values()) / rows,
        "manual": manual,
        "ods": [r.seconds for r in ods],
        "manual_s": manual_s,
        "ods_s": ods_s,
        "ratio": manual_s / ods_s,
        "apis_down_s": statistics.median(r.apis_down_s for r in ods if r.apis_down_s is not None)
        if any(r.apis_down_s is not None for r in ods)
        else None,
        "peak_mb": max(r.peak_kb for r in ods) / 1024,
        "tables": ods[-1].tables,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--skewed", action="store_true", help="only the skewed data set (one table, 85%% of rows)")
    which.add_argument("--balanced", action="store_true", help="only the balanced data set")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ods-fix-bench"), help="where the dumps are kept")
    parser.add_argument("--make", action="store_true", help="generate the data and the dumps again")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of manual, then ods-fix (default 2)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print ods-fix's own output too")
    args = parser.parse_args()
    container = mysql_container()
    # Each manual restore writes its 1 GB into the binary log (the sandbox keeps it: expire_logs_days = 0);
    # every run starts from the same state.
    sql(container, "PURGE BINARY LOGS BEFORE NOW();")
    names = ["skewed"] if args.skewed else ["balanced"] if args.balanced else ["balanced", "skewed"]
    results = [bench(container, DATASETS[name], args) for name in names]
    for name in names:
        sql(container, f"DROP DATABASE IF EXISTS {DATASETS[name].database}__restore;")
    print()
    print("| data | dump | manual (`mysql < dump.sql`) | ods-fix `mysql-restore` | ratio | APIs down | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['data']} ({r['biggest']:.0%} of {r['rows']:,} rows in one table) | {r['dump_mb']:.0f} MB "
            f"| {r['manual_s']:.1f} s ({', '.join(f'{s:.1f}' for s in r['manual'])}) "
            f"| {r['ods_s']:.1f} s ({', '.join(f'{s:.1f}' for s in r['ods'])}) "
            f"| **{r['ratio']:.2f}x** | {r['apis_down_s']:.1f} s | {r['peak_mb']:.0f} MB |"
        )
    for r in results:
        print(f"{r['data']}: tables loaded with {r['tables']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
