"""`ods-fix watch`: what a watcher keeps (its journal), tells (its notifications) and decides, apart from its loop.

Decisions come from doctor's document for one pass: a fix doctor applied is `fixed` (or `fix failed`); one the loop
guard refused is `escalated`; a fix that changes data is `proposed`, with its command, never run; a finding no fix
covers is `needs a human`. Under --dry-run, what doctor would apply is `would fix`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import queue
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from pyrunner.errors import OdsFixError

JOURNAL_MAX_BYTES = 5 * 1024 * 1024  # then the journal moves to watch.jsonl.1 (one old one kept)
NOTIFY_TIMEOUT_S = 3.0
NOTIFY_TRIES = 3


def public_url(url: str) -> str:
    """The URL without the credentials it may carry (user:password@), for the journal and the screen."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def check_notify_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OdsFixError(f"--notify {public_url(url) or '(empty)'}: not an http(s) URL with a host")
    return url


class Journal:
    """Every event, decision and fix, one JSON object a line, in a 0600 file; moved aside past 5 MB."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        try:
            if self.path.stat().st_size + len(line) > JOURNAL_MAX_BYTES:
                self.path.replace(self.path.with_suffix(".jsonl.1"))
        except FileNotFoundError:
            pass
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)


class Notifier:
    """Each decision POSTed as JSON to a URL, from a thread of its own: a slow or dead endpoint delays no fix."""

    def __init__(self, url: str | None, journal: Journal) -> None:
        self.url = url
        self.journal = journal
        self.pending: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.sender = threading.Thread(target=self._send_all, daemon=True)
        if url:
            self.sender.start()

    def send(self, record: dict[str, Any]) -> None:
        if self.url:
            self.pending.put(record)

    def close(self, wait_s: float = 5.0) -> None:
        """Let what is queued (and the one being sent) go out, for at most wait_s."""
        if self.url:
            self.pending.put(None)
            self.sender.join(wait_s)

    def _send_all(self) -> None:
        assert self.url is not None
        while (record := self.pending.get()) is not None:
            body = json.dumps(record, ensure_ascii=False, default=str).encode()
            for attempt in range(NOTIFY_TRIES):
                request = urllib.request.Request(
                    self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
                )
                try:
                    with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT_S):  # checked: http(s) only
                        break
                except OSError as exc:
                    if attempt == NOTIFY_TRIES - 1:
                        self.journal.write(
                            {"at": now(), "notify_failed": public_url(self.url), "error": type(exc).__name__}
                        )
                    else:
                        time.sleep(0.5 * (attempt + 1))


class WatcherLock:
    """One watcher per project: an flock on a file of its own, held while it runs (gone with its process)."""

    def __init__(self, directory: Path, key: str) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = directory / (hashlib.sha1(key.encode()).hexdigest()[:16] + ".pid")  # a file name, not a secret
        self.handle: TextIO | None = None

    def take(self, what: str) -> None:
        handle = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            handle.close()
            raise OdsFixError(f"another ods-fix watch (pid {pid}) follows {what}; stop it first") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self.handle = handle

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def decisions(document: dict[str, Any], dry_run: bool) -> list[dict[str, Any]]:
    """What this pass decided, one record per fix and host (and per finding left to a person)."""
    found: list[dict[str, Any]] = []
    for record in document.get("applied") or []:
        for host, outcome in (record.get("hosts") or {}).items():
            failed = outcome.get("status") not in ("ok", "changed")
            found.append(
                {
                    "decision": "fix failed" if failed else "fixed",
                    "host": host,
                    "fix": record["fix"],
                    "done": outcome.get("done") or [],
                    "error": outcome.get("error"),
                    "run_dir": record.get("run_dir"),
                }
            )
        for host, why in (record.get("refused") or {}).items():
            found.append({"decision": "escalated", "host": host, "fix": record["fix"], "why": why})
    for plan in document.get("after") or document.get("plan") or []:
        if plan.get("healthy"):
            found.append({"decision": "healthy", "host": plan["host"]})
    for plan in document.get("plan") or []:
        for step in plan.get("steps") or []:
            if step["runnable"]:
                if dry_run:
                    found.append({"decision": "would fix", "host": plan["host"], "fix": step["fix"]})
            elif step.get("command"):
                found.append(
                    {"decision": "proposed", "host": plan["host"], "command": step["command"], "why": step["note"]}
                )
            else:
                found.append(
                    {"decision": "needs a human", "host": plan["host"], "finding": step["finding"], "why": step["note"]}
                )
    return found


def line(record: dict[str, Any]) -> str:
    """A decision (or an event) as one line for the screen."""
    if "event" in record:
        return f"watch: event: {', '.join(record['event'])}"
    what = record["decision"]
    where = record.get("host", "")
    if what in ("fixed", "fix failed", "would fix"):
        tail = f"ods-fix {record['fix']}" + (f": {record['error']}" if record.get("error") else "")
    elif what == "healthy":
        tail = "every service answers"
    elif what == "escalated":
        tail = record["why"]
    elif what == "proposed":
        tail = f"{record['command']} ({record['why']})"
    else:
        tail = f"{record.get('finding', '')}: {record.get('why', '')}"
    return f"watch: {where}: {what}: {tail}"
