"""Which stack a command works on: the inventory's hosts (-i), the sandbox (--sandbox), or a Compose project on
this machine: the one named (--project-dir, --project-name, or ODS_FIX_PROJECT_DIR / ODS_FIX_PROJECT_NAME), else
the one where you stand.

Where you stand, in this order, as Compose itself would look and as ODS checkouts are laid out:
1. a Compose project with containers whose working directory is the current folder, else one under it (the
   checkout's root, whose stack runs from deploy/local), else the nearest one above it;
2. failing that, compose files: in the current folder, else under it in deploy/local or deploy, else in the nearest
   folder above it (Compose's own search).
Two candidates at the same step are never guessed between: the error lists both and names the flag.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyrunner import engine, paths
from pyrunner.errors import ExitCode, OdsFixError

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")  # Compose v2's order
ODS_DIRS = ("deploy/local", "deploy")  # where an ODS checkout keeps its compose files, below its root
POINT_AT = (
    "cd into the checkout, or give --project-dir DIR or --project-name NAME; --sandbox for ods-fix's own "
    "sandbox (ods-fix sandbox up)"
)


@dataclass(frozen=True)
class Target:
    how: str  # how it was chosen, said on every run's first line
    inventory: Path | None = None  # -i, or the sandbox's; None: a local project, its inventory written per run
    project_dir: Path | None = None
    project_name: str = ""

    @property
    def local(self) -> bool:
        return self.inventory is None

    @property
    def host(self) -> str:
        """The inventory name of a local project's host: the project's name, or its folder's."""
        raw = self.project_name or (self.project_dir.name if self.project_dir else "") or "local"
        return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)

    def describe(self) -> str:
        if self.inventory is not None and self.how == "-i":
            return f"the hosts of {self.inventory} (-i)"
        what = f"project {self.project_name}" if self.project_name else "the project"
        if self.how == "--sandbox":
            what = "the sandbox"
        return f"{what} in {self.project_dir} ({self.how})"

    def flags(self) -> str:
        """What a command needs to reach this stack again: the flags that chose it (the environment stays set)."""
        if self.how == "-i":
            return f"-i {shlex.quote(str(self.inventory))}"
        if self.how == "--sandbox":
            return "--sandbox"
        words = []
        if self.how.startswith("--project-dir"):
            words += ["--project-dir", shlex.quote(str(self.project_dir))]
        if "--project-name" in self.how:
            words += ["--project-name", shlex.quote(self.project_name)]
        return " ".join(words)

    def document(self) -> dict[str, Any]:
        return {
            "how": self.how,
            "inventory": str(self.inventory) if self.inventory else None,
            "project_dir": str(self.project_dir) if self.project_dir else None,
            "project_name": self.project_name or None,
        }

    def inventory_data(self) -> dict[str, Any]:
        """The inventory that reaches a local project: this machine, its Docker engine, the project's directory."""
        host: dict[str, Any] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "ods_project_dir": str(self.project_dir),
        }
        if self.project_name:
            host["ods_compose_project"] = self.project_name
        return {"ods_dev": {"hosts": {self.host: host}}}

    def inventory_for(self, run_dir: Path) -> Path:
        """The inventory a run uses: -i's or the sandbox's, or a local project's, written into the run directory."""
        if self.inventory is not None:
            return self.inventory
        path = run_dir / "inventory.yml"
        path.write_text(dump_inventory(self.inventory_data()))
        path.chmod(0o600)
        return path


TEMPLATED = {"ansible_python_interpreter"}  # the one value of an inventory ods-fix writes that Ansible must template


class _Unsafe(str):
    pass


def _untemplated(data: Any, key: str = "") -> Any:
    if isinstance(data, dict):
        return {k: _untemplated(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_untemplated(v, key) for v in data]
    return _Unsafe(data) if isinstance(data, str) and key not in TEMPLATED else data


def dump_inventory(data: dict[str, Any]) -> str:
    """YAML for an inventory (or host vars) ods-fix writes: every string but TEMPLATED is tagged !unsafe, so that a
    folder or project named with `{{ ... }}` is a name to Ansible, never a template it would run."""
    import yaml  # noqa: PLC0415

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))
    return str(yaml.dump(_untemplated(data), Dumper=Dumper, sort_keys=False, allow_unicode=True))


