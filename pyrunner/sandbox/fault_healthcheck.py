"""The fault `ods-fix sandbox break healthcheck`: a healthcheck that cannot fail, and the service failing behind it.

As in the public ODS files (`curl -s` without -f, `|| true`): the data API's healthcheck ends in `|| true`, the
API is recreated with it, then its database is stopped. The API answers 503 while Docker calls it healthy.
"""

from __future__ import annotations

import time
from typing import Any

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import faults, stack

NAME = "healthcheck"
ROLE = "data_api"
SECTION = "健康检查失真 (a healthcheck that cannot fail, or cannot pass)"
DESCRIPTION = (
    "the data API's healthcheck ends in `|| true`; its database stopped, it answers 503 while Docker says healthy"
)

# As YAML's double-quoted string: python urlopens the health URL (it raises on a 503), and `|| true` hides it.
CHECK = "python -c 'import urllib.request as u; u.urlopen(\\\"http://127.0.0.1:{port}/api/v1/health\\\")' || true"
# Where the data API's healthcheck goes in each layout's compose file: (the line it replaces or follows, its port).
ANCHORS = {
    "manual": ("  alldata-api:\n    <<: *api\n", 8080),
    "local": ('      test: ["CMD", "curl", "-f", "http://localhost:8001/api/v1/health"]\n', 8001),
}


def inject(container: Any) -> str:
    instance = stack.require_instance()
    compose = instance.compose_dir / "docker-compose.yml"
    text = compose.read_text()
    anchor, port = ANCHORS[instance.spec.name]
    if anchor not in text:
        raise OdsFixError(f"{NAME}: {compose} has not the data API's lines this fault edits")
    test = f'      test: ["CMD-SHELL", "{CHECK.format(port=port)}"]\n'
    if instance.spec.name == "manual":
        text = text.replace(anchor, anchor + "    healthcheck:\n" + test + "      interval: 10s\n")
    else:
        text = text.replace(anchor, test)
    compose.write_text(text)
    service = instance.spec.service(ROLE)
    faults.recreate(instance, service)
    client = stack.docker_client()
    api = stack.project_containers(client, instance.project)[service]
    deadline = time.monotonic() + 90
    while ((api.attrs.get("State") or {}).get("Health") or {}).get("Status") != "healthy":  # Docker's own word
        if time.monotonic() > deadline:
            raise OdsFixError(f"{NAME}: Docker did not call {api.name} healthy within 90 s")
        time.sleep(1)
        api.reload()
    database = stack.project_containers(client, instance.project)[instance.spec.service("database")]
    database.stop(timeout=30)
    return f"{service}'s healthcheck in {compose} ends in `|| true`; {database.name} stopped"
