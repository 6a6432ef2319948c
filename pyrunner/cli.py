"""`ods-fix`: the troubleshooting manual's fixes, run through ansible-runner.

Thin click commands over plain functions; one exception boundary in main()
maps errors to the exit codes documented in docs/using.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from pyrunner import __version__, catalog, evidence, fleet, paths, render, supplied
from pyrunner.catalog import Fix, FixOption
from pyrunner.errors import ExitCode, OdsFixError
from pyrunner.inventory import resolve_hosts
from pyrunner.progress import Progress
from pyrunner.runner import RunResult, keep_runs, new_run_dir, run_playbook

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 bad input or configuration (nothing changed); 2 usage error; 3 internal error "
    "(traceback logged); 4 a host unreachable; 5 a fix failed on a host; 6 --check found something to "
    "change; 130 interrupted. When hosts end differently the first that applies of 130, 5, 4, 1, 6, 0 wins."
)
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


@click.group(context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "--version", prog_name="ods-fix")
def cli() -> None:
    """Fix a ONE-DATA-STUDIO Docker Compose stack the way its troubleshooting manual says, safely.

    Every fix is an idempotent Ansible role run through ansible-runner on one
    dev machine or many (-i INVENTORY, --limit). Without -i, the target is the
    local sandbox (`ods-fix sandbox up`). Start with `ods-fix diagnose`: it
    names the fix for what it finds.
    """


# --- running a fix ----------------------------------------------------------------------------------


@dataclass
class Execution:
    """One fix run, validated, run and summarised (summary.json written), not yet rendered."""

    result: RunResult
    reports: dict[str, list[str]]
    stopped: str | None
    document: dict[str, Any]  # the --json document, also written to summary.json


def execute_fix(
    fix: Fix,
    *,
    inventory: Path | None,
    limit: str | None,
    forks: int | None,
    check: bool,
    diff: bool,
    verbose: int,
    yes: bool,
    role_vars: dict[str, Any],
    as_json: bool,
    rate: fleet.RateControl | None = None,
) -> Execution:
    """Validate the input and run the fix's playbook (in batches under rate control), with live progress."""
    if not fix.ready:
        raise OdsFixError(f"`ods-fix {fix.name}` is planned (issue #{fix.issue}) but not built yet")
    if fix.needs_yes and not yes and not check:
        raise OdsFixError(
            f"`ods-fix {fix.name}` changes data: add --yes to go ahead, or --check to see what it would do",
            ExitCode.USAGE,
        )
    rate = rate or fleet.RateControl(forks=forks)
    hosts: list[str] | None = None
    if inventory is None:
        inventory = paths.default_inventory()
        from pyrunner.sandbox.stack import require_instance  # noqa: PLC0415

        require_instance()
        if limit or rate.active:  # the shipped sandbox inventory needs no parse check (0.6 s saved), only the --limit
            hosts = resolve_hosts(inventory, limit)
    else:
        hosts = resolve_hosts(inventory, limit)
    run_dir = new_run_dir(fix.name)
    extravars = {k: v for k, v in role_vars.items() if v not in (None, [])}
    extravars["ods_report_dir"] = str(run_dir / "reports")
    extravars["ods_lock_owner"] = lock_owner()
    title = f"ods-fix {fix.name}" + (" --check" if check else "")
    shared = Progress()
    with render.LiveProgress(title, verbose=verbose > 0, planned=hosts, as_json=as_json) as live:

        def run_batch(batch: list[str] | None, number: int) -> RunResult:
            return run_playbook(
                fix.name,
                paths.playbook(fix.name),
                inventory,
                limit=",".join(batch) if batch is not None else limit,
                forks=forks,
                check=check,
                diff=diff,
                extravars=extravars,
                verbosity=max(verbose - 1, 0),
                run_dir=run_dir,
                on_event=live.update,
                ident="run" if number == 1 else f"batch-{number}",
                progress=shared,
            )

        if rate.active and hosts:
            result, batches = fleet.run_batches(hosts, rate, run_batch, announce=live.say)
        else:
            result, batches = run_batch(None, 1), None
    if result.rc != 0 and not result.hosts:
        raise OdsFixError(f"ansible-playbook failed before reaching any host: {last_line(result.stdout_tail)}")
    reports, stopped = report_files(result), batches.stopped if batches else None
    execution = Execution(result, reports, stopped, render.result_document(result, reports, stopped=stopped))
    summary = run_dir / "summary.json"
    summary.write_text(json.dumps(execution.document, indent=2, ensure_ascii=False, default=str) + "\n")
    summary.chmod(0o600)
    return execution


