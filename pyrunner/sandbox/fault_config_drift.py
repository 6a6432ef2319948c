"""The fault `ods-fix sandbox break config-drift`: a setting edited in the files, and the stack not brought up again.

What a developer does: edit `.env` (or the compose file), then forget `docker compose up -d`, or run
`docker compose restart`, which keeps the environment a container was created with.
"""

from __future__ import annotations

from typing import Any

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import faults, stack

NAME = "config-drift"
ROLE = "data_api"
SECTION = "配置漂移 (config drift, a container still running with the settings from before the files were edited)"
DESCRIPTION = "a setting of the data API edited in the files; the API restarted, not recreated, so it keeps the old one"

# The manual's layout: its APIs read deploy/.env themselves, so the edit is in the compose file's environment.
MANUAL_LINE = "      ODS_SERVICE: alldata-api\n"


def inject(container: Any) -> str:
    instance = stack.require_instance()
    if instance.spec.name == "manual":
        compose = instance.compose_dir / "docker-compose.yml"
        text = compose.read_text()
        if MANUAL_LINE not in text:
            raise OdsFixError(f"{NAME}: {compose} has no `ODS_SERVICE: alldata-api` line to add a setting after")
        compose.write_text(text.replace(MANUAL_LINE, MANUAL_LINE + "      TZ: Asia/Shanghai\n"))
        what = f"added TZ to {container.name}'s environment in {compose}"
    else:
        faults.set_setting(instance, "LOG_LEVEL", "WARNING")
        what = f"set LOG_LEVEL=WARNING in {instance.env_file}"
    container.restart(timeout=10)
    return f"{what} and restarted {container.name} (a restart keeps the old environment)"
