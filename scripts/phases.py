#!/usr/bin/env python3
"""Where each scenario's time went, from the lane logs scripts/test writes (each line stamped with its second).

usage: phases.py LANE_LOG_DIR
Molecule says `[scenario > phase] Executing` and `Executed` for each phase; the seconds between them are the
phase's (destroy runs twice: first, to clear what an interrupted run left, and last). A log without phases (the
bad-input catalog, a pytest run) is its total. The total is the run's seconds as scripts/test's `results` file
gives them (from its start to its end), else the first to the last stamped line. `cpu` is the CPU seconds of
the run's own processes (Molecule, Ansible, ods-fix; not its containers'), which scripts/test writes beside each
log. Prints one row per run, the longest first, the sum of each column last, and writes the same as phases.tsv
beside the logs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PHASES = ["create", "prepare", "check", "side_effect", "converge", "idempotence", "verify", "destroy"]
MARK = re.compile(r"^(\d+) INFO\s+\[[^>\]]+ > (\w+)\] (Executing|Executed)")
STAMP = re.compile(r"^(\d+) ")


def phases(log: Path) -> tuple[dict[str, int], int]:
    """({phase: seconds}, total seconds) of one stamped log."""
    spent: dict[str, int] = {}
    started: dict[str, int] = {}
    first = last = None
    for line in log.read_text(errors="replace").splitlines():
        stamp = STAMP.match(line)
        if not stamp:
            continue
        second = int(stamp.group(1))
        first = second if first is None else first
        last = second
        mark = MARK.match(line)
        if not mark:
            continue
        phase, event = mark.group(2), mark.group(3)
        if event == "Executing":
            started[phase] = second
        elif phase in started:
            spent[phase] = spent.get(phase, 0) + second - started.pop(phase)
    return spent, (last - first) if first is not None and last is not None else 0


def measured(directory: str) -> dict[str, int]:
    """{log path: seconds} from scripts/test's results file (name, exit code, seconds, log; tab-separated)."""
    results = Path(directory, "results")
    found = {}
    for line in results.read_text().splitlines() if results.exists() else []:
        fields = line.split("\t")
        if len(fields) == 4 and fields[2].isdigit():
            found[fields[3]] = int(fields[2])
    return found


def main(directory: str) -> int:
    rows = []
    seconds = measured(directory)
    for log in sorted(Path(directory).glob("*.log")):
        spent, total = phases(log)
        total = seconds.get(str(log), total)
        cpu = Path(f"{log}.cpu")
        if cpu.exists() and cpu.read_text().strip().isdigit():
            spent["cpu"] = int(cpu.read_text())
        rows.append((log.stem, spent, total))
    rows.sort(key=lambda row: -row[2])
    columns = [*PHASES, "cpu"]
    header = ["run", *columns, "total"]
    table = [header] + [[name, *(str(spent.get(p, "")) for p in columns), str(total)] for name, spent, total in rows]
    table.append(
        ["all runs", *(str(sum(s.get(p, 0) for _n, s, _t in rows)) for p in columns), str(sum(t for *_x, t in rows))]
    )
    width = max(len(r[0]) for r in table)
    for row in table:
        print(row[0].ljust(width), *(cell.rjust(max(len(p), 5)) for cell, p in zip(row[1:], header[1:], strict=True)))
    Path(directory, "phases.tsv").write_text("\n".join("\t".join(row) for row in table) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
