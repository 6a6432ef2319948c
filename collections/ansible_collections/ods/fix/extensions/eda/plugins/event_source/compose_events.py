# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""compose_events: what goes wrong in one Compose project, as events, for ansible-rulebook and `ods-fix watch`.

From the Docker engine's event stream, filtered to the project's containers: a container that died (with its
exit code, and whether it was asked to stop), was killed for lack of memory, turned unhealthy, or keeps dying (a
restart loop). Every `interval` seconds, and once at the start, the project's containers are looked at too, so
that what broke while nobody listened (or what the stream missed) is sent as well.

A burst of events from one cause (mysql stops, the APIs turn unhealthy after it) is one event: each event is held
`debounce` seconds, and what comes meanwhile joins it. An event carries service names, exit codes and health
states; never a setting's value.

Arguments:
  project: the Compose project's name (required)
  docker_host: the engine's URL (default: the environment's, as the docker CLI)
  interval: seconds between looks at the containers (default 15)
  debounce: seconds a burst is gathered into one event (default 5)
  loop_restarts: deaths within loop_window that make a restart loop (default 3)
  loop_window: seconds (default 600)

Example:
  sources:
    - ods.fix.compose_events:
        project: one-data-studio
        interval: 15

Each event is {"ods_event": {"project", "services": [...], "kinds": [...], "detail": {service: {...}}, "at"}}.
"""

import asyncio
import threading
import time

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
# What a stop asked for looks like in the stream before the die: the engine's kill (SIGTERM first, then SIGKILL).
ASKED = ("kill", "stop")
ASKED_WITHIN = 15.0


class Tracker:
    """The state classify needs across events: recent deaths per service, and stops that were asked for."""

    def __init__(self, loop_restarts=3, loop_window=600.0):
        self.loop_restarts = loop_restarts
        self.loop_window = loop_window
        self.deaths = {}
        self.asked = {}

    def died(self, service, now):
        recent = [t for t in self.deaths.get(service, []) if now - t <= self.loop_window] + [now]
        self.deaths[service] = recent
        return len(recent)


def classify(raw, project, tracker, now):
    """One raw engine event -> (kind, service, detail), or None for what is no fault (or not this project's)."""
    if raw.get("Type") != "container":
        return None
    attrs = (raw.get("Actor") or {}).get("Attributes") or {}
    service = attrs.get(SERVICE)
    if attrs.get(PROJECT) != project or not service:
        return None
    action = raw.get("Action") or raw.get("status") or ""
    if action in ASKED:
        tracker.asked[service] = now
        return None
    if action == "oom":
        return ("oom", service, {})
    if action == "die":
        code = attrs.get("exitCode")
        asked = now - tracker.asked.get(service, -1e9) <= ASKED_WITHIN
        deaths = tracker.died(service, now)
        detail = {"exit_code": int(code) if str(code or "").lstrip("-").isdigit() else None, "asked": asked}
        if deaths >= tracker.loop_restarts and not asked:
            return ("restart_loop", service, dict(detail, deaths=deaths, window_s=tracker.loop_window))
        return ("down", service, detail)
    if action.startswith("health_status") and action.endswith("unhealthy"):
        return ("unhealthy", service, {})
    return None


def look(containers):
    """(kind, service, detail) for each of the project's containers that is not as it should be now."""
    found = []
    for container in containers:
        labels = container.labels or {}
        service = labels.get(SERVICE)
        state = (container.attrs or {}).get("State") or {}
        if not service:
            continue
        if container.status != "running":
            kind = "oom" if state.get("OOMKilled") else "down"
            found.append((kind, service, {"exit_code": state.get("ExitCode"), "status": container.status}))
        elif (state.get("Health") or {}).get("Status") == "unhealthy":
            found.append(("unhealthy", service, {}))
    return found


class Burst:
    """Events held `debounce` seconds from the first; what comes meanwhile joins it."""

    def __init__(self, project, debounce=5.0):
        self.project = project
        self.debounce = debounce
        self.started = None
        self.items = []

    def add(self, item, now):
        if self.started is None:
            self.started = now
        self.items.append(item)

    def wait(self, now):
        """Seconds until the held event is due (None: nothing held)."""
        return None if self.started is None else max(0.0, self.started + self.debounce - now)

    def due(self, now):
        """The held event once its time has come, else None."""
        if self.started is None or now < self.started + self.debounce:
            return None
        detail = {}
        for kind, service, extra in self.items:
            entry = detail.setdefault(service, {"kinds": []})
            if kind not in entry["kinds"]:
                entry["kinds"].append(kind)
            entry.update(extra)
        kinds = sorted(set(kind for kind, _service, _extra in self.items))
        self.started, self.items = None, []
        event = {"project": self.project, "services": sorted(detail), "kinds": kinds, "detail": detail}
        event["at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        return {"ods_event": event}


def client_for(args):
    import docker  # noqa: PLC0415 - the engine's SDK, which ansible-rulebook's environment needs for this source

    return docker.DockerClient(base_url=args["docker_host"]) if args.get("docker_host") else docker.from_env()


def project_filter(project):
    return {"label": f"{PROJECT}={project}"}


async def main(queue, args):
    project = args["project"]
    interval = float(args.get("interval", 15))
    burst = Burst(project, float(args.get("debounce", 5)))
    tracker = Tracker(int(args.get("loop_restarts", 3)), float(args.get("loop_window", 600)))
    client = args.get("client") or client_for(args)
    loop = asyncio.get_running_loop()
    raw_events = asyncio.Queue()

    def pump():  # the SDK's stream blocks: read it on a thread, hand each event to the loop
        for raw in client.events(decode=True, filters=dict(project_filter(project), type="container")):
            loop.call_soon_threadsafe(raw_events.put_nowait, raw)
        loop.call_soon_threadsafe(raw_events.put_nowait, None)

    threading.Thread(target=pump, daemon=True).start()
    next_look = 0.0
    seen = set()
    while True:
        now = time.monotonic()
        if now >= next_look:
            found = await asyncio.to_thread(client.containers.list, all=True, filters=project_filter(project))
            current = look(found)
            for item in current:
                if (item[0], item[1]) not in seen:  # what was already sent is not sent again while it lasts
                    burst.add(item, now)
            seen = set((kind, service) for kind, service, _detail in current)
            next_look = now + interval
        event = burst.due(now)
        if event is not None:
            await queue.put(event)
        waits = [w for w in (burst.wait(now), next_look - now) if w is not None]
        try:
            raw = await asyncio.wait_for(raw_events.get(), timeout=max(0.05, min(waits)))
        except asyncio.TimeoutError:  # noqa: UP041 - not the builtin before Python 3.11, where rulebooks may run
            continue
        if raw is None:
            raise RuntimeError(f"the engine's event stream for project {project} ended")
        item = classify(raw, project, tracker, time.monotonic())
        if item is not None:
            burst.add(item, time.monotonic())
            seen.add((item[0], item[1]))


if __name__ == "__main__":  # python compose_events.py PROJECT: print the events, as ansible-rulebook would get them

    class PrintQueue:
        async def put(self, event):
            print(event, flush=True)

    import sys

    asyncio.run(main(PrintQueue(), {"project": sys.argv[1]}))
