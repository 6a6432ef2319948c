# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""What a responder looks at first (疑似入侵: 未知进程, 异常网络连接): sockets, processes, changed files. Pure logic."""

import os
import socket
import struct

TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0A": "LISTEN",
    "0B": "CLOSING",
}
PROC_NET = ("tcp", "tcp6", "udp", "udp6")
# Paths every container writes to at run time: sockets, pid files, caches. Everything else changed is listed.
ROUTINE_CHANGES = ("/run", "/var/run", "/var/cache", "/root/.cache", "/tmp/.X11-unix", "/var/lib/nginx")


def _address(hex_address):
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, struct.pack("<I", struct.unpack(">I", raw)[0]))
    else:  # four little-endian 32-bit words
        words = struct.unpack(">4I", raw)
        ip = socket.inet_ntop(socket.AF_INET6, struct.pack("<4I", *words))
        if ip.startswith("::ffff:") and "." in ip:
            ip = ip[len("::ffff:") :]
    return ip, int(port, 16)


def parse_proc_net(text, proto):
    """Sockets from a /proc/net/{tcp,tcp6,udp,udp6} table."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            local, remote = _address(fields[1]), _address(fields[2])
        except (ValueError, OSError):
            continue
        state = (
            TCP_STATES.get(fields[3].upper(), fields[3])
            if proto.startswith("tcp")
            else ("LISTEN" if fields[2].endswith(":0000") and remote[1] == 0 else "CONNECTED")
        )
        sockets.append(
            {
                "proto": proto,
                "local": "%s:%d" % local,
                "remote": "%s:%d" % remote,
                "state": state,
                "remote_ip": remote[0],
                "inode": fields[9],
            }
        )
    return sockets


def socket_owners(pids, proc="/proc"):
    """inode -> 'pid/command' for the sockets the given host PIDs hold (needs the right to read their fds)."""
    owners = {}
    for pid in pids:
        fd_dir = os.path.join(proc, str(pid), "fd")
        try:
            with open(os.path.join(proc, str(pid), "comm")) as handle:
                name = handle.read().strip()
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                owners.setdefault(target[8:-1], f"{pid}/{name}")
    return owners


def outside(ip, local_networks):
    """True for a peer that is neither loopback, unspecified, nor on one of the project's networks."""
    if ip in ("0.0.0.0", "::", "127.0.0.1", "::1") or ip.startswith("127."):
        return False
    return not any(_in_network(ip, network) for network in local_networks)


def _in_network(ip, cidr):
    try:
        base, bits = cidr.split("/")
        family = socket.AF_INET6 if ":" in base else socket.AF_INET
        if (":" in ip) != (family == socket.AF_INET6):
            return False
        size = 128 if family == socket.AF_INET6 else 32
        mask = (1 << size) - (1 << (size - int(bits)))

        def as_int(text):
            return int.from_bytes(socket.inet_pton(family, text), "big")

        return as_int(ip) & mask == as_int(base) & mask
    except (ValueError, OSError):
        return False


def render_connections(sockets):
    lines = ["%-5s %-42s %-42s %-12s %s" % ("proto", "local", "remote", "state", "pid/program")]
    for item in sockets:
        lines.append(
            "%-5s %-42s %-42s %-12s %s"
            % (item["proto"], item["local"], item["remote"], item["state"], item.get("owner", "-"))
        )
    return "\n".join(lines) + "\n"


def render_top(top):
    titles = top.get("Titles") or []
    rows = top.get("Processes") or []
    return "\n".join(["\t".join(titles)] + ["\t".join(row) for row in rows]) + "\n"


def program(command):
    """The program from a ps CMD column: '/usr/bin/python3 server.py' -> 'python3', 'nginx: worker' -> 'nginx'."""
    first = (command or "").split()[0] if (command or "").split() else ""
    return os.path.basename(first.rstrip(":"))


def _health_run(command, health_test):
    """A run of the container's own health check (its shell, or the command in it), or runc starting one."""
    text = " ".join((command or "").split())
    if not text or text == "runc init" or (text.startswith("[") and text.endswith("]")):
        return True
    test = " ".join((health_test or "").split())
    return bool(test) and (text in test or test in text)


def foreign_processes(top, main_pid, health_test=""):
    """Processes that do not run the container's own program (its first process's): the manual's 未知进程.

    docker top lists by host PID, not in start order, so the main process is found by its PID
    (State.Pid); health-check runs are left out.
    """
    titles = top.get("Titles") or []
    rows = top.get("Processes") or []
    if not rows or "PID" not in titles or not ("CMD" in titles or "COMMAND" in titles):
        return []
    cmd = titles.index("CMD" if "CMD" in titles else "COMMAND")
    pid = titles.index("PID")
    user = titles.index("UID") if "UID" in titles else (titles.index("USER") if "USER" in titles else None)
    main = [row for row in rows if str(row[pid]) == str(main_pid)]
    main_program = program(main[0][cmd]) if main else ""
    found = []
    for row in rows:
        if str(row[pid]) == str(main_pid) or program(row[cmd]) == main_program or _health_run(row[cmd], health_test):
            continue
        found.append({"pid": row[pid], "user": row[user] if user is not None else "", "command": row[cmd]})
    return found


def notable_changes(diff, mounts=()):
    """Files added, changed or deleted in the container since it was created: leaves only, without mount points
    and routine run-time paths (sockets, pid files, caches, nginx's temp directories)."""
    kinds = {0: "changed", 1: "added", 2: "deleted"}
    entries = [(item.get("Path", ""), kinds.get(item.get("Kind"), "?")) for item in diff or []]
    paths = {path for path, _kind in entries}
    skipped = tuple(ROUTINE_CHANGES) + tuple(mounts)
    notable = []
    for path, kind in sorted(entries):
        if kind != "deleted" and any(other.startswith(path + "/") for other in paths):
            continue  # a directory that changed because something in it did
        if any(path == p or path.startswith(p + "/") or p.startswith(path + "/") for p in skipped):
            continue
        if "/__pycache__" in path:
            continue
        notable.append({"path": path, "kind": kind})
    return notable


def render_diff(diff):
    letters = {0: "C", 1: "A", 2: "D"}
    return "".join("{} {}\n".format(letters.get(item.get("Kind"), "?"), item.get("Path", "")) for item in diff or [])


# A repository an intruder may have changed must not run their code when it is read: its own config can name a
# file system monitor (core.fsmonitor), hooks, a pager and external diff or text-conversion programs, each run by
# a plain `git status` or `git diff`. They are overridden on the command line (which wins over every file), and
# git is told to write nothing (no index refresh, no lock).
GIT_SAFE = [
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.pager=cat",
    "-c", "diff.external=",
    "-c", "core.untrackedCache=false",
    "--no-pager",
]  # fmt: skip
GIT_ENV = {"GIT_PAGER": "cat", "PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def git_argv(directory, argv):
    """The command line that runs `git argv` in directory without running anything the repository names."""
    extra = ["--no-ext-diff", "--no-textconv"] if argv and argv[0] in ("diff", "log", "show") else []
    return ["git", *GIT_SAFE, "-C", directory, argv[0], *extra, *argv[1:]]


def git_env(environ):
    """The environment for git_argv: the caller's, without what names programs for git to run, plus GIT_ENV."""
    env = {k: v for k, v in environ.items() if k not in ("GIT_EXTERNAL_DIFF", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_DIR")}
    env.update(GIT_ENV)
    return env
