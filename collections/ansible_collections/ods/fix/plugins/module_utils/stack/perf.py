# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Parsing for performance triage: top, ps, /proc/<pid>/io snapshots, docker stats (pure, unit-tested)."""

import time


def parse_top(text, limit=3):
    """Processes from the last iteration of `top -b -c -n 2`: [{pid, cpu, mem, command}], busiest first."""
    blocks = text.split("\ntop - ")
    lines = blocks[-1].splitlines()
    header = next((i for i, line in enumerate(lines) if line.strip().startswith("PID")), None)
    if header is None:
        return []
    columns = lines[header].split()
    try:
        cpu_at, mem_at, cmd_at = columns.index("%CPU"), columns.index("%MEM"), columns.index("COMMAND")
    except ValueError:
        return []
    procs = []
    for line in lines[header + 1 :]:
        fields = line.split(None, cmd_at)
        if len(fields) <= cmd_at:
            continue
        try:
            procs.append(
                {
                    "pid": int(fields[0]),
                    "cpu": float(fields[cpu_at].replace(",", ".")),
                    "mem": float(fields[mem_at].replace(",", ".")),
                    "command": fields[cmd_at].strip()[:160],
                }
            )
        except ValueError:
            continue
    procs.sort(key=lambda p: -p["cpu"])
    return procs[:limit]


def parse_ps_rss(text, limit=3):
    """`ps -eo pid,rss,args --sort=-rss` -> [{pid, rss_mb, command}]."""
    procs = []
    for line in text.splitlines()[1:]:
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[0].isdigit():
            procs.append(
                {"pid": int(fields[0]), "rss_mb": round(int(fields[1]) / 1024.0, 1), "command": fields[2].strip()[:160]}
            )
    return procs[:limit]


def read_proc_io(pid):
    """(write_bytes, command) of a host process, or None when it is gone or not readable."""
    try:
        with open("/proc/%d/io" % pid) as handle:
            written = next(int(line.split()[1]) for line in handle if line.startswith("write_bytes:"))
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()[:120]
        return written, command
    except (OSError, StopIteration, ValueError):
        return None


def container_pids(container):
    """Host PIDs of a container's processes (docker top)."""
    top = container.top()
    at = top["Titles"].index("PID")
    return [int(row[at]) for row in top.get("Processes") or []]


def io_rates(pids_by_service, seconds, reader=read_proc_io, sleep=None, limit=3):
    """Per service: {write_mb_s, writers: [{pid, command, write_mb_s}]}, from two /proc/<pid>/io readings.

    The same as `iotop -o`, from the host: inside a container /proc/<pid>/io
    of another user's process is not readable. None for a service whose
    processes cannot be read (not root on the target).
    """
    first = dict((s, dict((p, reader(p)) for p in pids)) for s, pids in pids_by_service.items())
    (sleep or time.sleep)(seconds)
    rates = {}
    for service, pids in pids_by_service.items():
        readable = [p for p in pids if first[service].get(p) is not None]
        if not readable:
            rates[service] = None
            continue
        writers = []
        for pid in readable:
            now = reader(pid)
            if now is None:
                continue
            delta = now[0] - first[service][pid][0]
            if delta > 0:
                writers.append({"pid": pid, "command": now[1], "write_mb_s": round(delta / 1048576.0 / seconds, 2)})
        writers.sort(key=lambda w: -w["write_mb_s"])
        rates[service] = {"write_mb_s": round(sum(w["write_mb_s"] for w in writers), 2), "writers": writers[:limit]}
    return rates


def engine_processes(container, key, limit=3):
    """The container's processes from the engine (`docker top`), for images without ps or top.

    key "cpu": [{pid, cpu, mem, command}] by ps's %CPU (CPU time over the process's life; a busy loop shows
    about 100); key "rss": [{pid, rss_mb, command}] by resident memory.
    """
    listing = container.top(ps_args="-eo pid,pcpu,pmem,rss,args")
    titles = [t.upper() for t in listing.get("Titles") or []]
    procs = []
    for row in listing.get("Processes") or []:
        item = dict(zip(titles, row, strict=False))
        try:
            procs.append(
                {
                    "pid": int(item["PID"]),
                    "cpu": float(item.get("%CPU", 0)),
                    "mem": float(item.get("%MEM", 0)),
                    "rss_mb": round(int(item.get("RSS", 0)) / 1024.0, 1),
                    "command": (item.get("COMMAND") or item.get("ARGS") or "").strip()[:160],
                }
            )
        except (KeyError, ValueError):
            continue
    field = "cpu" if key == "cpu" else "rss_mb"
    procs.sort(key=lambda p: -p[field])
    if key == "cpu":
        return [dict((k, p[k]) for k in ("pid", "cpu", "mem", "command")) for p in procs[:limit]]
    return [dict((k, p[k]) for k in ("pid", "rss_mb", "command")) for p in procs[:limit]]
