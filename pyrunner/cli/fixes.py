"""One command per fix of the catalog (its options from the role's argument specs), `incident verify`, and
`discover`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pyrunner import catalog, engine, evidence, fleet, render, supplied
from pyrunner.catalog import Fix, FixOption
from pyrunner.cli.app import CONTEXT, EXIT_CODES_HELP, cli
from pyrunner.errors import OdsFixError
from pyrunner.execution import execute_fix, run_fix
from pyrunner.target import Choice, Target, dump_inventory

CLICK_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool}


class AmountType(click.ParamType):  # type: ignore[type-arg]
    name = "N|P%"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> fleet.Amount:
        if isinstance(value, fleet.Amount):
            return value
        try:
            return fleet.Amount.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


AMOUNT = AmountType()


TARGET_OPTIONS = [  # which stack or hosts, how many at once: every fix command, discover and doctor
    click.option(
        "--project-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="The stack whose compose files (or running project) are in DIR, as Compose's --project-directory. "
        "Default: the stack where you stand (the current folder, a folder under it, or above it). "
        "Also ODS_FIX_PROJECT_DIR.",
    ),
    click.option(
        "--project-name",
        metavar="NAME",
        default=None,
        shell_complete=lambda _ctx, _param, incomplete: project_names(incomplete),
        help="The Compose project of that name on this machine (as Compose's -p). Also ODS_FIX_PROJECT_NAME.",
    ),
    click.option("--sandbox", is_flag=True, help="ods-fix's own sandbox (ods-fix sandbox up)."),
    click.option(
        "-i",
        "--inventory",
        type=click.Path(path_type=Path),
        default=None,
        help="Ansible inventory of dev machines, each with its ods_project_dir; wins over ODS_FIX_PROJECT_*.",
    ),
    click.option("--limit", metavar="PATTERN", help="Only these hosts (Ansible's --limit pattern)."),
    click.option("--forks", type=click.IntRange(1, 200), default=None, help="Hosts worked on at once (default 10)."),
]


def project_names(prefix: str) -> list[str]:
    """The Compose projects on this machine, for the shell's completion of --project-name."""
    try:
        return [p.name for p in engine.compose_projects() if p.name.startswith(prefix)]
    except engine.EngineUnreachableError:
        return []


def apply_options(options: list[Callable[..., Any]], target: Any) -> Any:
    """Add options in their --help order: click appends them to a Command, but collects a function's in reverse."""
    for option in options if isinstance(target, click.Command) else reversed(options):
        target = option(target)
    return target


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    return apply_options(TARGET_OPTIONS, func)  # type: ignore[no-any-return]


def pop_target(kwargs: dict[str, Any]) -> Choice:
    """The stack the command works on, as its target options say (taken out of kwargs); resolved when it runs."""
    return Choice(
        inventory=kwargs.pop("inventory"),
        sandbox=kwargs.pop("sandbox"),
        project_dir=kwargs.pop("project_dir"),
        project_name=kwargs.pop("project_name"),
    )


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        *TARGET_OPTIONS,
        click.option(
            "--serial",
            type=AMOUNT,
            default=None,
            help="Batches: this many hosts (3) or this share of them (25%), one batch after the other.",
        ),
        click.option(
            "--max-fail",
            type=AMOUNT,
            default=None,
            help="Start no new batch once MORE THAN this many hosts (2) or this share (10%) have failed or were "
            "unreachable; 0: stop at the first. Running hosts finish; the rest are reported skipped. Without "
            "--serial, batches are --forks hosts.",
        ),
        click.option("--canary", is_flag=True, help="Run on the first host alone first; go on only if it succeeded."),
        click.option(
            "--check", is_flag=True, help="Dry run: show what would change, change nothing (exit 6 if something would)."
        ),
        click.option("--diff", is_flag=True, help="Show the changes made (or, with --check, that would be)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of tables."),
        click.option("-v", "--verbose", count=True, help="More detail: -v lists every task, -vv and up is Ansible's."),
    ]
    return apply_options(options, func)  # type: ignore[no-any-return]


def _click_option(option: FixOption) -> Callable[..., Any]:
    kind: Any = (
        click.Choice(option.choices) if option.choices and option.type != "list" else CLICK_TYPES.get(option.type, str)
    )
    if option.type == "path":
        kind = click.Path(path_type=Path)
    if option.minimum is not None:
        kind = (click.IntRange if option.type == "int" else click.FloatRange)(min=option.minimum)
    shown = option.default not in (None, [], "") and option.type != "bool"
    help_text = option.help + (f" [default: {option.default}]" if shown else "")
    if option.secret_source:  # two flags may feed one role variable: each gets its own name here
        return click.option(f"--{option.flag}", secret_dest(option), type=kind, default=None, help=help_text)
    if option.type == "bool":
        return click.option(f"--{option.flag}", option.var, is_flag=True, default=None, help=help_text)
    if option.type == "list":
        choices = click.Choice(option.choices) if option.choices else str
        return click.option(f"--{option.flag}", option.var, type=choices, multiple=True, default=None, help=help_text)
    return click.option(
        f"--{option.flag}", option.var, type=kind, default=None, required=option.required, help=help_text
    )


