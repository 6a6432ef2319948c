"""`ods-fix doctor`: diagnose every host, then (with --fix) run the fixes the triage names, dependencies first."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from pyrunner import catalog, paths, render
from pyrunner.cli.app import CONTEXT, EXIT_CODES_HELP, cli
from pyrunner.cli.fixes import pop_target, target_options
from pyrunner.errors import ExitCode, OdsFixError
from pyrunner.execution import execute_fix
from pyrunner.runner import RunResult
from pyrunner.target import Target


def loop_guard_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--max-repeats and --window-minutes: doctor's loop guard, which watch runs too."""
    func = click.option(
        "--window-minutes", type=click.IntRange(1), default=60, show_default=True, help="The loop guard's window."
    )(func)
    return click.option(
        "--max-repeats",
        type=click.IntRange(1),
        default=3,
        show_default=True,
        help="Loop guard: a fix already applied to a host this many times within the window is refused there "
        "(watch escalates it instead).",
    )(func)


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
@loop_guard_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text.")
@click.option("-v", "--verbose", count=True, help="More detail: -v lists every task.")
def doctor_command(
    *,
    limit: str | None,
    forks: int | None,
    apply: bool,
    yes: bool,
    max_repeats: int,
    window_minutes: int,
    as_json: bool,
    verbose: int,
    **where: Any,
) -> int:
    """Diagnose, then map each finding to the catalog's fix for it and print the plan, per host.

    With --fix: run the plan's non-destructive fixes in a safe order (mysql before the APIs, Milvus's
    etcd and minio before standalone, the front end last), each over the hosts that need it; then
    diagnose again and say what is healthy now and what still needs a human. Exit: 0 healthy (after
    --fix: everything fixed); 6 there is a plan (without --fix); 5 something is left; 4 a host unreachable.
    """
    chosen = pop_target(where).resolve()  # once: every run of doctor works on the same stack
    common: dict[str, Any] = {
        "forks": forks,
        "check": False,
        "diff": False,
        "verbose": verbose,
        "role_vars": {},
        "as_json": as_json,
    }
    ask = apply and not yes and sys.stdin.isatty() and sys.stderr.isatty()
    document = doctor_pass(
        chosen,
        limit=limit,
        apply=apply,
        yes=yes,
        max_repeats=max_repeats,
        window_minutes=window_minutes,
        common=common,
        ask=ask,
    )
    code = ExitCode(document["exit_code"])
    if as_json:
        render.print_json(document)
    else:
        render.print_doctor(document)
    return int(code)


def doctor_pass(
    chosen: Target,
    *,
    limit: str | None,
    apply: bool,
    yes: bool,
    max_repeats: int,
    window_minutes: int,
    common: dict[str, Any],
    ask: bool = False,
) -> dict[str, Any]:
    """One diagnose, plan, (with apply) the plan's fixes and a diagnose again: doctor's document, with its exit code.

    ask: show what will run and ask first."""
    from pyrunner import doctor  # noqa: PLC0415

    diagnose = catalog.get("diagnose")
    assert diagnose is not None
    before = execute_fix(diagnose, target=chosen, limit=limit, yes=False, **common)
    plans = doctor.plan_from(before.result.hosts)
    document: dict[str, Any] = {
        "target": chosen.document(),
        "plan": [p.document() for p in plans],
        "diagnose_run": str(before.result.run_dir),
        # Each host's Compose project, as diagnose found it (what watch follows the engine's events of).
        "projects": {n: ((h.report or {}).get("details") or {}).get("project") for n, h in before.result.hosts.items()},
    }
    applied: list[dict[str, Any]] = []
    after_plans: list[doctor.HostPlan] | None = None
    runs = doctor.schedule(plans)
    if ask and runs:
        for fix_name, hosts in runs:
            click.echo(f"  ods-fix {fix_name} on {', '.join(hosts)}", err=True)
        if not click.confirm("doctor: apply these fixes?", err=True):
            raise OdsFixError("nothing applied (answered no)", ExitCode.CHECK_CHANGES)
    if apply:

        def run_one(fix_name: str, hosts: list[str]) -> RunResult:
            fix = catalog.get(fix_name)
            assert fix is not None
            return execute_fix(fix, target=chosen, limit=",".join(hosts), yes=yes, **common).result

        history = doctor.History(paths.state_home() / "doctor-history.json", window_minutes * 60, max_repeats)
        applied = doctor.apply(plans, history, run_one, refused_hint=f"its reports: {paths.runs_dir()}")
        after = execute_fix(diagnose, target=chosen, limit=limit, yes=False, **common)
        after_plans = doctor.plan_from(after.result.hosts)
        document.update(applied=applied, after=[p.document() for p in after_plans])
        document["diagnose_after_run"] = str(after.result.run_dir)
    code = doctor.exit_code(plans, after_plans, applied)
    document.update(exit_code=int(code), exit_meaning=render.EXIT_MEANING[code])
    return document
