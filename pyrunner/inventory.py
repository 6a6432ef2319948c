"""Check an inventory and a --limit before anything runs, with Ansible's own parser."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from pyrunner import paths
from pyrunner.errors import OdsFixError


def resolve_hosts(inventory: Path, limit: str | None) -> list[str]:
    """The hosts a run would target; OdsFixError for a missing or malformed inventory or an unknown --limit."""
    if not inventory.exists():
        raise OdsFixError(f"inventory {inventory} does not exist")
    os.environ.setdefault("ANSIBLE_CONFIG", str(paths.ansible_cfg()))
    os.environ["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "True"
    from ansible.errors import AnsibleError  # noqa: PLC0415  (slow import, only when running)
    from ansible.inventory.manager import InventoryManager  # noqa: PLC0415
    from ansible.parsing.dataloader import DataLoader  # noqa: PLC0415

    noise = io.StringIO()
    try:
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
            manager = InventoryManager(loader=DataLoader(), sources=[str(inventory)])
    except AnsibleError as exc:
        raise OdsFixError(
            f"inventory {inventory} cannot be parsed: {parse_reason(noise.getvalue(), str(exc))}"
        ) from exc
    # The setting above is read when Ansible's constants are first imported: in a process that imported them
    # before (a test run), an unparsed source is only a warning. It is refused all the same.
    if "Unable to parse" in noise.getvalue() or "No inventory was parsed" in noise.getvalue():
        raise OdsFixError(
            f"inventory {inventory} cannot be parsed: {parse_reason(noise.getvalue(), 'no inventory plugin reads it')}"
        )
    hosts = [host.name for host in manager.get_hosts("all")]
    if not hosts:
        raise OdsFixError(f"inventory {inventory} has no hosts")
    if not limit:
        return hosts
    check_limit(limit)
    try:
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
            manager.subset(limit)
            selected = [host.name for host in manager.get_hosts("all")]
    except AnsibleError as exc:
        raise OdsFixError(f"--limit {limit}: {' '.join(str(exc).split())[:200]}") from exc
    if not selected:
        raise OdsFixError(f"--limit {limit} matches no host in {inventory} (hosts: {', '.join(sorted(hosts))})")
    return selected


def check_limit(limit: str) -> None:
    """Refuse what Ansible would take silently: a ~regex that does not compile (it then matches every host)."""
    from ansible.inventory.manager import split_host_pattern  # noqa: PLC0415

    for raw in {*limit.split(","), *split_host_pattern(limit)}:  # Ansible's own split turns "~[" into "~"
        term = raw.strip().lstrip("&!")
        if term.startswith("~"):
            try:
                re.compile(term[1:])
            except re.error as exc:
                raise OdsFixError(f"--limit {limit}: invalid pattern {term} ({exc})") from exc
        elif term.startswith("@") and not Path(term[1:]).is_file():
            raise OdsFixError(f"--limit {limit}: the limit file {term[1:]} does not exist")


def parse_reason(warnings: str, fallback: str) -> str:
    """The first parser's complaint and where, from Ansible's warnings: one line."""
    reason = next(
        (
            line.split(":", 2)[-1].strip()
            for line in warnings.splitlines()
            if line.startswith("[WARNING]: Failed to parse")
        ),
        "",
    )
    origin = next(
        (
            line.removeprefix("Origin:").strip()
            for line in warnings.splitlines()
            if line.startswith("Origin:") and ":" in line.removeprefix("Origin:")
        ),
        "",
    )
    text = " ".join(f"{reason} (at {origin})".split()) if reason and origin else " ".join((reason or fallback).split())
    return text[:300]