def secret_dest(option: FixOption) -> str:
    return f"{option.var}__{option.secret_source}"


def _prompt_hidden(text: str) -> str | None:
    """A hidden prompt, asked twice, when a person is at a terminal; None otherwise."""
    if not sys.stdin.isatty():
        return None
    return str(click.prompt(text, hide_input=True, confirmation_prompt=True, err=True))


def make_fix_command(fix: Fix) -> click.Command:
    secret_options = [o for o in fix.options if o.secret_source]

    def callback(**kwargs: Any) -> int:
        common = {k: kwargs.pop(k) for k in ("limit", "forks", "check", "diff", "verbose", "as_json")}
        common["target"] = pop_target(kwargs)
        common["rate"] = fleet.RateControl(
            serial=kwargs.pop("serial"),
            max_fail=kwargs.pop("max_fail"),
            canary=kwargs.pop("canary"),
            forks=common["forks"],
        )
        yes = bool(kwargs.pop("yes", False))
        sources = {o.secret_source: kwargs.pop(secret_dest(o)) for o in secret_options}
        role_vars = {
            k: (str(v.expanduser().absolute()) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
            for k, v in kwargs.items()
        }
        if not secret_options:
            return run_fix(fix, yes=yes, role_vars=role_vars, **common)
        keys = list(role_vars.get(f"{fix.role}_keys") or [])
        from_file = sources.get("file")
        with supplied.value_files(
            keys,
            from_file=from_file.expanduser().absolute() if isinstance(from_file, Path) else None,
            from_env=sources.get("env"),
            providers=supplied.provider_keys(fix.role, keys),
            prompt=_prompt_hidden if (yes or common["check"]) else None,
        ) as files:
            role_vars[secret_options[0].var] = files or None
            return run_fix(fix, yes=yes, role_vars=role_vars, **common)

    changes = "Changes things: yes." if fix.changes else "Read-only: changes nothing, works in --check."
    help_text = f"{fix.summary}\n\nManual: {fix.section}. {changes}"
    command: click.Command
    if fix.subcommands:
        group = click.Group(
            fix.name,
            callback=_unless_subcommand(callback),
            invoke_without_command=True,
            help=help_text + f"\n\nAlso: ods-fix {fix.name} {' | '.join(fix.subcommands)} (see --help of each).",
            short_help=fix.summary,
            epilog=EXIT_CODES_HELP,
            context_settings=CONTEXT,
        )
        for name in fix.subcommands:
            group.add_command(SUBCOMMANDS[name])
        command = group
    else:
        command = click.Command(
            fix.name,
            callback=callback,
            help=help_text,
            short_help=fix.summary,
            epilog=EXIT_CODES_HELP,
            context_settings=CONTEXT,
        )
    # Applied to a Command (not a function), click appends each option: this is their --help order.
    common_options(command)
    for option in fix.options:
        _click_option(option)(command)
    if fix.needs_yes:
        click.option("--yes", is_flag=True, help="Go ahead with a change to data.")(command)
    return command


def _unless_subcommand(callback: Callable[..., int]) -> Callable[..., int]:
    """A fix that has subcommands runs only when none is given (`ods-fix incident --yes`, not `... verify B`)."""

    def run(**kwargs: Any) -> int:
        if click.get_current_context().invoked_subcommand:
            return 0
        return callback(**kwargs)

    return run


@click.command("verify", context_settings=CONTEXT)
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
def verify_bundle(bundle: Path, as_json: bool) -> int:
    """Check an evidence bundle (incident, data-leak): every file's SHA-256 against its manifest.

    Exit 0 when every file is there, unchanged, and nothing was added; 1 otherwise (each difference named).
    """
    result = evidence.verify(bundle)
    manifest = result.manifest
    if as_json:
        render.print_json(
            {
                "bundle": str(bundle),
                "ok": result.ok,
                "sha256": result.sha256,
                "problems": result.problems,
                "manifest": {k: v for k, v in manifest.items() if k != "files"},
                "files": len(manifest.get("files", [])),
            }
        )
    elif result.ok:
        click.echo(
            f"{bundle}: verified: {len(manifest.get('files', []))} files match the manifest "
            f"({manifest.get('kind', '?')} on {manifest.get('host', '?')}, sealed {manifest.get('sealed_at', '?')}); "
            f"sha256 {result.sha256}"
        )
    if not result.ok:
        first = result.problems[0] + (f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else "")
        raise OdsFixError(f"{bundle} does not verify: {first}")
    return 0


SUBCOMMANDS: dict[str, click.Command] = {"verify": verify_bundle}


for _fix in catalog.fixes():
    if _fix.ready:
        cli.add_command(make_fix_command(_fix))


# --- discover ---------------------------------------------------------------------------------------

DISCOVER = Fix(
    name="discover",
    role="discover",
    section="诊断流程 (finding the stack)",
    summary="Find the stack's Compose project, which service plays which role, and where settings and credentials are.",
    changes=False,
    needs_yes=False,
    status="ready",
    issue=13,
    symptoms=(),
    manual_remedy="",
    options=(),
)
WRITTEN_HEADER = """# Written by `ods-fix discover --write` on {date} for host {host}: what ods-fix found on it.
# Every fix discovers the stack again on each run; what is here only corrects it. Edit ods_roles when a
# service plays another role than discovery says (database, cache, vector_store, vector_meta, vector_object,
# web, data_api, agent_api, apis). A profile whose ods_profile_services no longer match the stack is refused:
# run ods-fix discover --write again.
"""


def writable_target(target: Path) -> None:
    """Refuse, before anything runs, a --write target that cannot be made: under a file, or unwritable."""
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing != target and not existing.is_dir():
        raise OdsFixError(f"cannot write to {target}: {existing} is not a directory")
    if not os.access(existing if existing.is_dir() else existing.parent, os.W_OK):
        raise OdsFixError(f"cannot write to {target}: {existing} is not writable")


def write_profiles(target: Path, hosts: dict[str, Any], chosen: Target) -> list[Path]:
    """The profiles as host vars: TARGET/<host>.yml (a host_vars directory), or TARGET itself for one host.

    For a stack on this machine (not -i), FILE.yml is a whole inventory that reaches it: `-i FILE.yml` later, or a
    start for a fleet's."""
    profiles: dict[str, dict[str, Any]] = {}
    for name, host in hosts.items():
        details = (host.report or {}).get("details")
        if isinstance(details, dict):
            profiles[name] = details
    if not profiles:
        raise OdsFixError("nothing to write: no host was discovered")
    single = target.suffix in (".yml", ".yaml")
    if single and len(profiles) > 1:
        raise OdsFixError(f"{len(profiles)} hosts were discovered: give --write a directory (host_vars), not {target}")
    written = []
    for host, profile in sorted(profiles.items()):
        path = target if single else target / f"{host}.yml"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OdsFixError(f"cannot write to {path}: {exc.strerror or exc}") from exc
        roles = {k: v for k, v in profile["roles"].items() if v}
        data: dict[str, Any] = {
            "ods_project_dir": profile["project_dir"],
            "ods_compose_project": profile["project"],
            "ods_roles": roles,
            "ods_profile_services": sorted(profile["services"]),
        }
        if single and chosen.inventory is None:
            inventory = chosen.inventory_data()
            inventory["ods_dev"]["hosts"][chosen.host].update(data)
            data = inventory
        header = WRITTEN_HEADER.format(date=time.strftime("%Y-%m-%d %H:%M"), host=host)
        path.write_text(header + "---\n" + dump_inventory(data))
        written.append(path)
    return written


@cli.command("discover", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout (the profile of each host).")
@click.option(
    "--write",
    type=click.Path(path_type=Path),
    default=None,
    help="Save each host's profile as inventory host vars you can edit: DIR/<host>.yml (a host_vars directory), "
    "or FILE.yml for one host; for the stack on this machine, FILE.yml is a whole inventory (use it with -i).",
)
@click.option("-v", "--verbose", count=True, help="More detail: -v lists every task.")
def discover_command(
    *, limit: str | None, forks: int | None, as_json: bool, write: Path | None, verbose: int, **where: Any
) -> int:
    """Find the ODS stack on each host: its Compose project (from the containers' labels: every -f file, the
    working directory, the Compose version), which service plays which role (by its image, command, ports and
    name: the manual's names and the real compose files' alike), each service's container, flavour (MySQL or
    MariaDB, nginx or Vite), health URL, and where each setting and credential comes from (file:line).

    Every fix runs this same discovery first. Read-only. Only ods_project_dir needs to be set; ods_roles in the
    inventory corrects a mapping.
    """
    if write:
        writable_target(write.expanduser().absolute())
    chosen = pop_target(where).resolve()
    execution = execute_fix(
        DISCOVER,
        target=chosen,
        limit=limit,
        forks=forks,
        check=False,
        diff=False,
        verbose=verbose,
        yes=False,
        role_vars={},
        as_json=as_json,
    )
    written = write_profiles(write.expanduser().absolute(), execution.result.hosts, chosen) if write else []
    if as_json:
        render.print_json({**execution.document, "written": [str(p) for p in written]})
    else:
        render.print_result(execution.result, report_paths=execution.reports, stopped=execution.stopped)
        for path in written:
            click.echo(f"wrote {path}")
    for host in execution.result.hosts.values():
        if host.error and host.status in ("bad input", "unreachable"):
            click.echo(f"ods-fix: {host.host}: {host.error}", err=True)
    return int(execution.result.exit_code)
