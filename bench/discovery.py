"""Benchmark: what discovering the stack costs a fix, against the plain way of listing a project.

Run on purpose, not in CI, against a running sandbox of either layout:
    ods-fix sandbox up [--layout local] && python bench/discovery.py [--runs 20]

Discovery (module_utils/stack/discovery.discover) is what the first module of every fix runs once: one labelled
container listing, the compose files read and interpolated once, the images of absent services inspected.
The modules after it get the profile through module_defaults (the run's `ods_profile` fact) and skip it.

Two comparisons, each measured in this run, alternately, on the same engine:
- in process: discover() against docker-py's labelled container listing alone (the least any fix must do);
- end to end: `ods-fix discover --json` against `docker compose ps --format json` (the plain way a person
  lists the project's containers), both new processes.
The issue's budget is 0.5 s added to a fix: the in-process figure is that cost.

A third: finding the stack from where you stand (pyrunner/target.py, in the sandbox's folder, no flag), in a new
process that has imported what the CLI imported before it (click, rich): the import of the finder and the engine
query, against `docker compose ls` (the plain way to find a project). Its budget: 100 ms added to a run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.ods.fix.plugins.module_utils.stack import discovery  # noqa: E402

from pyrunner.sandbox import compose, stack  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)


def alternate(runs: int, first: Callable[[], object], second: Callable[[], object]) -> tuple[list[float], list[float]]:
    first(), second()  # warm the page cache, the engine and Python's imports once
    a, b = [], []
    for _ in range(runs):
        a.append(timed(first))
        b.append(timed(second))
    return a, b


def report(label: str, ours: list[float], plain: list[float], plain_label: str) -> None:
    o, p = statistics.median(ours), statistics.median(plain)
    worst = sorted(ours)[int(0.95 * (len(ours) - 1))]
    print(f"{label}:")
    print(f"  {'ods-fix':<44} median {o * 1000:7.1f} ms  p95 {worst * 1000:7.1f} ms")
    print(f"  {plain_label:<44} median {p * 1000:7.1f} ms")
    print(f"  ratio ods-fix / plain: {o / p:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    instance = stack.require_instance()
    cli = compose.detect(instance.compose)
    api = docker.from_env()
    project_dir = str(instance.directory)
    label = {"label": f"com.docker.compose.project={instance.project}"}

    profile = discovery.discover(api, project_dir)
    print(
        f"sandbox layout {instance.layout}, project {instance.project}, {len(profile['services'])} services, "
        f"{len(profile['config_files'])} compose file(s), Compose {cli.flavor} {cli.version}, {args.runs} runs\n"
    )
    ours, plain = alternate(
        args.runs, lambda: discovery.discover(api, project_dir), lambda: api.containers.list(all=True, filters=label)
    )
    report("in process (what a fix pays, once per run)", ours, plain, "the labelled container listing alone")
    extra = statistics.median(ours) - statistics.median(plain)
    print(f"  discovery beyond the listing every fix does anyway: {extra * 1000:.1f} ms (budget 500 ms)\n")

    env = dict(os.environ)
    ods_fix = [str(Path(sys.executable).parent / "ods-fix"), "discover", "--sandbox", "--json"]
    compose_ps = [*cli.argv, "-p", instance.project, "ps", "--all", "--format", "json"]
    if cli.flavor == "v1":
        compose_ps = [*cli.argv, "-p", instance.project, "ps", "--all"]
    ours, plain = alternate(max(3, args.runs // 4), lambda: run(ods_fix, env), lambda: run(compose_ps, env))
    report(
        "end to end (new processes)",
        ours,
        plain,
        " ".join(["docker compose" if cli.flavor == "v2" else "docker-compose", *compose_ps[len(cli.argv) :]]),
    )
    print()
    finding = [sys.executable, "-c", FIND_FROM_HERE]
    found: list[float] = []

    def find() -> None:
        out = subprocess.run(finding, capture_output=True, text=True, check=True, env=env, cwd=project_dir).stdout
        found.append(float(out))

    compose_ls = (
        [*cli.argv, "ls", "--all"]
        if cli.flavor == "v2"
        else ["docker", "ps", "-a", "--filter", "label=" + label["label"]]
    )
    _, plain = alternate(args.runs, find, lambda: run(compose_ls, env))
    report(
        "finding the stack from where you stand (new process, after the CLI's own imports)",
        found[1:],
        plain,
        "docker compose ls --all" if cli.flavor == "v2" else "docker ps --filter label=...",
    )
    print(f"  added to a run: {statistics.median(found[1:]) * 1000:.1f} ms (budget 100 ms)")
    return 0


FIND_FROM_HERE = """
import time, click, rich.console
start = time.perf_counter()
from pyrunner import target
chosen = target.resolve(inventory=None)
assert chosen.project_dir is not None
print(time.perf_counter() - start)
"""


if __name__ == "__main__":
    raise SystemExit(main())
