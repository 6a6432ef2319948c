"""perf's parsing (module_utils/stack/perf.py): top, ps, /proc/<pid>/io snapshots."""

from __future__ import annotations

from ansible_collections.ods.fix.plugins.module_utils.stack import perf

TOP = """top - 10:00:00 up 1 day
PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND
  1 root      20   0   10000   5000   1000 S   0.0   0.1   0:01.00 python server.py
  7 root      20   0   10000   5000   1000 R  50.0   0.1   0:09.00 python -c while True: pass

top - 10:00:01 up 1 day
PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND
  1 root      20   0   10000   5000   1000 S   1.0   0.1   0:01.00 python server.py
  7 root      20   0   10000   5000   1000 R  99.7   0.1   0:10.00 python -c while True: pass
"""


def test_top_is_read_from_its_last_iteration() -> None:
    procs = perf.parse_top(TOP)
    assert procs[0] == {"pid": 7, "cpu": 99.7, "mem": 0.1, "command": "python -c while True: pass"}


def test_ps_rss_in_megabytes() -> None:
    text = "  PID   RSS COMMAND\n    7 460800 python -c hog\n    1 20480 python server.py\n"
    assert perf.parse_ps_rss(text)[0] == {"pid": 7, "rss_mb": 450.0, "command": "python -c hog"}


def test_io_rates_per_service_and_process() -> None:
    readings = {10: [(0, "mariadbd"), (10 * 1048576, "mariadbd")], 11: [(5, "sh"), (5, "sh")]}
    reader = lambda pid: readings[pid].pop(0)  # noqa: E731
    rates = perf.io_rates({"mysql": [10, 11], "web": []}, 2, reader=reader, sleep=lambda _: None)
    assert rates["mysql"] == {"write_mb_s": 5.0, "writers": [{"pid": 10, "command": "mariadbd", "write_mb_s": 5.0}]}
    assert rates["web"] is None
