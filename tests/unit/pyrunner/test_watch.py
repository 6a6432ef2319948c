"""ods-fix watch's journal, notifications, single-watcher lock and decisions (pyrunner/watch.py)."""

from __future__ import annotations

import http.server
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pyrunner import runner, watch
from pyrunner.cli.watch import Stopper
from pyrunner.errors import OdsFixError


def test_the_journal_is_0600_one_object_a_line_and_moves_aside_when_big(tmp_path: Path, monkeypatch: Any) -> None:
    journal = watch.Journal(tmp_path / "state" / "watch.jsonl")
    journal.write({"event": "mysql down"})
    journal.write({"decision": "fixed"})
    assert journal.path.stat().st_mode & 0o777 == 0o600
    assert [json.loads(line) for line in journal.path.read_text().splitlines()] == [
        {"event": "mysql down"},
        {"decision": "fixed"},
    ]
    monkeypatch.setattr(watch, "JOURNAL_MAX_BYTES", 40)
    journal.write({"decision": "escalated"})
    assert json.loads(journal.path.read_text()) == {"decision": "escalated"}
    assert "mysql down" in (tmp_path / "state" / "watch.jsonl.1").read_text()


@pytest.mark.parametrize("url", ["ftp://host/x", "http://", "127.0.0.1:9000", "", "file:///etc/passwd"])
def test_a_notify_url_that_is_not_http_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(OdsFixError, match=r"not an http\(s\) URL with a host"):
        watch.check_notify_url(url)


def test_the_url_s_credentials_never_reach_the_journal() -> None:
    assert watch.public_url("https://bot:s3cret@hooks.example:8443/ods?token=abc") == "https://hooks.example:8443/ods"


class Keep(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        Keep.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_each_decision_is_posted_and_a_dead_endpoint_blocks_nothing(tmp_path: Path) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), Keep)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    journal = watch.Journal(tmp_path / "watch.jsonl")
    alive = watch.Notifier(f"http://127.0.0.1:{server.server_port}/ods", journal)
    alive.send({"decision": "fixed", "fix": "mysql-connect"})
    alive.close()
    server.shutdown()
    assert Keep.received == [{"decision": "fixed", "fix": "mysql-connect"}]
    dead = watch.Notifier(f"http://user:pw@127.0.0.1:{server.server_port}/ods", journal)
    started = time.monotonic()
    dead.send({"decision": "escalated"})
    assert time.monotonic() - started < 0.5  # the caller never waits for the endpoint
    dead.close()
    failed = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert failed[-1]["notify_failed"] == f"http://127.0.0.1:{server.server_port}/ods" and "pw" not in str(failed)


def test_one_watcher_per_project(tmp_path: Path) -> None:
    first = watch.WatcherLock(tmp_path, "/srv/ods|")
    first.take("the project in /srv/ods")
    assert first.path.stat().st_mode & 0o777 == 0o600
    second = watch.WatcherLock(tmp_path, "/srv/ods|")
    with pytest.raises(OdsFixError, match=r"another ods-fix watch \(pid [0-9]+\) follows the project in /srv/ods"):
        second.take("the project in /srv/ods")
    watch.WatcherLock(tmp_path, "/srv/other|").take("another project")  # another project: its own lock
    first.release()
    second.take("the project in /srv/ods")


DOCUMENT = {
    "plan": [
        {
            "host": "dev-1",
            "healthy": False,
            "steps": [
                {"fix": "mysql-connect", "finding": "stopped:mysql", "runnable": True, "command": "", "note": ""},
                {"fix": "", "finding": "x:y", "runnable": False, "command": "", "note": "no automated fix"},
                {
                    "fix": "mysql-restore",
                    "finding": "z:mysql",
                    "runnable": False,
                    "command": "ods-fix mysql-restore --limit dev-1 --yes ...",
                    "note": "changes data: doctor never runs it",
                },
            ],
        }
    ],
    "applied": [
        {"fix": "mysql-connect", "hosts": {"dev-1": {"status": "changed", "done": ["start mysql"]}}, "refused": {}},
        {"fix": "api-slow", "hosts": {}, "refused": {"dev-1": "loop guard: doctor applied api-slow 2 times"}},
    ],
    "after": [{"host": "dev-1", "healthy": True, "steps": []}],
}


def test_decisions_from_doctor_s_document() -> None:
    found = watch.decisions(DOCUMENT, dry_run=False)
    assert [(d["decision"], d.get("fix") or d.get("command") or d.get("finding")) for d in found] == [
        ("fixed", "mysql-connect"),
        ("escalated", "api-slow"),
        ("healthy", None),
        ("needs a human", "x:y"),
        ("proposed", "ods-fix mysql-restore --limit dev-1 --yes ..."),
    ]
    assert [watch.line(d) for d in found][:2] == [
        "watch: dev-1: fixed: ods-fix mysql-connect",
        "watch: dev-1: escalated: loop guard: doctor applied api-slow 2 times",
    ]
    dry = watch.decisions({"plan": DOCUMENT["plan"]}, dry_run=True)
    assert dry[0] == {"decision": "would fix", "host": "dev-1", "fix": "mysql-connect"}
    assert watch.line({"event": ["mysql down"]}) == "watch: event: mysql down"


def test_the_first_stop_signal_lets_the_fix_at_work_finish_and_the_second_stops_at_once() -> None:
    with Stopper() as stopper:
        assert runner.on_stop_signal == stopper.take  # a fix's run hands the signal over
        assert stopper.take(signal.SIGTERM) and stopper.stopping.is_set()
        assert not stopper.take(signal.SIGTERM)  # the second: the run is canceled
        with pytest.raises(KeyboardInterrupt):
            stopper.on_signal(signal.SIGINT, None)
    assert runner.on_stop_signal is None
