"""The fault `ods-fix sandbox break memory-killed`: the cache killed by the kernel for lack of memory.

As a user's own limit does it: `mem_limit: 24m` on redis in the compose file, redis recreated with it, then a
48 MB value written into it (SETRANGE at that offset makes redis itself allocate it): the kernel kills
redis-server, the container's own process, and Docker records exit code 137 and OOMKilled.
"""

from __future__ import annotations

import time
from typing import Any

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import faults, stack

NAME = "memory-killed"
ROLE = "cache"
SECTION = "内存不足被杀 (killed for lack of memory, or restarting in a loop)"
DESCRIPTION = "redis given `mem_limit: 24m` in the compose file, then filled past it: killed (exit 137, OOMKilled)"

LIMIT = "    mem_limit: 24m\n"


def password(container: Any) -> str:
    """The redis password its command line sets (the local layout's --requirepass), else ""."""
    argv = (container.attrs.get("Config") or {}).get("Cmd") or []
    return next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--requirepass"), "")


def inject(container: Any) -> str:
    compose, redis = faults.edit_cache(stack.require_instance(), NAME, LIMIT)
    auth = password(redis)
    # Its connection is cut when the server is killed: the exit code of this command says nothing.
    redis.exec_run(
        ["redis-cli", "SETRANGE", "ods-fault-ballast", str(48 * 1048576), "x"],
        environment={"REDISCLI_AUTH": auth} if auth else None,
    )
    deadline = time.monotonic() + 30
    while True:
        redis.reload()
        state = redis.attrs.get("State") or {}
        if state.get("Status") == "exited" and state.get("OOMKilled"):
            return f"{redis.name} killed for lack of memory under `mem_limit: 24m` in {compose} (exit code 137)"
        if time.monotonic() > deadline:
            raise OdsFixError(f"{NAME}: {redis.name} was not killed for memory within 30 s ({state.get('Status')})")
        time.sleep(0.5)
