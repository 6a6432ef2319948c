"""`ods-fix watch`: events in (the collection's compose_events source), doctor's root-cause fixes out."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import threading
import time
from types import FrameType
from typing import Any

import click

from pyrunner import paths, runner
from pyrunner.cli.app import CONTEXT, EXIT_CODES_HELP, cli
from pyrunner.cli.doctor import doctor_pass, loop_guard_options
from pyrunner.cli.fixes import pop_target, target_options
from pyrunner.errors import OdsFixError
from pyrunner.target import Target
from pyrunner.watch import Journal, Notifier, WatcherLock, check_notify_url, decisions, line, now, public_url

DEBOUNCE_S = 2.0  # a burst from one cause is one pass; short, so that a fix starts within seconds of a death
SOURCE_RETRY_S = 5.0


@cli.command("watch", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@target_options
@click.option(
    "--interval",
    type=click.IntRange(1),
    default=15,
    show_default=True,
    help="Seconds between looks at the containers, besides the engine's events.",
)
@click.option("--dry-run", is_flag=True, help="Decide and notify; change nothing.")
@click.option("--once", is_flag=True, help="Handle what is wrong now, then exit with doctor's exit code.")
@loop_guard_options
@click.option("--notify", metavar="URL", help="POST each decision as JSON to this http(s) URL (3 s timeout, 3 tries).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line on stdout for each event and decision.")
def watch_command(
    *,
    interval: int,
    dry_run: bool,
    once: bool,
    max_repeats: int,
    window_minutes: int,
    notify: str | None,
    as_json: bool,
    **where: Any,
) -> int:
    """Follow one stack's engine and fix, as doctor does, what breaks: only fixes that change no data run by
    themselves; restores, key rotation and the like are proposed with their command. A fix the loop guard
    refuses is escalated instead. Every event, decision and fix goes into the journal (watch.jsonl in the
    state home). SIGTERM or Ctrl-C stops it after the fix at work; a second Ctrl-C stops it at once.
    """
    if notify is not None:
        check_notify_url(notify)
    if where.pop("limit", None) or where.pop("inventory", None):
        raise OdsFixError("watch follows one stack on this machine: use --project-dir, --project-name or --sandbox")
    where.pop("forks", None)  # one stack: one host
    chosen = pop_target(dict(where, inventory=None)).resolve()
    lock = WatcherLock(paths.state_home() / "watch", f"{chosen.project_dir}|{chosen.project_name}")
    lock.take(chosen.describe())
    journal = Journal(paths.state_home() / "watch.jsonl")
    notifier = Notifier(notify, journal)
    common: dict[str, Any] = {"forks": None, "check": False, "diff": False, "verbose": 0, "role_vars": {}}

    def say(record: dict[str, Any]) -> None:
        click.echo(json.dumps(record, ensure_ascii=False, default=str) if as_json else line(record))

    def run_pass(cause: str) -> dict[str, Any]:
        document = doctor_pass(
            chosen,
            limit=None,
            apply=not dry_run,
            yes=True,  # doctor never runs a fix that needs --yes: this only spares the question
            max_repeats=max_repeats,
            window_minutes=window_minutes,
            common=dict(common, as_json=True),
        )
        records = decisions(document, dry_run)
        for record in records:
            record.update(at=now(), cause=cause)
            journal.write(record)
            notifier.send(record)
            say(record)
        journal.write(
            {"at": now(), "pass": cause, "exit_code": document["exit_code"], "diagnose": document["diagnose_run"]}
        )
        return document

    started = {"at": now(), "watch": chosen.describe(), "dry_run": dry_run, "once": once}
    if notify:
        started["notify"] = public_url(notify)
    journal.write(started)
    try:
        with Stopper() as stopper:
            first = run_pass("start")
            if once or stopper.stopping.is_set():
                return int(first["exit_code"]) if once else 0
            projects = sorted(set(p for p in first.get("projects", {}).values() if p))
            if not projects:
                raise OdsFixError(f"watch: diagnose could not name the Compose project of {chosen.describe()}")
            return follow(
                projects[0], chosen, interval=interval, journal=journal, say=say, run_pass=run_pass, stopper=stopper
            )
    finally:
        notifier.close()
        lock.release()


class Stopper:
    """SIGINT and SIGTERM while watch runs: the first lets the pass at work finish, a fix's run included, then
    watch stops; the second stops it at once (a fix's run is canceled, and lets go of the project's lock)."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.previous: dict[int, Any] = {}

    def take(self, number: int) -> bool:
        if self.stopping.is_set():
            return False
        self.stopping.set()
        click.echo(f"watch: {signal.Signals(number).name}: stopping after the fix at work", err=True)
        return True

    def on_signal(self, number: int, _frame: FrameType | None) -> None:
        if not self.take(number):
            raise KeyboardInterrupt

    def __enter__(self) -> Stopper:
        self.previous = {s: signal.signal(s, self.on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        runner.on_stop_signal = self.take  # during a fix's run, too
        return self

    def __exit__(self, *_exc: object) -> None:
        runner.on_stop_signal = None
        for number, handler in self.previous.items():
            signal.signal(number, handler)


def follow(
    project: str, chosen: Target, *, interval: int, journal: Journal, say: Any, run_pass: Any, stopper: Stopper
) -> int:
    """Run the event source on a thread; on each event (a burst is one), one doctor pass. Stops on a signal."""
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    stopping = stopper.stopping
    threading.Thread(target=run_source, args=(project, interval, events, stopping), daemon=True).start()
    click.echo(f"watch: following project {project} ({chosen.describe()}); Ctrl-C stops", err=True)
    while not stopping.is_set():
        try:
            waiting = [events.get(timeout=0.5)]
        except queue.Empty:
            continue
        while not events.empty():  # what came while the last pass ran is handled by one pass
            waiting.append(events.get_nowait())
        causes = []
        for event in waiting:
            if "source_error" in event:
                journal.write({"at": now(), **event})
                click.echo(f"watch: the event source stopped ({event['source_error']}); again in 5 s", err=True)
                continue
            body = event["ods_event"]
            journal.write({"at": now(), "event": body})
            said = [f"{s} {'/'.join(body['detail'][s]['kinds'])}" for s in body["services"]]
            say({"event": said, "at": body["at"]})
            causes += said
        if causes:
            run_pass("event: " + ", ".join(sorted(set(causes))))
    journal.write({"at": now(), "stopped": True})
    return 0


def run_source(project: str, interval: int, events: queue.Queue[dict[str, Any]], stopping: threading.Event) -> None:
    """The collection's compose_events source, as ansible-rulebook runs it (main(queue, args)), on this thread's
    own event loop; started again after a failure (the engine restarted, say)."""
    source = paths.event_source("compose_events")

    class Relay:
        async def put(self, event: dict[str, Any]) -> None:
            events.put(event)

    # What is wrong when it starts is sent too: what broke while the first pass ran is not lost.
    args = {"project": project, "interval": interval, "debounce": DEBOUNCE_S}
    while not stopping.is_set():
        try:
            asyncio.run(source.main(Relay(), args))
        except Exception as exc:  # said in the journal; then the source starts again
            events.put({"source_error": f"{type(exc).__name__}: {exc}"})
            time.sleep(SOURCE_RETRY_S)
