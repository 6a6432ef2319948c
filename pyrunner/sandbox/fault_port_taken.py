"""The fault `ods-fix sandbox break port-taken`: another program holds the host port the data API publishes.

What a developer meets: another stack's Keycloak on 8080, a local MySQL on 3306, a dev server left running.
The data API is stopped, a process listens on its host port, and the API cannot start again: Docker says
`address already in use`. `sandbox down` stops that process (its pid is kept in the instance directory).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from docker import errors as docker_errors

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import stack

NAME = "port-taken"
ROLE = "data_api"
SECTION = "端口被占用 (a host port the stack publishes, taken by another program)"
DESCRIPTION = "the data API stopped; a process listens on its host port, so it cannot start again"

PORT_SETTING = {"manual": "ODS_PORT_ALLDATA_API", "local": "DATA_API_HOST_PORT"}


def inject(container: Any) -> str:
    instance = stack.require_instance()
    port = instance.port(PORT_SETTING[instance.spec.name])
    container.stop(timeout=10)
    # A plain HTTP server on 127.0.0.1, serving an empty folder: nothing of the sandbox is exposed.
    squatter = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=tempfile.mkdtemp(prefix="ods-port-taken-"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    stack.keep_squatter(instance, squatter.pid)
    deadline = time.monotonic() + 15
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline or squatter.poll() is not None:
            raise OdsFixError(f"{NAME}: nothing listens on 127.0.0.1:{port} (the process exited?)")
        time.sleep(0.2)
    try:
        container.start()
    except docker_errors.APIError as exc:
        return (
            f"stopped {container.name}; process {squatter.pid} listens on 127.0.0.1:{port}; {container.name} "
            f"cannot start: {exc.explanation or exc}"
        )
    raise OdsFixError(f"{NAME}: {container.name} started although 127.0.0.1:{port} is taken (no userland proxy?)")
