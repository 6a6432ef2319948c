# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""One fix that changes things at a time on a project: an flock that a small holder process keeps for the run.

A module exits after each task, so no module can hold the lock for a whole run. acquire() forks a holder that
takes the flock on <project>/.ods-fix/lock and keeps it for as long as the run's controller lives, whatever its
steps take, then lets go when the run releases it. The holder watches the controller itself:
- on the controller's own machine, its process (`owner`, from the ods-fix CLI);
- over SSH, the sshd process of the connection that took the lock (each step of the run points it at its own
  connection, lock.anchor), which lives as long as the controller's connection does;
and while the controller lives it touches lock.alive (the heartbeat). Once the controller is gone (killed, its
machine lost), the lock lets go at once on its own machine, else `lease` seconds after the last heartbeat or
step; a step still running on the target (a worker: the async load of a restore) keeps it until that step ends,
so a new run cannot drop what an interrupted one is building. A controller it cannot watch (another connection
type) is treated as gone after `lease` seconds without a step.
"""

import contextlib
import errno
import fcntl
import json
import os
import signal
import time
import uuid

LOCK = "lock"
INFO = "lock.json"
ALIVE = "lock.alive"
WORKERS = "lock.workers"
ANCHOR = "lock.anchor"
HEARTBEAT = 5.0  # seconds between two touches of lock.alive while the controller lives


class LockError(Exception):
    pass


class Busy(LockError):
    def __init__(self, holder):
        LockError.__init__(self, describe(holder))
        self.holder = holder


class Lost(LockError):
    pass


def state_dir(project_dir):
    return os.path.join(project_dir, ".ods-fix")


def _starttime(pid):
    """The process's start time in clock ticks: with the pid, it tells a live holder from a reused pid.

    None once it has gone, zombies included: a holder's parent exits at once, and not every init reaps.
    """
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid, start):
    return bool(pid) and start is not None and _starttime(pid) == start


def _read_json(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path, data):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    os.rename(tmp, path)


def _touch(path):
    # By the descriptor: the holder may unlink a release file as soon as it exists.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.utime(fd)
    finally:
        os.close(fd)


def holder(sdir):
    """The live holder's record ({} when nobody holds the lock), with `last_step` (epoch seconds)."""
    info = _read_json(os.path.join(sdir, INFO))
    if not _alive(info.get("pid"), info.get("start")):
        return {}
    try:
        info["last_step"] = os.stat(os.path.join(sdir, ALIVE)).st_mtime
    except OSError:
        info["last_step"] = info.get("since", 0)
    return info


