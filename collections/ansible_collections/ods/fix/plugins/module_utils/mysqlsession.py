# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""A mysql client session inside the mysql container, fed a stream on stdin.

The client handles DELIMITER and stops at the first error; its stderr is
collected on a thread so that a full pipe never blocks the sender. With
interactive=True the client flushes after each statement, and query() waits for
a statement's rows: a transaction can then stay open across other work.
"""

import contextlib
import os
import socket
import threading
import time

from ansible_collections.ods.fix.plugins.module_utils import dockerexec


class SessionError(Exception):
    pass


class Session:
    def __init__(self, api, container, database=None, root=None, buffer_size=1 << 20, interactive=False, args=()):
        """root: a mysqlexec.Root (its client and password, found with a SELECT 1 first); None: mysql, no password.

        args: more client arguments (["--local-infile=1", "-e", statement] reads the stream as the statement's file).
        """
        program = root.program("sql") if root is not None else "mysql"
        cmd = [program, "--default-character-set=utf8mb4", "--max-allowed-packet=1G", "-u", "root"]
        if interactive:
            cmd += ["--unbuffered", "--batch", "--skip-column-names"]
        cmd += list(args)
        if database:
            cmd.append(database)
        env = root.env if root is not None else {}
        low = api.api
        self._low = low
        self._exec = low.exec_create(container.id, cmd, stdin=True, stdout=True, stderr=True, environment=env)["Id"]
        sock = low.exec_start(self._exec, socket=True)
        self._raw = getattr(sock, "_sock", sock)
        self._raw.settimeout(None)
        self._buffer = []
        self._buffered = 0
        self._buffer_size = buffer_size
        self._out, self._err = bytearray(), bytearray()
        self._closing = False
        self._arrived = threading.Condition()
        self._marks = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.sent = 0
        self.broken = False

    def _read(self):
        try:
            for stream, data in dockerexec._frames(self._raw):
                with self._arrived:
                    (self._err if stream == dockerexec.STDERR else self._out).extend(data)
                    self._arrived.notify_all()
        except OSError:
            pass
        with self._arrived:
            self._arrived.notify_all()
        if not self._closing:
            # The client stopped before its input ended (an error): dockerd keeps taking input for minutes,
            # so a blocked sendall is woken here rather than left to hang the load.
            with contextlib.suppress(OSError):
                self._raw.shutdown(socket.SHUT_RDWR)

    def send(self, data):
        if self.broken:
            return
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= self._buffer_size:
            self.flush()

    def send_file(self, handle, offset, count):
        """Send count bytes of an open file from offset: by the kernel (sendfile) when they are many."""
        if count < (1 << 18):
            self.send(os.pread(handle.fileno(), count, offset))
            return
        self.flush()
        if self.broken:
            return
        try:
            sent = self._raw.sendfile(handle, offset, count)
        except OSError:
            self.broken = True  # the client stopped, on an error; close() reports it
            return
        self.sent += sent
        if sent < count:
            raise SessionError(f"{handle.name} is shorter than when it was read: it changed during the restore")

    def flush(self):
        if not self._buffer or self.broken:
            return
        payload = b"".join(self._buffer)
        self._buffer, self._buffered = [], 0
        try:
            self._raw.sendall(payload)
            self.sent += len(payload)
        except OSError:
            self.broken = True  # the client stopped, on an error; close() reports it

    def query(self, statements, timeout=3600):
        """Run statements (interactive sessions only) and return the rows they print, as lists of columns.

        A marker selected after them tells where their output ends; SessionError when the client stopped (an
        error: it exits at the first) or took longer than timeout seconds.
        """
        self._marks += 1
        mark = b"ods-fix-mark-%d\n" % self._marks
        with self._arrived:
            start = len(self._out)
        self.send(statements.encode("utf-8") + b"\nSELECT '" + mark.strip() + b"';\n")
        self.flush()
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                end = self._out.find(mark, start)
                if end >= 0:
                    text = bytes(self._out[start:end]).decode("utf-8", "replace")
                    del self._out[:]
                    return [line.split("\t") for line in text.splitlines()]
                if self.broken or not self._reader.is_alive():
                    lines = [line for line in self._err.decode("utf-8", "replace").splitlines() if line.strip()]
                    raise SessionError(lines[-1] if lines else "the mysql client stopped")
                if time.monotonic() > deadline:
                    raise SessionError("no answer from the mysql client in %d s" % timeout)
                self._arrived.wait(1)

    def abandon(self):
        """Let the session go without waiting for the client (it may be stuck in a statement)."""
        self._closing = True
        with contextlib.suppress(OSError):
            self._raw.close()

    def close(self):
        """Finish the stream; SessionError with the client's error when it failed."""
        self.flush()
        self._closing = True
        with contextlib.suppress(OSError):  # the client may have gone already, on an error
            self._raw.shutdown(socket.SHUT_WR)
        self._reader.join()
        self._raw.close()
        code = self._low.exec_inspect(self._exec).get("ExitCode")
        if code != 0 or self.broken:
            lines = [line for line in self._err.decode("utf-8", "replace").splitlines() if line.strip()]
            raise SessionError(lines[-1] if lines else f"mysql exited with {code}")
        return self._out.decode("utf-8", "replace")
