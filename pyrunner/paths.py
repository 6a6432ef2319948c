"""Where ods-fix finds its assets (roles, collection, inventory, sandbox) and keeps its state."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from types import ModuleType

_PACKAGE = Path(__file__).resolve().parent


def asset_root() -> Path:
    """The directory holding roles/, collections/, inventory/, sandbox/ and ansible.cfg.

    A wheel carries them in pyrunner/_assets; an editable install or a checkout
    uses the repository itself.
    """
    bundled = _PACKAGE / "_assets"
    return bundled if bundled.is_dir() else _PACKAGE.parent


def roles_dir() -> Path:
    return asset_root() / "roles"


def collections_dir() -> Path:
    return asset_root() / "collections"


def collection_dir() -> Path:
    return collections_dir() / "ansible_collections" / "ods" / "fix"


def playbook(name: str) -> Path:
    return collection_dir() / "playbooks" / f"{name.replace('-', '_')}.yml"


def sandbox_source() -> Path:
    return asset_root() / "sandbox"


def default_inventory() -> Path:
    return asset_root() / "inventory" / "sandbox.yml"


def ansible_cfg() -> Path:
    return asset_root() / "ansible.cfg"


def state_home() -> Path:
    """Per-user state: run directories, the sandbox instance, build caches."""
    if env := os.environ.get("ODS_FIX_HOME"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ods-fix"


def sandbox_dir() -> Path:
    """The sandbox instance (compose project directory) the default inventory points at."""
    if env := os.environ.get("ODS_FIX_SANDBOX_DIR"):
        return Path(env).expanduser()
    return state_home() / "sandbox"


def runs_dir() -> Path:
    return state_home() / "runs"


def cache_dir() -> Path:
    if env := os.environ.get("ODS_FIX_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ods-fix"


@functools.cache
def load_module_util(name: str, package: str = "module_utils") -> ModuleType:
    """One of the collection's module_utils (or, with package="plugin_utils", its controller-side utils) that
    needs only the standard library (the catalog, the evidence format), named by its dotted path under the
    package ("security.evidence") and loaded from its file: the single source, for the CLI and the collection."""
    return load_file(collection_dir() / "plugins" / package / f"{name.replace('.', '/')}.py", name)


def event_source(name: str) -> ModuleType:
    """The collection's Event-Driven Ansible event source `name`, loaded from its file (`ods-fix watch` runs the
    same source ansible-rulebook does)."""
    return load_file(collection_dir() / "extensions" / "eda" / "plugins" / "event_source" / f"{name}.py", name)


def load_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"ods_fix_{name.replace('.', '_')}", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with the package
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