def run_fix(fix: Fix, *, as_json: bool, **kwargs: Any) -> int:
    """Run a fix and render its result; returns the exit code."""
    execution = execute_fix(fix, as_json=as_json, **kwargs)
    result = execution.result
    if as_json:
        render.print_json(execution.document)
    else:
        render.print_result(result, report_paths=execution.reports, stopped=execution.stopped)
    for host in result.hosts.values():
        if host.error and host.status in ("bad input", "unreachable"):
            click.echo(f"ods-fix: {host.host}: {host.error}", err=True)
    return int(result.exit_code)


def report_files(result: RunResult) -> dict[str, list[str]]:
    root = result.run_dir / "reports"
    if not root.is_dir():
        return {}
    return {d.name: sorted(str(p) for p in d.iterdir()) for d in sorted(root.iterdir()) if d.is_dir()}


def last_line(text: str) -> str:
    """Ansible's own [ERROR] line when there is one (its last lines are often an example), else the last line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line.strip() for line in lines if line.startswith("[ERROR]")]
    return errors[0] if errors else (lines[-1] if lines else "no output")


TARGET_OPTIONS = [  # which hosts, how many at once: every fix command and doctor
    click.option(
        "-i",
        "--inventory",
        type=click.Path(path_type=Path),
        default=None,
        help="Ansible inventory of dev machines. Default: the local sandbox.",
    ),
    click.option("--limit", metavar="PATTERN", help="Only these hosts (Ansible's --limit pattern)."),
    click.option("--forks", type=click.IntRange(1, 200), default=None, help="Hosts worked on at once (default 10)."),
]


def apply_options(options: list[Callable[..., Any]], target: Any) -> Any:
    """Add options in their --help order: click appends them to a Command, but collects a function's in reverse."""
    for option in options if isinstance(target, click.Command) else reversed(options):
        target = option(target)
    return target


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    return apply_options(TARGET_OPTIONS, func)  # type: ignore[no-any-return]


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


