"""Benchmark: rotate-keys and incident against the manual's own commands for the same job.

  rotate-keys, one app key: the manual's 密钥轮换 (a new key from `openssl rand -hex 32`, written into
      deploy/.env with sed, `docker-compose restart alldata-api bisheng-api`, curl until /api/v1/health
      answers) against `ods-fix rotate-keys --key ALLDATA_SECRET_KEY --yes` (backup, journal, atomic write,
      restart of what reads the key, health and SELECT 1 verified, audit line). The full default rotation
      (two app keys and both DB passwords, verified in the server) is timed too; the manual has no equivalent.
  incident: the manual's 疑似入侵 commands (docker-compose stop, docker-compose logs > incident-DATE.log,
      auth.log from each container, git log --since, docker-compose config | grep -v ...) against
      `ods-fix incident --yes` (the volatile state first, inspect, diff, logs, auth logs, git, config, all
      redacted, then stop, a sealed bundle fetched and verified). The stack is started again between rounds,
      untimed.

Run on purpose, not in CI:  ods-fix sandbox up && python bench/security.py [--runs 3]
The two sides alternate on the same sandbox; the ratio is ods-fix's median over the manual's.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyrunner.sandbox import compose, stack

ODS_FIX = str(Path(sys.executable).parent / "ods-fix")
APIS = ("alldata-api", "bisheng-api")


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def compose_cmd(*args: str) -> list[str]:
    instance = stack.require_instance()
    return compose.detect(instance.compose).command(instance.directory, *args)


def api_ok() -> bool:
    instance = stack.require_instance()
    ports = [instance.port(name) for name in ("ODS_PORT_ALLDATA_API", "ODS_PORT_BISHENG_API")]
    return all(
        run(["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{port}/api/v1/health"]).returncode == 0
        for port in ports
    )


def until(check: Callable[[], bool], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the APIs")
        time.sleep(0.2)


def timed(action: Callable[[], object]) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def ods_fix(*args: str) -> Callable[[], None]:
    def action() -> None:
        result = run([ODS_FIX, *args, "--sandbox"])
        if result.returncode != 0:
            raise SystemExit(f"ods-fix {' '.join(args)} failed ({result.returncode}): {result.stdout[-2000:]}")

    return action


def manual_rotation() -> None:
    env = stack.require_instance().env_file
    new_key = run(["openssl", "rand", "-hex", "32"]).stdout.strip() or secrets.token_hex(32)
    run(["sed", "-i", f"s/ALLDATA_SECRET_KEY=.*/ALLDATA_SECRET_KEY={new_key}/", str(env)])
    run(compose_cmd("restart", *APIS))
    until(api_ok)


def manual_incident() -> None:
    instance = stack.require_instance()
    with tempfile.TemporaryDirectory() as out:
        run(compose_cmd("stop"))
        logs = run(compose_cmd("logs"))
        Path(out, f"incident-{time.strftime('%Y%m%d')}.log").write_text(logs.stdout)
        for container in stack.project_containers(stack.docker_client(), instance.project).values():
            run(["docker", "cp", f"{container.name}:/var/log/auth.log", str(Path(out, f"{container.name}.auth.log"))])
        run(["git", "-C", str(instance.directory), "log", "--since=2 days ago", "--oneline"])
        config = run(compose_cmd("config")).stdout
        Path(out, "config.txt").write_text(
            "\n".join(line for line in config.splitlines() if not re.search("password|key|secret", line))
        )


def restart_stack() -> None:
    run(compose_cmd("start"))
    until(api_ok)


def report(name: str, manual: list[float], fix: list[float], note: str) -> None:
    m, f = statistics.median(manual), statistics.median(fix)
    print(f"{name:<34} {m:8.1f} {f:9.1f} {f / m:7.2f}   {note}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stack.require_instance()
    until(api_ok)
    print(f"{'job':<34} {'manual s':>8} {'ods-fix s':>9} {'ratio':>7}")
    manual, one, full = [], [], []
    for _ in range(args.runs):
        manual.append(timed(manual_rotation))
        one.append(timed(ods_fix("rotate-keys", "--key", "ALLDATA_SECRET_KEY", "--yes")))
        full.append(timed(ods_fix("rotate-keys", "--yes")))
    report("rotate one app key", manual, one, "manual: openssl, sed, restart both APIs, curl")
    report("rotate every key and DB password", manual, full, "(against the same one-key manual)")
    manual, fix = [], []
    with tempfile.TemporaryDirectory() as bundles:
        for _ in range(args.runs):
            manual.append(timed(manual_incident))
            restart_stack()
            fix.append(timed(ods_fix("incident", "--yes", "--bundle", f"{bundles}/{{host}}-{{time}}.tar.gz")))
            restart_stack()
    report("incident: capture, then stop", manual, fix, "manual: stop, logs, auth.log, git log, config | grep -v")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
