"""The fault `ods-fix sandbox break env-file`: the env file Compose reads is gone, the stack still running.

What a developer does: `git clean -fdx`, a fresh clone beside the running stack, or copying `.env.example` to the
checkout's root, where Compose does not look (what ODS's RUNBOOK once said). The local layout's `${VAR:?}` then
make every Compose command fail, `ps` included; the manual layout's `${VAR:-default}` silently give other ports,
and another project name, at the next `up`.
"""

from __future__ import annotations

from typing import Any

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import stack

NAME = "env-file"
ROLE = "data_api"
SECTION = "环境文件缺失 (the project env file missing, or a required variable unset)"
DESCRIPTION = "the .env Compose reads deleted while the stack runs (git clean, a fresh clone)"


def inject(container: Any) -> str:
    instance = stack.require_instance()
    env_file = instance.compose_dir / ".env"
    if not env_file.is_file():
        raise OdsFixError(f"{NAME}: {env_file} is not there to delete")
    env_file.unlink()
    return f"deleted {env_file}; {container.name} and the rest of the stack still run with its values"