def lock_owner() -> str:
    """This process, as a project lock on this machine can watch it: boot, pid namespace, pid, start time.

    A holder on the same kernel and pid namespace (a local target) lets go as soon as this process has gone
    and no step of it still runs; elsewhere the lease alone decides.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
        start = Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
    return f"{boot}/{namespace}/{os.getpid()}/{start}"


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
        common = {k: kwargs.pop(k) for k in ("inventory", "limit", "forks", "check", "diff", "verbose", "as_json")}
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


@cli.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--markdown", is_flag=True, help="As the README's Markdown table.")
def list_fixes(as_json: bool, markdown: bool) -> int:
    """List the fixes in the catalog: ready ones and planned ones."""
    fixes = catalog.fixes()
    if markdown:
        click.echo(catalog.markdown_table())
    elif as_json:
        render.print_json([fix.__dict__ for fix in fixes])
    else:
        width = max(len(fix.name) for fix in fixes)
        for fix in fixes:
            state = "" if fix.ready else f"  [planned, #{fix.issue}]"
            click.echo(f"{fix.name:<{width}}  {fix.summary}{state}")
    return 0


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


def write_profiles(target: Path, hosts: dict[str, Any]) -> list[Path]:
    """The profiles as host vars: TARGET/<host>.yml (a host_vars directory), or TARGET itself for one host."""
    import yaml  # noqa: PLC0415

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
        data = {
            "ods_project_dir": profile["project_dir"],
            "ods_compose_project": profile["project"],
            "ods_roles": roles,
            "ods_profile_services": sorted(profile["services"]),
        }
        header = WRITTEN_HEADER.format(date=time.strftime("%Y-%m-%d %H:%M"), host=host)
        path.write_text(header + "---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
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
    "or FILE.yml for one host.",
)
@click.option("-v", "--verbose", count=True, help="More detail: -v lists every task.")
def discover_command(
    *, inventory: Path | None, limit: str | None, forks: int | None, as_json: bool, write: Path | None, verbose: int
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
    execution = execute_fix(
        DISCOVER,
        inventory=inventory,
        limit=limit,
        forks=forks,
        check=False,
        diff=False,
        verbose=verbose,
        yes=False,
        role_vars={},
        as_json=as_json,
    )
    written = write_profiles(write.expanduser().absolute(), execution.result.hosts) if write else []
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


# --- doctor -----------------------------------------------------------------------------------------


@cli.command("doctor", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@target_options
@click.option("--fix", "apply", is_flag=True, help="Apply the plan's fixes (dependencies first), then diagnose again.")
@click.option(
    "--yes",
    is_flag=True,
    help="With --fix, apply without asking (on a terminal doctor shows what it will run and asks first). "
    "Fixes that change data (restores, key rotation, incident isolation) are never run by doctor, --yes or "
    "not: the plan gives their command, to run by hand with their own flags.",
)
@click.option(
    "--max-repeats",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Loop guard: a fix doctor already applied to a host this many times within the window is refused there.",
)
@click.option(
    "--window-minutes", type=click.IntRange(1), default=60, show_default=True, help="The loop guard's window."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text.")
@click.option("-v", "--verbose", count=True, help="More detail: -v lists every task.")
def doctor_command(
    *,
    inventory: Path | None,
    limit: str | None,
    forks: int | None,
    apply: bool,
    yes: bool,
    max_repeats: int,
    window_minutes: int,
    as_json: bool,
    verbose: int,
) -> int:
    """Diagnose, then map each finding to the catalog's fix for it and print the plan, per host.

    With --fix: run the plan's non-destructive fixes in a safe order (mysql before the APIs, Milvus's
    etcd and minio before standalone, the front end last), each over the hosts that need it; then
    diagnose again and say what is healthy now and what still needs a human. Exit: 0 healthy (after
    --fix: everything fixed); 6 there is a plan (without --fix); 5 something is left; 4 a host unreachable.
    """
    from pyrunner import doctor  # noqa: PLC0415

    diagnose = catalog.get("diagnose")
    assert diagnose is not None
    common: dict[str, Any] = {
        "forks": forks,
        "check": False,
        "diff": False,
        "verbose": verbose,
        "role_vars": {},
        "as_json": as_json,
    }
    before = execute_fix(diagnose, inventory=inventory, limit=limit, yes=False, **common)
    plans = doctor.plan_from(before.result.hosts)
    document: dict[str, Any] = {"plan": [p.document() for p in plans], "diagnose_run": str(before.result.run_dir)}
    applied: list[dict[str, Any]] = []
    after_plans: list[doctor.HostPlan] | None = None
    runs = doctor.schedule(plans)
    if apply and runs and not yes and sys.stdin.isatty() and sys.stderr.isatty():
        for fix_name, hosts in runs:
            click.echo(f"  ods-fix {fix_name} on {', '.join(hosts)}", err=True)
        if not click.confirm("doctor: apply these fixes?", err=True):
            raise OdsFixError("nothing applied (answered no)", ExitCode.CHECK_CHANGES)
    if apply:

        def run_one(fix_name: str, hosts: list[str]) -> RunResult:
            fix = catalog.get(fix_name)
            assert fix is not None
            return execute_fix(fix, inventory=inventory, limit=",".join(hosts), yes=yes, **common).result

        history = doctor.History(paths.state_home() / "doctor-history.json", window_minutes * 60, max_repeats)
        applied = doctor.apply(plans, history, run_one, refused_hint=f"its reports: {paths.runs_dir()}")
        after = execute_fix(diagnose, inventory=inventory, limit=limit, yes=False, **common)
        after_plans = doctor.plan_from(after.result.hosts)
        document.update(applied=applied, after=[p.document() for p in after_plans])
        document["diagnose_after_run"] = str(after.result.run_dir)
    code = doctor.exit_code(plans, after_plans, applied)
    document.update(exit_code=int(code), exit_meaning=render.EXIT_MEANING[code])
    if as_json:
        render.print_json(document)
    else:
        render.print_doctor(document)
    return int(code)


# --- the sandbox ------------------------------------------------------------------------------------


def _progress_line(message: str) -> None:
    click.echo(f"  {message}", err=True)


@cli.group(context_settings=CONTEXT)
def sandbox() -> None:
    """The disposable ONE-DATA-STUDIO stack on this machine: the default target, and what the tests break."""


@sandbox.command("up", context_settings=CONTEXT)
@click.option(
    "--services",
    metavar="S1,S2",
    help="Only these services or roles (database, cache, vector_store, data_api, agent_api, web, ...), and what "
    "they need. Default: all.",
)
@click.option(
    "--layout",
    type=click.Choice(["manual", "local"]),
    default=None,
    help="manual: the manual's names, one docker-compose.yml, deploy/.env (the default). local: laid out like a "
    "real ODS checkout's deploy/local (other names, container_name, an overlay and a profile, inline and "
    "interpolated settings, root and Redis passwords, slim API images, nginx:alpine's layout).",
)
@click.option(
    "--compose",
    type=click.Choice(["auto", "v1", "v2"]),
    default=None,
    help="Compose to create the stack with. Default: $ODS_FIX_COMPOSE, else v2 if installed, else v1.",
)
@click.option(
    "--port-offset",
    type=int,
    default=None,
    help="Add this to every published port (default 0: the manual's 8080, 3306, ...).",
)
@click.option("--project", default=None, help="Compose project name (default ods-sandbox).")
@click.option(
    "--mysql-disk-mb",
    type=click.IntRange(0),
    default=None,
    help="Put mysql's data on a filesystem of this size (tmpfs), so that it can fill up (0: normal volume).",
)
def sandbox_up(
    *,
    services: str | None,
    layout: str | None,
    compose: str | None,
    port_offset: int | None,
    project: str | None,
    mysql_disk_mb: int | None,
) -> int:
    """Build the images (cached), create the sandbox directory and start the stack; waits until healthy."""
    from pyrunner.sandbox import stack  # noqa: PLC0415

    started = time.monotonic()
    wanted = [s.strip() for s in services.split(",") if s.strip()] if services else None
    instance = stack.up(
        wanted,
        compose=compose,
        port_offset=port_offset,
        project=project,
        mysql_disk_mb=mysql_disk_mb,
        layout=layout,
        log=_progress_line,
    )
    click.echo(
        f"sandbox up in {time.monotonic() - started:.0f}s: project {instance.project} (Compose "
        f"{instance.compose}, layout {instance.layout}) in {instance.directory}"
    )
    return 0


@sandbox.command("down", context_settings=CONTEXT)
@click.option(
    "--project",
    default=None,
    help="With no sandbox directory, still remove what this compose project left (a crashed run's containers).",
)
def sandbox_down(project: str | None) -> int:
    """Remove the stack, its volumes and the sandbox directory."""
    from pyrunner.sandbox import stack  # noqa: PLC0415

    removed = stack.down(log=_progress_line, project=project)
    click.echo(f"sandbox removed ({removed})" if removed else "no sandbox to remove")
    return 0


@sandbox.command("status", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
def sandbox_status(as_json: bool) -> int:
    """Show the sandbox's services and their state."""
    from pyrunner.sandbox import stack  # noqa: PLC0415

    state = stack.status()
    if as_json:
        render.print_json(state)
        return 0
    click.echo(
        f"project {state['project']} (Compose {state['compose']}, layout {state['layout']}) in {state['directory']}"
    )
    for service, info in state["services"].items():
        health = f" ({info['health']})" if info.get("health") else ""
        click.echo(f"  {service:<18} {info['status']}{health}")
    return 0


