"""New secret values given on the controller (--value-from-file, --value-from-env, a hidden prompt).

A value never becomes an extra var: ansible-runner writes those into its
artifacts and puts them on ansible-playbook's command line. The role gets the
path of a file instead (the user's own, or a private temporary one, 0600 in
a 0700 directory, removed after the run), and its action plugin reads it on
the controller.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from pyrunner import paths
from pyrunner.errors import ExitCode, OdsFixError

Prompt = Callable[[str], "str | None"]


def provider_keys(role: str, keys: list[str] | None = None) -> set[str]:
    """The keys that are provider-issued: those the role's default secrets catalog marks so, and, among `keys`,
    those named like a provider's key (the catalog the stack's discovery builds uses the same rule)."""
    defaults = yaml.safe_load((paths.roles_dir() / role / "defaults" / "main.yml").read_text()) or {}
    entries = defaults.get(f"{role}_secrets") or []
    marked = {str(e.get("name")) for e in entries if isinstance(e, dict) and e.get("kind") == "provider"}
    rule = paths.load_module_util("security.key_rotation").PROVIDER_NAME
    return marked | {key for key in keys or [] if rule.search(key)}


def _check_file(path: Path, key: str) -> None:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise OdsFixError(f"{path} is not a regular file: no new value for {key}")
        with path.open("rb") as handle:
            if not handle.read(1):
                raise OdsFixError(f"{path} is empty: no new value for {key}")
    except OSError as exc:
        raise OdsFixError(f"cannot read the value file {path}: {exc.strerror}") from exc


@contextmanager
def value_files(
    keys: list[str],
    *,
    from_file: Path | None,
    from_env: str | None,
    providers: set[str],
    prompt: Prompt | None,
) -> Iterator[dict[str, str]]:
    """{key: path of a file holding its new value}, for the duration of the run."""
    if from_file is not None and from_env:
        raise OdsFixError("give one of --value-from-file and --value-from-env", ExitCode.USAGE)
    if (from_file is not None or from_env) and len(keys) != 1:
        raise OdsFixError(
            "--value-from-file and --value-from-env set the value of one key: name it with exactly one --key",
            ExitCode.USAGE,
        )
    if from_file is not None:
        _check_file(from_file, keys[0])
        yield {keys[0]: str(from_file)}
        return
    value = None
    key = keys[0] if keys else ""
    if from_env:
        # popped, not read: under an allowed prefix (ODS_FIX_...) it would reach ansible-playbook's environment
        value = os.environ.pop(from_env, "")
        if not value.strip():
            raise OdsFixError(f"environment variable {from_env} is not set or empty: no new value for {key}")
    else:
        asked = [k for k in keys if k in providers]
        if len(asked) > 1:
            raise OdsFixError(f"{', '.join(asked)} are provider-issued: rotate them one per run, each with its value")
        if asked and prompt is not None:
            key = asked[0]
            value = prompt(f"new value of {key} (issued by its provider; not shown)")
            if value is not None and not value.strip():
                raise OdsFixError(f"no value given for {key}: nothing was changed")
    if value is None:
        yield {}  # a provider key without a value is refused by the role, in one line
        return
    directory = Path(tempfile.mkdtemp(prefix="ods-fix-value-"))  # 0700
    try:
        path = directory / "value"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value)
        yield {key: str(path)}
    finally:
        shutil.rmtree(directory, ignore_errors=True)
