"""Run one fix through ansible-runner and collect per-host results.

Every run gets its own directory under the state home (runs/<stamp>-<fix>),
holding ansible-runner's private data dir (artifacts) and the reports. Only
allow-listed environment variables reach ansible-playbook, so that secrets
exported in the user's shell cannot end up in the runner's artifacts.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrunner import paths
from pyrunner.errors import ExitCode, OdsFixError
from pyrunner.progress import HostProgress, Progress

ENV_ALLOW = {
    "PATH",
    "PWD",  # where ods-fix was started: relative outputs (mysql-backup's ./backups) go there
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TMPDIR",
    "TZ",
    "SSH_AUTH_SOCK",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "VIRTUAL_ENV",
}
# A caller that lets a run finish on SIGINT or SIGTERM (ods-fix watch) sets this: it gets the signal, and returns
# True when it takes it (the run goes on), False to cancel the run as usual.
on_stop_signal: Callable[[int], bool] | None = None
URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")
ENV_ALLOW_PREFIXES = ("ODS_FIX_", "ANSIBLE_", "AWX_", "RUNNER_", "JOB_", "PYTHON")


def keep_runs() -> int:
    """How many run directories to keep (ODS_FIX_KEEP_RUNS, default 20)."""
    raw = os.environ.get("ODS_FIX_KEEP_RUNS", "20").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise OdsFixError(f"ODS_FIX_KEEP_RUNS={raw!r} is not a whole number of runs to keep, 1 or more", ExitCode.USAGE)
    return int(raw)


def mask_url_credentials(value: str) -> str:
    """http://user:pw@proxy:3128 -> http://user:***@proxy:3128, for every URL in the value."""
    return URL_PASSWORD.sub(r"\1***@", value)


@dataclass
class RunResult:
    fix: str
    check: bool
    run_dir: Path
    status: str  # ansible-runner's: successful, failed, canceled, timeout
    rc: int
    hosts: dict[str, HostProgress] = field(default_factory=dict)
    stdout_tail: str = ""
    seconds: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        """One code for the whole run: the first that applies of 130, 5, 4, 1, 6, 0 (see docs/using.md)."""
        hosts = list(self.hosts.values())
        if self.status == "canceled":
            return ExitCode.INTERRUPTED
        if any(h.failed and not h.preflight_failed for h in hosts):
            return ExitCode.FIX_FAILED
        if any(h.unreachable for h in hosts):
            return ExitCode.UNREACHABLE
        if any(h.preflight_failed for h in hosts):
            return ExitCode.BAD_INPUT
        if self.rc != 0:
            return ExitCode.BAD_INPUT  # ansible-playbook itself refused (syntax, options)
        if self.check and any(h.changed for h in hosts):
            return ExitCode.CHECK_CHANGES
        return ExitCode.OK


def filtered_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k in ENV_ALLOW or k.startswith(ENV_ALLOW_PREFIXES)}


def new_run_dir(fix: str, rotate: bool = True) -> Path:
    """A new run directory; with rotate, the oldest beyond ODS_FIX_KEEP_RUNS are removed (rotate_runs)."""
    root = paths.runs_dir()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    run_dir = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{fix}-{secrets.token_hex(2)}"
    run_dir.mkdir(mode=0o700)
    if rotate:
        rotate_runs(root, keep_runs())
    return run_dir


def rotate_runs(root: Path, keep: int) -> None:
    runs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in runs[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def mask_command_artifact(path: Path) -> None:
    """ansible-runner writes the environment into artifacts/<ident>/command even with
    suppress_env_files; a proxy URL's password must not stay there."""
    try:
        command = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    env = command.get("env") if isinstance(command, dict) else None
    if not isinstance(env, dict):
        return
    masked = {k: mask_url_credentials(v) if isinstance(v, str) else v for k, v in env.items()}
    if masked != env:
        command["env"] = masked
        path.write_text(json.dumps(command, ensure_ascii=False), encoding="utf-8")


def runner_env() -> dict[str, str]:
    """What ansible-playbook needs on top of the allow-listed environment."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "")]),
        "ANSIBLE_CONFIG": str(paths.ansible_cfg()),
        "ANSIBLE_ROLES_PATH": str(paths.roles_dir()),
        "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_dir()),
        "ODS_FIX_SANDBOX_DIR": str(paths.sandbox_dir()),
        "ANSIBLE_NOCOLOR": "1",
    }


def run_playbook(
    fix: str,
    playbook: Path,
    inventory: Path,
    *,
    limit: str | None = None,
    forks: int | None = None,
    check: bool = False,
    diff: bool = False,
    extravars: dict[str, Any] | None = None,
    verbosity: int = 0,
    run_dir: Path | None = None,
    on_event: Callable[[Progress, dict[str, Any]], None] | None = None,
    ident: str = "run",
    progress: Progress | None = None,
) -> RunResult:
    import ansible_runner  # noqa: PLC0415  (slow import, only when running)

    if not playbook.is_file():
        raise OdsFixError(f"playbook {playbook} is missing from this installation")
    run_dir = run_dir or new_run_dir(fix)
    progress = progress or Progress()  # shared by the batches of one run, for the live display
    hosts_before = set(progress.hosts)

    def handle(event: dict[str, Any]) -> bool:
        progress.handle(event)
        if on_event is not None:
            on_event(progress, event)
        return True  # keep the event in the artifacts, so stats survive

    cmdline = " ".join(flag for flag, on in (("--check", check), ("--diff", diff)) if on)
    config = ansible_runner.RunnerConfig(
        private_data_dir=str(run_dir / "runner"),
        playbook=str(playbook),
        inventory=str(inventory),
        limit=limit,
        forks=forks,
        extravars=extravars or {},
        envvars=runner_env(),
        cmdline=cmdline or None,
        verbosity=verbosity,
        quiet=True,
        suppress_env_files=True,
        ident=ident,
        rotate_artifacts=0,
    )
    config.prepare()
    config.env = filtered_env(config.env)
    started = time.monotonic()
    interrupted = threading.Event()

    def stop(number: int, _frame: object) -> None:
        # SIGTERM (timeout, systemd, CI) cancels like Ctrl-C: ansible-playbook is stopped, not orphaned; unless a
        # caller that lets a run finish (ods-fix watch) takes this signal.
        if on_stop_signal is None or not on_stop_signal(number):
            interrupted.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    runner = ansible_runner.Runner(config=config, event_handler=handle, cancel_callback=interrupted.is_set)
    try:
        runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        mask_command_artifact(run_dir / "runner" / "artifacts" / ident / "command")
    stdout_tail = ""
    stdout_file = run_dir / "runner" / "artifacts" / ident / "stdout"
    if stdout_file.is_file():
        stdout_tail = "\n".join(stdout_file.read_text(errors="replace").splitlines()[-20:])
    status = "canceled" if interrupted.is_set() else str(runner.status)
    return RunResult(
        fix=fix,
        check=check,
        run_dir=run_dir,
        status=status,
        rc=int(runner.rc or 0),
        hosts={name: host for name, host in progress.hosts.items() if name not in hosts_before},
        stdout_tail=stdout_tail,
        seconds=time.monotonic() - started,
    )
