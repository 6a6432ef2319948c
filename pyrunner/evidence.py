"""`ods-fix incident verify BUNDLE`: check an evidence bundle on this machine, with the collection's own code."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pyrunner import paths
from pyrunner.errors import OdsFixError


@cache
def _module() -> ModuleType:
    return paths.load_module_util("security.evidence")


@dataclass
class Verification:
    bundle: Path
    sha256: str
    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(bundle: Path) -> Verification:
    if not bundle.is_file():
        raise OdsFixError(f"{bundle} does not exist (or is not a file)")
    digest = hashlib.sha256()
    with bundle.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    manifest, problems = _module().verify(str(bundle))
    return Verification(bundle, digest.hexdigest(), manifest or {}, list(problems))