@dataclass(frozen=True)
class Choice:
    """The target options as given: resolved once the command has checked its own input, which needs no stack."""

    inventory: Path | None = None
    sandbox: bool = False
    project_dir: Path | None = None
    project_name: str | None = None

    def resolve(self) -> Target:
        return resolve(
            inventory=self.inventory, sandbox=self.sandbox, project_dir=self.project_dir, project_name=self.project_name
        )


def resolve(
    *,
    inventory: Path | None,
    sandbox: bool = False,
    project_dir: Path | None = None,
    project_name: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    projects: Callable[[], list[engine.Project]] | None = None,
) -> Target:
    """The target of a command from its flags, the environment and the current folder; OdsFixError if none.

    projects lists the Compose projects on this machine (default: the Docker engine's, engine.compose_projects)."""
    env = os.environ if env is None else env
    projects = projects or engine.compose_projects
    flags = [flag for flag, given in (("--project-dir", project_dir), ("--project-name", project_name)) if given]
    if inventory is not None:
        if flags or sandbox:
            raise OdsFixError(
                f"{(flags or ['--sandbox'])[0]} cannot be used with -i: the inventory says where each host's "
                "stack is (ods_project_dir, ods_compose_project)",
                ExitCode.USAGE,
            )
        return Target("-i", inventory=inventory)
    if sandbox:
        if flags:
            raise OdsFixError(f"{flags[0]} cannot be used with --sandbox: choose one stack", ExitCode.USAGE)
        from pyrunner.sandbox.stack import require_instance  # noqa: PLC0415

        require_instance()
        return Target("--sandbox", inventory=paths.default_inventory(), project_dir=paths.sandbox_dir())
    how_dir, how_name = "--project-dir", "--project-name"
    if project_dir is None and env.get("ODS_FIX_PROJECT_DIR"):
        project_dir, how_dir = Path(env["ODS_FIX_PROJECT_DIR"]), "ODS_FIX_PROJECT_DIR"
    if not project_name and env.get("ODS_FIX_PROJECT_NAME"):
        project_name, how_name = env["ODS_FIX_PROJECT_NAME"], "ODS_FIX_PROJECT_NAME"
    if project_dir is not None:
        return by_dir(project_dir, project_name or "", how_dir, how_name, projects)
    if project_name:
        return by_name(project_name, how_name, projects)
    if cwd is None:
        try:
            cwd = Path.cwd()
        except OSError as exc:  # the folder was removed under the shell
            raise OdsFixError(
                f"the current folder is gone ({exc.strerror}): cd into your checkout, or give --project-dir DIR, "
                "--project-name NAME or --sandbox"
            ) from exc
    return where_you_stand(cwd.absolute(), projects)


def by_dir(directory: Path, name: str, how: str, how_name: str, projects: Callable[[], list[engine.Project]]) -> Target:
    directory = directory.expanduser().absolute()
    if not directory.is_dir():
        raise OdsFixError(f"{how} {directory} does not exist or is not a directory")
    known = _projects_or_none(projects)
    if name:
        match = [p for p in known or [] if p.name == name]
        if known is not None and not match:
            raise OdsFixError(f"{how_name} {name} matches no Compose project on this machine{_listing(known)}")
        return Target(f"{how} and {how_name}", project_dir=directory, project_name=name)
    running = [p for p in known or [] if p.working_dir and _within(Path(p.working_dir), directory)]
    if not running and not any(_compose_file(directory / sub) for sub in (".", *ODS_DIRS)):
        raise OdsFixError(
            f"{how} {directory} holds no compose file (looked in ., {', '.join(ODS_DIRS)}) and no Compose project "
            "runs from it"
        )
    here = [p for p in running if _within(directory, Path(p.working_dir))]
    candidates = here or running
    if len(candidates) > 1:
        listed = "; ".join(f"{p.name} in {p.working_dir}" for p in candidates)
        raise OdsFixError(f"{len(candidates)} stacks run from {directory} ({listed}): choose one with --project-name")
    return Target(how, project_dir=directory, project_name=candidates[0].name if candidates else "")