def _utc(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def describe(info):
    if not info:
        return "another ods-fix run is taking the lock on this project right now; try again in a moment"
    return (
        "another ods-fix run holds this project: %s, pid %s, since %s (its controller seen at %s); it lets go when "
        "that run ends, or %d s after its controller is gone"
        % (
            info.get("fix", "?"),
            info.get("pid"),
            _utc(info.get("since", 0)),
            _utc(info.get("last_step", 0)),
            info.get("lease", 0),
        )
    )


def _workers_alive(sdir, token):
    wdir = os.path.join(sdir, WORKERS)
    try:
        names = os.listdir(wdir)
    except OSError:
        return False
    alive = False
    for name in names:
        path = os.path.join(wdir, name)
        if name.endswith(".tmp"):  # a step writing its record right now (_write_json renames it when written)
            with contextlib.suppress(OSError):
                if time.time() - os.stat(path).st_mtime > 60:  # left by a step killed while writing it
                    os.unlink(path)
            continue
        worker = _read_json(path)
        if worker.get("token") == token and _alive(worker.get("pid"), worker.get("start")):
            alive = True
        else:  # gone, or left by an earlier run's step that was killed
            with contextlib.suppress(OSError):
                os.unlink(path)
    return alive


def _owner_alive(owner):
    """True or False when the run's controller process can be watched from here (same machine and pid
    namespace); None when it cannot (another machine, no owner given)."""
    try:
        boot, namespace, pid, start = owner.split("/")
        with open("/proc/sys/kernel/random/boot_id") as handle:
            here = handle.read().strip() == boot and os.readlink("/proc/self/ns/pid") == namespace
    except (OSError, ValueError):
        return None
    return _alive(int(pid), int(start)) if here else None


def _parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def connection():
    """(pid, start) of the sshd process that serves this process's SSH connection, or None (not over SSH).

    The nearest ancestor named sshd (sshd-session from OpenSSH 9.8): with Ansible's ControlPersist it is the
    connection's, shared by every task of the run, and it lives as long as the controller keeps the connection.
    """
    pid = os.getppid()
    while pid > 1:
        try:
            with open("/proc/%d/comm" % pid) as handle:
                name = handle.read().strip()
        except OSError:
            return None
        if name in ("sshd", "sshd-session"):
            return pid, _starttime(pid)
        pid = _parent(pid)
    return None


def _anchor(sdir, token):
    """Point the holder at this step's SSH connection (the run's controller, seen from here)."""
    found = connection()
    if found is not None:
        _write_json(os.path.join(sdir, ANCHOR), dict(token=token, pid=found[0], start=found[1]))


def _controller_alive(sdir, owner, token):
    """True while the run's controller is seen alive, False once it is seen gone, None when it cannot be seen."""
    state = _owner_alive(owner) if owner else None
    if state is not None:
        return state
    anchor = _read_json(os.path.join(sdir, ANCHOR))
    if anchor.get("token") == token and anchor.get("pid"):
        return _alive(anchor["pid"], anchor.get("start"))
    return None


def acquire(sdir, fix, lease, owner=""):
    """Take the lock for a run; returns the holder's record (its `token` names the run). Raises Busy.

    `owner` names the run's controller process (see the CLI's lock_owner): once it has gone, the lock lets go
    without waiting for the lease, when no step of the run still runs.
    """
    if not os.path.isdir(sdir):
        os.makedirs(sdir, 0o700)  # created private; an existing directory is left as its owner made it
    token = uuid.uuid4().hex
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(read_end)
            os.setsid()
            if os.fork() == 0:
                _hold(sdir, fix, lease, owner, token, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    with os.fdopen(read_end, "rb") as handle:
        answer = handle.read().decode("utf-8", "replace")
    if answer == "ok":
        info = _read_json(os.path.join(sdir, INFO))
        _anchor(sdir, info.get("token", ""))
        return info
    if answer == "busy":
        raise Busy(holder(sdir))
    raise LockError("cannot take the lock in {}: {}".format(sdir, answer or "the holder did not start"))


def _hold(sdir, fix, lease, owner, token, answer):
    """The holder: keeps the flock until released, or until the run is quiet for `lease` seconds."""
    try:
        fd = os.open(os.path.join(sdir, LOCK), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        busy = exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
        os.write(answer, b"busy" if busy else str(exc).encode("utf-8"))
        return
    me = os.getpid()
    info = dict(pid=me, start=_starttime(me), fix=fix, token=token, since=time.time(), lease=lease)
    release = os.path.join(sdir, "lock.release-" + token)
    try:
        _write_json(os.path.join(sdir, INFO), info)
        _touch(os.path.join(sdir, ALIVE))
        # Ansible waits for the module's stdout to close: this process must not keep it open.
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(devnull, std)
        os.write(answer, b"ok")
        os.close(answer)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the controller's process group is not a release
        _keep(sdir, owner, token, lease, release)
    finally:
        if _read_json(os.path.join(sdir, INFO)).get("token") == token:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(sdir, INFO))
        if _read_json(os.path.join(sdir, ANCHOR)).get("token") == token:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(sdir, ANCHOR))
        with contextlib.suppress(OSError):
            os.unlink(release)
        os.close(fd)


def _keep(sdir, owner, token, lease, release):
    """Return when the run releases the lock, or once its controller is gone and no step of it runs."""
    local = owner and _owner_alive(owner) is not None
    ticks, beat = 0, time.time()
    while not os.path.exists(release):
        time.sleep(0.1)  # a release is seen within 0.1 s; the rest is looked at every half second
        ticks += 1
        if ticks % 5:
            continue
        if _controller_alive(sdir, owner, token):
            if time.time() - beat >= HEARTBEAT:  # the heartbeat: the lease never counts while it lives
                _touch(os.path.join(sdir, ALIVE))
                beat = time.time()
            continue
        if _workers_alive(sdir, token):
            continue
        if local:  # the controller ran here and has gone, and no step of its run is left
            return
        try:
            quiet = time.time() - os.stat(os.path.join(sdir, ALIVE)).st_mtime
        except OSError:
            quiet = lease + 1
        if quiet > lease:
            return


def release(sdir, token, timeout=10.0):
    """Let go of the run's lock; False when it was not held for that token (already let go, or lost)."""
    info = holder(sdir)
    if not token or info.get("token") != token:
        return False
    _touch(os.path.join(sdir, "lock.release-" + token))
    deadline = time.time() + timeout
    while time.time() < deadline and holder(sdir).get("token") == token:
        time.sleep(0.1)
    return True


@contextlib.contextmanager
def working(sdir, token):
    """A step of the run that holds the lock: refused unless the lock is the run's; keeps it while it runs."""
    if not token:
        yield
        return
    wdir = os.path.join(sdir, WORKERS)
    if not os.path.isdir(wdir):
        os.makedirs(wdir, 0o700)
    me = os.getpid()
    path = os.path.join(wdir, str(me))
    _write_json(path, dict(pid=me, start=_starttime(me), token=token))
    try:
        info = holder(sdir)
        if info.get("token") != token:
            raise Lost(
                "this run's lock on the project was lost (%s); nothing was changed by this step"
                % (describe(info) if info else "its holder has gone")
            )
        _anchor(sdir, token)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            _touch(os.path.join(sdir, ALIVE))
