# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Run a command in a container with data on its stdin, as `docker exec -i` does.

Secrets (SQL with a password, a dump) go through stdin, never through a
command line that `ps` or an audit log could show. Also the engine's other
calls into a container that the docker SDK has no method for.
"""

import base64
import json
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


def attach(low, exec_id):
    """(socket, read) of a started exec: the socket to write its stdin to, and `read(n)` for what it prints.

    docker-py hands back the socket beneath http.client's buffered reader, and what docker sent right behind the
    upgrade's headers may already be in that buffer: read from the socket alone it is lost (a fast command's whole
    output, seen under load as an empty LOAD DATA result). So the output is read through the buffered reader."""
    sock = low.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    response = getattr(getattr(sock, "_response", None), "raw", None)
    buffered = getattr(getattr(response, "_fp", None), "fp", None)
    return raw, buffered.read1 if hasattr(buffered, "read1") else raw.recv


def _frames(read):
    """Demultiplex docker's attach stream (8-byte headers: stream, 0, 0, 0, big-endian size); read(n) gives bytes."""
    buffer = b""
    while True:
        chunk = read(1 << 20)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= 8:
            stream, size = struct.unpack(">BxxxL", buffer[:8])
            if len(buffer) < 8 + size:
                break
            yield stream, buffer[8 : 8 + size]
            buffer = buffer[8 + size :]


def _read_frames(read, sink=None):
    out, err = bytearray(), bytearray()
    for stream, data in _frames(read):
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
    raw, read = attach(low, exec_id)
    raw.settimeout(timeout)
    try:
        if data:
            raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        out, err = _read_frames(read, sink)
    finally:
        raw.close()
    return ExecResult(low.exec_inspect(exec_id).get("ExitCode"), out, err)


def path_stat(api, container_id, path):
    """The engine's stat of one path in a container ({name, size, mode, mtime, linkTarget}), without its content:
    HEAD /containers/ID/archive (`docker cp`'s stat), which the SDK has no call for."""
    answer = api.head(api._url("/containers/{0}/archive", container_id), params={"path": path})
    api._raise_for_status(answer)
    return json.loads(base64.b64decode(answer.headers["X-Docker-Container-Path-Stat"]))
