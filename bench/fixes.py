"""Benchmark: each restart-type fix, from the command to a verified-healthy service, against the
bare commands a person would type instead:
  bare:   docker start + polling until the service answers (the floor: no diagnosis at all);
  manual: the manual's own section typed, its diagnosis commands, then its remedy
          (docker-compose restart ...), then polling until the service answers.

Run on purpose, not in CI:  ods-fix sandbox up && python bench/fixes.py [--runs 3]
Each round injects the fault with `ods-fix sandbox break`, then times one side; the two sides
alternate on the same sandbox. The ratio is ods-fix's median over the bare commands' (target <= 1.3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pyrunner.sandbox import compose, stack

ODS_FIX = str(Path(sys.executable).parent / "ods-fix")


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def until(check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the service")
        time.sleep(0.2)


def container(service: str) -> str:
    instance = stack.require_instance()
    return stack.project_containers(stack.docker_client(), instance.project)[service].name


def api_ok(port: int) -> bool:
    return run(["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{port}/api/v1/health"]).returncode == 0


def bare_mysql() -> None:
    name = container("mysql")
    run(["docker", "start", name])
    until(lambda: run(["docker", "exec", name, "mysqladmin", "ping", "--silent"]).returncode == 0)
    until(lambda: api_ok(stack.require_instance().port("ODS_PORT_ALLDATA_API")))


def bare_api() -> None:
    run(["docker", "start", container("alldata-api")])
    until(lambda: api_ok(stack.require_instance().port("ODS_PORT_ALLDATA_API")))


def bare_redis() -> None:
    name = container("redis")
    run(["docker", "start", name])
    until(lambda: run(["docker", "exec", name, "redis-cli", "ping"]).stdout.strip() == "PONG")


def compose_cmd(*args: str) -> list[str]:
    instance = stack.require_instance()
    cli = compose.detect(instance.compose)
    return cli.command(instance.directory, *args)


def manual_mysql() -> None:
    for step in (
        ["ps", "mysql"],
        ["logs", "mysql", "--tail=100"],
        ["exec", "-T", "alldata-api", "ping", "-c", "1", "mysql"],
        ["restart", "mysql"],
    ):
        run(compose_cmd(*step))
    until(lambda: run(compose_cmd("exec", "-T", "mysql", "mysqladmin", "ping", "--silent")).returncode == 0)
    until(lambda: api_ok(stack.require_instance().port("ODS_PORT_ALLDATA_API")))


def manual_api() -> None:
    run(compose_cmd("logs", "alldata-api", "--tail=100"))
    run(compose_cmd("restart", "alldata-api"))
    until(lambda: api_ok(stack.require_instance().port("ODS_PORT_ALLDATA_API")))


def manual_redis() -> None:
    run(compose_cmd("exec", "-T", "mysql", "mysql", "-e", "SHOW PROCESSLIST;"))
    run(compose_cmd("exec", "-T", "redis", "redis-cli", "ping"))
    run(compose_cmd("restart", "redis"))
    until(lambda: run(compose_cmd("exec", "-T", "redis", "redis-cli", "ping")).stdout.strip() == "PONG")


MANUAL = {"mysql-connect": manual_mysql, "api-500": manual_api, "api-slow": manual_redis}

CASES = [
    ("mysql-stopped", "mysql-connect", bare_mysql, "docker start mysql; poll mysqladmin ping and /api/v1/health"),
    ("api-exited", "api-500", bare_api, "docker start alldata-api; poll /api/v1/health"),
    ("redis-stopped", "api-slow", bare_redis, "docker start redis; poll redis-cli ping"),
]


def timed(action: Callable[[], object]) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stack.require_instance()
    print(f"{'fault':<15} {'fix':<15} {'bare s':>7} {'manual s':>8} {'ods-fix s':>9} {'/bare':>6} {'/manual':>7}")
    for fault, fix, bare, how in CASES:
        bare_times, manual_times, fix_times = [], [], []
        for _ in range(args.runs):
            run([ODS_FIX, "sandbox", "break", fault])
            bare_times.append(timed(bare))
            run([ODS_FIX, "sandbox", "break", fault])
            manual_times.append(timed(MANUAL[fix]))
            run([ODS_FIX, "sandbox", "break", fault])
            start = time.monotonic()
            result = run([ODS_FIX, fix, "--sandbox"])
            fix_times.append(time.monotonic() - start)
            if result.returncode != 0:
                raise SystemExit(f"ods-fix {fix} failed: {result.stdout}")
        b, m, f = statistics.median(bare_times), statistics.median(manual_times), statistics.median(fix_times)
        print(f"{fault:<15} {fix:<15} {b:7.1f} {m:8.1f} {f:9.1f} {f / b:6.2f} {f / m:7.2f}   (bare: {how})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