@sandbox.command("faults", context_settings=CONTEXT)
def sandbox_faults() -> int:
    """List the faults `sandbox break` can inject."""
    from pyrunner.sandbox import faults  # noqa: PLC0415

    for fault in faults.FAULTS:
        click.echo(f"{fault.name:<22} {fault.section}: {fault.description}")
    return 0


@sandbox.command("break", context_settings=CONTEXT)
@click.argument("names", nargs=-1, required=True, metavar="FAULT...")
def sandbox_break(names: tuple[str, ...]) -> int:
    """Inject one or more of the manual's faults (see `ods-fix sandbox faults`)."""
    from pyrunner.sandbox import faults  # noqa: PLC0415

    for line in faults.inject(list(names)):
        click.echo(line)
    return 0


@sandbox.command("heal", context_settings=CONTEXT)
def sandbox_heal() -> int:
    """Undo every injected fault: restore deploy/.env, recreate the services (data volumes kept)."""
    from pyrunner.sandbox import faults  # noqa: PLC0415

    for line in faults.heal(log=_progress_line):
        click.echo(line)
    return 0


@sandbox.command("build", context_settings=CONTEXT)
@click.option("--services", metavar="S1,S2", help="Only the images these services need. Default: all.")
def sandbox_build(services: str | None) -> int:
    """Build the sandbox images (cached: only what changed is rebuilt)."""
    from pyrunner.sandbox import images, stack  # noqa: PLC0415

    wanted = [s.strip() for s in services.split(",") if s.strip()] if services else None
    for result in images.build(stack.docker_client(), wanted, _progress_line):
        click.echo(f"{result.image:<32} {'built' if result.built else 'cached'} ({result.seconds:.0f}s)")
    return 0


# --- the exception boundary -------------------------------------------------------------------------


def _log_traceback() -> Path:
    logs = paths.state_home() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"error-{time.strftime('%Y%m%d-%H%M%S')}.log"
    path.write_text(traceback.format_exc())
    return path


def main(argv: list[str] | None = None) -> int:
    try:
        keep_runs()  # a bad setting is refused before any work, not after it
        result = cli.main(args=argv, prog_name="ods-fix", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        return int(ExitCode.INTERRUPTED)
    except click.UsageError as exc:  # one line, naming where the help is, instead of click's three
        command = exc.ctx.command_path if exc.ctx else "ods-fix"
        click.echo(f"{command}: {exc.format_message()} (see {command} --help)", err=True)
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.BAD_INPUT)
    except OdsFixError as exc:
        click.echo(f"ods-fix: {exc.message}", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("ods-fix: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # the boundary: anything else is a bug, logged with its traceback
        path = _log_traceback()
        click.echo(f"ods-fix: internal error: {type(exc).__name__}: {exc} (traceback in {path})", err=True)
        return 3
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
