"""Benchmark: `ods-fix diagnose` against the manual's commands typed as a shell script.

Run on purpose, not in CI:  ods-fix sandbox up && python bench/diagnose.py [--runs 5]
Both sides run against the same sandbox in the same run, alternately; the
ratio is ods-fix's median over the script's (target: <= 1.0).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pyrunner.sandbox import compose, stack

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    instance = stack.require_instance()
    cli = compose.detect(instance.compose)
    manual = [str(HERE / "manual_diagnose.sh"), str(instance.directory), " ".join(cli.argv)]
    ods_fix = [str(Path(sys.executable).parent / "ods-fix"), "diagnose", "--sandbox"]
    timed(ods_fix)  # warm the page cache and Ansible's module cache once
    manual_times, ods_times = [], []
    for run in range(args.runs):
        manual_times.append(timed(manual))
        ods_times.append(timed(ods_fix))
        print(f"run {run + 1}: manual {manual_times[-1]:.2f}s   ods-fix {ods_times[-1]:.2f}s", flush=True)
    m, o = statistics.median(manual_times), statistics.median(ods_times)
    print(f"\nCompose {cli.flavor} ({cli.version}), {args.runs} runs, medians:")
    print(f"  manual commands (bench/manual_diagnose.sh): {m:.2f}s")
    print(f"  ods-fix diagnose:                           {o:.2f}s")
    print(f"  ratio ods-fix / manual: {o / m:.2f}  (target <= 1.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
