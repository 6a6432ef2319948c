# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Run a command in a container with data on its stdin, as `docker exec -i` does.

Secrets (SQL with a password, a dump) go through stdin, never through a
command line that `ps` or an audit log could show.
"""

import socket
import struct

STDOUT, STDERR = 1, 2


class ExecResult:
    def __init__(self, code, stdout, stderr):
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    @property
    def text(self):
        return (self.stdout + self.stderr).decode("utf-8", "replace")


def _frames(raw):
    """Demultiplex docker's attach stream (8-byte headers: stream, 0, 0, 0, big-endian size)."""
    buffer = b""
    while True:
        chunk = raw.recv(1 << 20)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= 8:
            stream, size = struct.unpack(">BxxxL", buffer[:8])
            if len(buffer) < 8 + size:
                break
            yield stream, buffer[8 : 8 + size]
            buffer = buffer[8 + size :]


def _read_frames(raw, sink=None):
    out, err = bytearray(), bytearray()
    for stream, data in _frames(raw):
        if stream == STDERR:
            err.extend(data)
        elif sink is not None:
            sink(data)
        else:
            out.extend(data)
    return bytes(out), bytes(err)


def exec_stdin(api, container, cmd, data=b"", *, environment=None, timeout=120, user="", sink=None):
    """ExecResult of cmd run in container with data on stdin.

    With sink (a callable taking bytes), standard output is streamed to it
    instead of being collected, for output too large to hold in memory.
    """
    low = api.api
    exec_id = low.exec_create(
        container.id, cmd, stdin=True, stdout=True, stderr=True, environment=environment or {}, user=user
    )["Id"]
    sock = low.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    raw.settimeout(timeout)
    try:
        if data:
            raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        out, err = _read_frames(raw, sink)
    finally:
        raw.close()
    return ExecResult(low.exec_inspect(exec_id).get("ExitCode"), out, err)