def by_name(name: str, how: str, projects: Callable[[], list[engine.Project]]) -> Target:
    known = _projects(projects)
    match = next((p for p in known if p.name == name), None)
    if match is None:
        raise OdsFixError(f"{how} {name} matches no Compose project on this machine{_listing(known)}")
    if not match.working_dir:
        raise OdsFixError(f"{how} {name}: its containers record no working directory; give --project-dir too")
    return Target(how, project_dir=Path(match.working_dir), project_name=name)


def where_you_stand(cwd: Path, projects: Callable[[], list[engine.Project]]) -> Target:
    known = _projects_or_none(projects)
    steps: list[tuple[str, list[tuple[Path, str]]]] = []
    with_dirs = [(Path(p.working_dir), p.name) for p in known or [] if p.working_dir]
    here = [c for c in with_dirs if _within(c[0], cwd) and _within(cwd, c[0])]
    below = [c for c in with_dirs if _within(c[0], cwd, strict=True)]
    above = [c for c in with_dirs if _within(cwd, c[0], strict=True)]
    nearest = max((len(d.parts) for d, _ in above), default=0)
    steps.append(("the Compose project of the current folder", here))
    steps.append(("the Compose project under the current folder", below))
    steps.append(("the Compose project of a folder above", [c for c in above if len(c[0].parts) == nearest]))
    steps.append(("the compose file in the current folder", [(cwd, "")] if _compose_file(cwd) else []))
    files_below = [(cwd / sub, "") for sub in ODS_DIRS if _compose_file(cwd / sub)]
    steps.append(("the compose file under the current folder", files_below))
    ancestor = next((d for d in cwd.parents if _compose_file(d)), None)
    steps.append(("the compose file of a folder above", [(ancestor, "")] if ancestor else []))
    for how, found in steps:
        if len(found) == 1:
            directory, name = found[0]
            return Target(f"{how}, {cwd}" if how.endswith("above") else how, project_dir=directory, project_name=name)
        if found:
            listed = "; ".join(f"{name} in {d}" if name else str(d) for d, name in found)
            flag = "--project-name" if all(name for _, name in found) else "--project-dir"
            raise OdsFixError(f"{len(found)} stacks are where you stand ({listed}): choose one with {flag}")
    unreachable = " (the Docker engine did not answer, so only compose files were looked for)" if known is None else ""
    raise OdsFixError(f"no Compose stack in or around {cwd}{unreachable}{_listing(known or [])}: {POINT_AT}")


def _projects(projects: Callable[[], list[engine.Project]]) -> list[engine.Project]:
    try:
        return projects()
    except engine.EngineUnreachableError as exc:
        raise OdsFixError(f"{exc}: is dockerd running?") from exc


def _projects_or_none(projects: Callable[[], list[engine.Project]]) -> list[engine.Project] | None:
    try:
        return projects()
    except engine.EngineUnreachableError:
        return None


def _listing(known: list[engine.Project]) -> str:
    if not known:
        return "; no Compose project has a container on this machine"
    shown = "; ".join(p.line() for p in known[:6]) + ("; ..." if len(known) > 6 else "")
    return f"; projects here: {shown}"


def _within(inner: Path, outer: Path, strict: bool = False) -> bool:
    inner, outer = Path(os.path.realpath(inner)), Path(os.path.realpath(outer))
    return (inner != outer or not strict) and (inner == outer or outer in inner.parents)


def _compose_file(directory: Path) -> bool:
    return any((directory / name).is_file() for name in COMPOSE_FILES)
