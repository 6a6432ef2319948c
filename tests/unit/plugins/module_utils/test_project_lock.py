"""The project lock, with real processes and a real flock: refusal, release, lease, and a step outliving its run."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils import project_lock


def wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def sdir(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = str(tmp_path / ".ods-fix")
    yield path
    info = project_lock.holder(path)
    if info:  # never leave a holder behind a failed test
        os.kill(info["pid"], 15)


def test_a_second_run_is_refused_naming_the_holder_then_taken_once_released(sdir: str) -> None:
    first = project_lock.acquire(sdir, "mysql-restore", lease=60)
    assert first["pid"] != os.getpid() and project_lock.holder(sdir)["token"] == first["token"]
    with pytest.raises(project_lock.Busy) as refused:
        project_lock.acquire(sdir, "rotate-keys", lease=60)
    line = str(refused.value)
    assert "\n" not in line and "mysql-restore" in line and f"pid {first['pid']}" in line and "UTC" in line
    assert not project_lock.release(sdir, "not-the-token") and project_lock.holder(sdir)
    assert project_lock.release(sdir, first["token"])
    assert project_lock.holder(sdir) == {}
    second = project_lock.acquire(sdir, "rotate-keys", lease=60)
    assert second["token"] != first["token"]
    assert project_lock.release(sdir, second["token"])


def test_the_state_directory_is_private_and_an_existing_one_is_not_chmodded(tmp_path: Path) -> None:
    fresh = str(tmp_path / "fresh")
    info = project_lock.acquire(fresh, "mysql-disk", lease=60)
    assert os.stat(fresh).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(fresh, "lock")).st_mode & 0o777 == 0o600
    project_lock.release(fresh, info["token"])
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    info = project_lock.acquire(str(shared), "mysql-disk", lease=60)
    assert shared.stat().st_mode & 0o777 == 0o755
    project_lock.release(str(shared), info["token"])


def test_a_run_that_went_quiet_lets_go_after_its_lease(sdir: str) -> None:
    info = project_lock.acquire(sdir, "data-leak", lease=1)  # the controller was interrupted: nobody releases
    assert wait_for(lambda: project_lock.holder(sdir) == {}, timeout=10)
    assert wait_for(lambda: not _pid_exists(info["pid"]))
    project_lock.release(sdir, project_lock.acquire(sdir, "data-leak", lease=60)["token"])


def _step(sdir: str, token: str, seconds: float, entered) -> None:  # type: ignore[no-untyped-def]
    with project_lock.working(sdir, token):
        entered.set()
        time.sleep(seconds)


def test_a_step_still_running_keeps_the_lock_after_its_run_has_gone(sdir: str) -> None:
    info = project_lock.acquire(sdir, "mysql-restore", lease=1)
    entered = multiprocessing.Event()
    load = multiprocessing.Process(target=_step, args=(sdir, info["token"], 4, entered))
    load.start()  # the async load, left running on the target after a Ctrl-C on the controller
    assert entered.wait(10)
    time.sleep(2.5)  # well past the lease: the load still runs, so the lock must hold
    with pytest.raises(project_lock.Busy):
        project_lock.acquire(sdir, "mysql-restore", lease=60)
    load.join(10)
    assert wait_for(lambda: project_lock.holder(sdir) == {}, timeout=10)  # the load ended, then its lease ran out
    project_lock.release(sdir, project_lock.acquire(sdir, "mysql-restore", lease=60)["token"])


def test_a_step_with_a_lost_lock_is_refused_before_it_runs(sdir: str) -> None:
    info = project_lock.acquire(sdir, "mysql-restore", lease=60)
    project_lock.release(sdir, info["token"])
    ran = []
    with pytest.raises(project_lock.Lost), project_lock.working(sdir, info["token"]):
        ran.append(True)
    assert not ran
    assert os.listdir(os.path.join(sdir, project_lock.WORKERS)) == []


def test_a_killed_holder_is_no_holder(sdir: str) -> None:
    info = project_lock.acquire(sdir, "incident", lease=600)
    os.kill(info["pid"], 9)
    assert wait_for(lambda: not _pid_exists(info["pid"]))
    assert project_lock.holder(sdir) == {}  # its record stays behind, but its pid is gone
    project_lock.release(sdir, project_lock.acquire(sdir, "incident", lease=60)["token"])


def _pid_exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_the_lock_lets_go_as_soon_as_its_controller_has_gone_and_no_step_runs(sdir: str) -> None:
    controller = multiprocessing.Process(target=time.sleep, args=(60,))
    controller.start()
    with open(f"/proc/{controller.pid}/stat") as handle:
        start = handle.read().rsplit(")", 1)[1].split()[19]
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    owner = f"{boot}/{os.readlink('/proc/self/ns/pid')}/{controller.pid}/{start}"
    info = project_lock.acquire(sdir, "mysql-restore", lease=600, owner=owner)
    entered = multiprocessing.Event()
    load = multiprocessing.Process(target=_step, args=(sdir, info["token"], 3, entered))
    load.start()
    assert entered.wait(10)
    controller.kill()  # kill -9 of the CLI
    controller.join()
    time.sleep(1.5)
    assert project_lock.holder(sdir)["token"] == info["token"]  # the load still runs: held
    load.join(10)
    assert wait_for(lambda: project_lock.holder(sdir) == {}, timeout=5)  # then free, long before the lease


def test_an_owner_on_another_machine_leaves_it_to_the_lease(sdir: str) -> None:
    info = project_lock.acquire(sdir, "mysql-restore", lease=600, owner="another-boot/pid:[1]/1/1")
    time.sleep(1.5)
    assert project_lock.holder(sdir)["token"] == info["token"]
    assert project_lock.release(sdir, info["token"])


def _owner_of(process: multiprocessing.Process) -> str:
    with open(f"/proc/{process.pid}/stat") as handle:
        start = handle.read().rsplit(")", 1)[1].split()[19]
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return f"{boot}/{os.readlink('/proc/self/ns/pid')}/{process.pid}/{start}"


def test_a_live_controller_keeps_the_lock_past_its_lease_without_any_step(sdir: str) -> None:
    """A capture or a rotation longer than the lease, with no step touching the lock: held, and heartbeated."""
    controller = multiprocessing.Process(target=time.sleep, args=(60,))
    controller.start()
    info = project_lock.acquire(sdir, "rotate-keys", lease=1, owner=_owner_of(controller))
    time.sleep(7)  # seven leases, and one heartbeat at least
    assert project_lock.holder(sdir)["token"] == info["token"]
    assert time.time() - os.stat(os.path.join(sdir, project_lock.ALIVE)).st_mtime < project_lock.HEARTBEAT + 1
    controller.kill()
    controller.join()
    assert wait_for(lambda: project_lock.holder(sdir) == {}, timeout=5)  # gone: let go at once on its machine


def _ssh_session(ready, found) -> None:  # type: ignore[no-untyped-def]
    """A process named sshd (as the connection's sshd is) whose child asks for its connection."""
    Path("/proc/self/comm").write_text("sshd")
    child = multiprocessing.Process(target=lambda: found.put(project_lock.connection()))
    child.start()
    child.join()
    ready.set()
    time.sleep(60)


def test_over_ssh_the_lock_lives_as_long_as_the_connection_then_its_lease() -> None:
    import tempfile  # noqa: PLC0415

    sdir = tempfile.mkdtemp() + "/.ods-fix"
    ready, found = multiprocessing.Event(), multiprocessing.Queue()
    session = multiprocessing.Process(target=_ssh_session, args=(ready, found))
    session.start()
    assert ready.wait(10)
    pid, start = found.get(timeout=5)
    assert pid == session.pid and start == project_lock._starttime(session.pid)
    info = project_lock.acquire(sdir, "api-500", lease=1)  # no owner: another machine's controller
    project_lock._write_json(os.path.join(sdir, project_lock.ANCHOR), dict(token=info["token"], pid=pid, start=start))
    time.sleep(4)
    assert project_lock.holder(sdir)["token"] == info["token"]  # the connection lives: held past the lease
    session.kill()  # the controller's connection is gone (killed, or its machine lost)
    session.join()
    assert wait_for(lambda: project_lock.holder(sdir) == {}, timeout=10)  # then the lease, then free
    assert not os.path.exists(os.path.join(sdir, project_lock.ANCHOR))


def test_every_stack_modules_step_shows_its_runs_token_and_is_refused_once_the_lock_is_lost(
    sdir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """lock_token is one of the stack modules' shared options (the roles' module_defaults give it to every step,
    mysql-restore's plan included): a step of a run whose lock was lost changes nothing."""
    import json  # noqa: PLC0415

    import yaml  # noqa: PLC0415
    from ansible.module_utils.testing import patch_module_args  # noqa: PLC0415
    from ansible_collections.ods.fix.plugins.module_utils.stack import compose  # noqa: PLC0415

    from pyrunner import paths  # noqa: PLC0415

    defaults = yaml.safe_load((paths.roles_dir() / "ods" / "defaults" / "main.yml").read_text())
    assert defaults["ods_stack_defaults"]["lock_token"] == "{{ ods_lock.token | default('') }}"
    project = str(Path(sdir).parent)
    info = project_lock.acquire(sdir, "mysql-restore", lease=60)
    project_lock.release(sdir, info["token"])  # lost: released by another, or let go
    with patch_module_args({"project_dir": project, "lock_token": info["token"]}), pytest.raises(SystemExit):
        compose.stack_module({})
    failed = json.loads(capsys.readouterr().out)
    assert failed["failed"] and failed["ods_failure"] == "input"
    assert failed["msg"].startswith("this run's lock on the project was lost (its holder has gone)")


def test_the_holder_never_takes_a_step_half_way_through_writing_its_record_for_a_dead_one(sdir: str) -> None:
    """The holder sweeps lock.workers for steps that have gone; a record being written (its .tmp, renamed once
    written) is no dead step: removing it made the step fail with ENOENT on the rename (seen in the suite)."""
    info = project_lock.acquire(sdir, "mysql-restore", lease=60)
    wdir = Path(sdir) / project_lock.WORKERS
    wdir.mkdir(exist_ok=True)
    (wdir / "123.123.tmp").write_text("")  # a step's record, half written
    stale = wdir / "456.456.tmp"
    stale.write_text("")
    os.utime(stale, (time.time() - 120, time.time() - 120))  # left by a step killed while writing it
    assert not project_lock._workers_alive(sdir, info["token"])
    assert (wdir / "123.123.tmp").exists() and not stale.exists()
    project_lock.release(sdir, info["token"])


def test_a_release_file_the_holder_removes_at_once_is_no_error(sdir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The holder polls for the release file and unlinks it as soon as it exists: touching it must not need it after.
    real_open = os.open

    def open_then_holder_unlinks(path: str, *args: object) -> int:
        fd = real_open(path, *args)  # type: ignore[arg-type]
        os.unlink(path)
        return fd

    monkeypatch.setattr(project_lock.os, "open", open_then_holder_unlinks)
    os.makedirs(sdir, exist_ok=True)
    project_lock._touch(os.path.join(sdir, "lock.release-x"))
