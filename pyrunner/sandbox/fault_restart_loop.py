"""The fault `ods-fix sandbox break restart-loop`: the cache exits at once, and its restart policy starts it again
and again.

As a user's own edit does it: `restart: unless-stopped` on redis in the compose file, with a setting redis refuses
(`--maxmemory-policy no-such-policy`, given as its entrypoint, so that it holds in both layouts), redis recreated
with it. Redis exits with code 1 and a fatal config error in its log; Docker restarts it, and its RestartCount grows.
"""

from __future__ import annotations

import time
from typing import Any

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import faults, stack

NAME = "restart-loop"
ROLE = "cache"
SECTION = "内存不足被杀 (killed for lack of memory, or restarting in a loop)"
DESCRIPTION = "redis given `restart: unless-stopped` and a setting it refuses: it exits at once, again and again"

LOOP_LINES = "    restart: unless-stopped\n    entrypoint: [redis-server, --maxmemory-policy, no-such-policy]\n"
LOOP = 3  # restarts: what diagnose calls a loop (module_utils/stack/restarts.py)


def inject(container: Any) -> str:
    compose, redis = faults.edit_cache(stack.require_instance(), NAME, LOOP_LINES)
    deadline = time.monotonic() + 60
    while True:
        redis.reload()
        count = redis.attrs.get("RestartCount") or 0
        if count >= LOOP:
            return f"{redis.name} exits at once and its policy restarts it ({count} restarts so far), from {compose}"
        if time.monotonic() > deadline:
            raise OdsFixError(f"{NAME}: {redis.name} was restarted {count} times in 60 s, not {LOOP}")
        time.sleep(0.5)
