"""Benchmark: `ods-fix diagnose` over 1, 4 and 8 dev machines reached over SSH; T(8)/T(1), target <= 1.5.

Run on purpose, not in CI:   python bench/fleet.py [--hosts 8] [--runs 3] [--keep]

It builds a fleet as molecule/fleet does: N containers running sshd (image ods-sandbox/devhost, the
Docker CLI and the engine's socket mounted in), each with its own light ODS stack (mysql, redis,
alldata-api, web) under its own compose project and ports, reached at 127.0.0.1:<port> with a key made
for the run and host key checking on. Then, with forks >= hosts:
  - diagnose over 1, 4 and 8 hosts, as shipped (pipelining, ControlMaster, linear strategy; no play
    gathers facts, none uses them);
  - over all hosts with one lever changed at a time, to show what each buys;
  - where the controller's time goes, per task, from ansible-runner's events (their start and end).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ODS_FIX = str(Path(sys.executable).parent / "ods-fix")
PROJECT = "ods-bench-fleet"
OFFSET = 30000
SERVICES = "mysql,redis,alldata-api,web"
LEVERS = {
    "as shipped": {},
    "no pipelining": {"ANSIBLE_PIPELINING": "False"},
    "no ControlMaster": {"ANSIBLE_SSH_ARGS": "-o ControlMaster=no"},
    "strategy free": {"ANSIBLE_STRATEGY": "free"},
}


def sh(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})})


def host_dir(root: Path, n: int) -> Path:
    return root / f"dev-{n}"


def ssh_port(n: int) -> int:
    return 2222 + OFFSET + 100 * n


def build_fleet(root: Path, hosts: int) -> Path:
    key = root / "id_ed25519"
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    plugin = Path(os.environ.get("DOCKER_CONFIG", "")) / "cli-plugins" / "docker-compose"

    def up(n: int) -> str:
        env = {"ODS_FIX_SANDBOX_DIR": str(host_dir(root, n) / "one-data-studio")}
        args = ["--services", SERVICES, "--project", f"{PROJECT}-{n}", "--port-offset", str(OFFSET + 100 * n)]
        result = sh([ODS_FIX, "sandbox", "up", *args], env)
        if result.returncode != 0:
            raise SystemExit(f"dev-{n}: sandbox up failed: {result.stderr.strip().splitlines()[-1:]}")
        mounts = [
            "-v", "/var/run/docker.sock:/var/run/docker.sock",
            "-v", f"{shutil.which('docker')}:/usr/bin/docker:ro",
            "-v", f"{key}.pub:/etc/ssh/authorized_keys.d/root:ro",
            "-v", f"{host_dir(root, n)}:{host_dir(root, n)}",
        ]  # fmt: skip
        if plugin.is_file():
            mounts += ["-v", f"{plugin}:/usr/libexec/docker/cli-plugins/docker-compose:ro"]
        name = f"{PROJECT}-dev-{n}"
        sh(["docker", "rm", "-f", name])
        run = ["docker", "run", "-d", "--name", name, "--label", "org.ods-fix.test=bench-fleet", "--hostname"]
        started = sh([*run, f"dev-{n}", "-p", f"127.0.0.1:{ssh_port(n)}:22", *mounts, "ods-sandbox/devhost:latest"])
        if started.returncode != 0:
            raise SystemExit(f"dev-{n}: {started.stderr.strip()}")
        return f"dev-{n}"

    print(f"building {hosts} dev machines with a stack each (about a minute per 3)", flush=True)
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(up, range(1, hosts + 1)))
    known = []
    for n in range(1, hosts + 1):
        for _ in range(30):
            scan = sh(["ssh-keyscan", "-t", "ed25519", "-p", str(ssh_port(n)), "127.0.0.1"])
            if scan.stdout.strip():
                known.append(scan.stdout.strip())
                break
            time.sleep(1)
    (root / "known_hosts").write_text("\n".join(known) + "\n")
    lines = [
        "ods_dev:",
        "  vars:",
        "    ansible_host: 127.0.0.1",
        "    ansible_user: root",
        f"    ansible_ssh_private_key_file: {key}",
        f"    ansible_ssh_common_args: -o UserKnownHostsFile={root / 'known_hosts'}",
        "    ansible_python_interpreter: /usr/bin/python3",
        "  hosts:",
    ]
    for n in range(1, hosts + 1):
        project_dir = host_dir(root, n) / "one-data-studio"
        lines += [f"    dev-{n}:", f"      ansible_port: {ssh_port(n)}", f"      ods_project_dir: {project_dir}"]
    inventory = root / "fleet.yml"
    inventory.write_text("\n".join(lines) + "\n")
    return inventory


def tear_down(root: Path, hosts: int) -> None:
    for n in range(1, hosts + 1):
        sh(["docker", "rm", "-f", f"{PROJECT}-dev-{n}"])
        env = {"ODS_FIX_SANDBOX_DIR": str(host_dir(root, n) / "one-data-studio")}
        sh([ODS_FIX, "sandbox", "down", "--project", f"{PROJECT}-{n}"], env)


def cpu_seconds() -> float:
    """CPU time this machine spent busy (every core, every process: controller, sshd, targets, dockerd)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def controller_cpu_seconds() -> float:
    """CPU time of the finished children of this process: ods-fix, ansible-playbook, its workers, ssh clients.
    The targets' side (sshd, the module, docker exec, dockerd) is not among them."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU_USED: dict[int, list[float]] = {}
CONTROLLER_CPU: dict[int, list[float]] = {}


def diagnose(inventory: Path, hosts: int, env: dict[str, str], home: Path) -> tuple[float, dict[str, Any]]:
    limit = ",".join(f"dev-{n}" for n in range(1, hosts + 1))
    cmd = [ODS_FIX, "diagnose", "-i", str(inventory), "--limit", limit, "--forks", str(max(hosts, 1)), "--json"]
    start, cpu, own = time.monotonic(), cpu_seconds(), controller_cpu_seconds()
    result = sh(cmd, {**env, "ODS_FIX_HOME": str(home)})
    seconds = time.monotonic() - start
    CPU_USED.setdefault(hosts, []).append(cpu_seconds() - cpu)
    CONTROLLER_CPU.setdefault(hosts, []).append(controller_cpu_seconds() - own)
    document = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    bad = [h for h, r in (document.get("hosts") or {}).items() if r["status"] != "ok"]
    if result.returncode != 0 or bad:
        raise SystemExit(f"diagnose over {hosts} failed (exit {result.returncode}): {bad or result.stderr[-300:]}")
    return seconds, document


def ansible_ping(inventory: Path, hosts: int) -> float:
    """ods-fix's ansible.cfg, Ansible's ping module: what a fleet run costs the controller per host."""
    root = Path(__file__).resolve().parent.parent
    limit = ",".join(f"dev-{n}" for n in range(1, hosts + 1))
    cmd = [str(Path(sys.executable).parent / "ansible"), "all", "-i", str(inventory), "--limit", limit]
    cmd += ["--forks", str(hosts), "-m", "ansible.builtin.ping"]
    start = time.monotonic()
    result = sh(cmd, {"ANSIBLE_CONFIG": str(root / "ansible.cfg")})
    if result.returncode != 0:
        raise SystemExit(f"ping over {hosts} failed: {result.stdout[-300:]}")
    return time.monotonic() - start


def task_breakdown(run_dir: Path) -> list[tuple[str, float, float]]:
    """(task, mean seconds per host, longest) from the runner's events; ansible-runner stamps start and end."""
    per_task: dict[str, list[float]] = {}
    for path in sorted((run_dir / "runner" / "artifacts").glob("*/job_events/*.json")):
        event = json.loads(path.read_text())
        data = event.get("event_data") or {}
        if event.get("event") in ("runner_on_ok", "runner_on_skipped") and data.get("duration") is not None:
            per_task.setdefault(data.get("task", "?"), []).append(float(data["duration"]))
    return [(task, statistics.mean(d), max(d)) for task, d in per_task.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Leave the fleet up afterwards.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ods-bench-fleet-"))
    home = root / "home"
    try:
        inventory = build_fleet(root, args.hosts)
        diagnose(inventory, args.hosts, {}, home)  # warm: ControlMasters up, module cache, page cache
        before = cpu_seconds()
        time.sleep(10)
        idle = (cpu_seconds() - before) / 10
        print(
            f"the idle fleet keeps {idle:.2f} cores busy (its {args.hosts * 4} containers' health checks)", flush=True
        )
        sizes = sorted({1, min(4, args.hosts), args.hosts})
        medians: dict[int, float] = {}
        for size in sizes:
            times = [diagnose(inventory, size, {}, home)[0] for _ in range(args.runs)]
            medians[size] = statistics.median(times)
            print(f"diagnose over {size} host(s), forks {size}: median {medians[size]:.2f}s of {times}", flush=True)
        ratio = medians[args.hosts] / medians[1]
        print(f"\nT({args.hosts})/T(1) = {ratio:.2f}  (target <= 1.5)")
        cores = os.cpu_count() or 1
        for size in sizes:
            used = statistics.median(CPU_USED[size])
            own = statistics.median(CONTROLLER_CPU[size])
            print(
                f"  {size} host(s): {used:.1f} CPU-s per run on {cores} cores (at least {used / cores:.1f}s of wall),"
                f" of which the controller's {own:.1f}"
            )
        print("\nthe controller's part alone (ansible ping: connection, module transfer, forks; no target work):")
        ping: dict[int, float] = {}
        for size in sizes:
            ping[size] = statistics.median(ansible_ping(inventory, size) for _ in range(args.runs))
            print(f"  ping over {size} host(s): {ping[size]:.2f}s")
        print(f"  T({args.hosts})/T(1) = {ping[args.hosts] / ping[1]:.2f}")
        print(f"\nlevers, diagnose over {args.hosts} hosts (median of {args.runs}):")
        last_doc: dict[str, Any] = {}
        for name, env in LEVERS.items():
            if name == "no ControlMaster":
                sh(["sh", "-c", "rm -f ~/.ansible/cp/*"])  # no master left from the runs before
            runs = [diagnose(inventory, args.hosts, env, home) for _ in range(args.runs)]
            if name == "as shipped":
                last_doc = runs[-1][1]
            median = statistics.median(r[0] for r in runs)
            print(f"  {name:<18} {median:6.2f}s  ({median / medians[args.hosts]:.2f}x as shipped)", flush=True)
        print(f"\nwhere the time goes (as shipped, {args.hosts} hosts; mean per host, longest):")
        for task, mean, longest in sorted(task_breakdown(Path(last_doc["run_dir"])), key=lambda t: -t[1]):
            print(f"  {mean:6.2f}s {longest:6.2f}s  {task}")
    finally:
        if not args.keep:
            tear_down(root, args.hosts)
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"fleet kept: inventory {root / 'fleet.yml'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
