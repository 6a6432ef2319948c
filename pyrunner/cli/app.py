"""The `ods-fix` application: the command group, the shared click settings, `ods-fix list`, and the one exception
boundary (main) that maps errors to the exit codes documented in docs/using.md."""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

import click

from pyrunner import __version__, catalog, paths, render
from pyrunner.errors import ExitCode, OdsFixError
from pyrunner.runner import keep_runs

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 bad input or configuration (nothing changed); 2 usage error; 3 internal error "
    "(traceback logged); 4 a host unreachable; 5 a fix failed on a host; 6 --check found something to "
    "change; 130 interrupted. When hosts end differently the first that applies of 130, 5, 4, 1, 6, 0 wins."
)


def version_text() -> str:
    """The version, and where the roles and collection that will run come from (a wheel's, or a checkout's)."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        core = version("ansible-core")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        core = "missing"
    galaxy = paths.collection_dir() / "galaxy.yml"
    collection = next(
        (line.split(":", 1)[1].strip() for line in galaxy.read_text().splitlines() if line.startswith("version:")),
        "?",
    )
    origin = "installed" if paths.asset_root().name == "_assets" else "a checkout"
    return (
        f"ods-fix {__version__}\n"
        f"collection ods.fix {collection} ({origin}): {paths.collection_dir()}\n"
        f"ansible-core {core}, Python {sys.version.split()[0]} ({sys.executable})"
    )


def show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit()


@click.group(context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=show_version,
    help="The version, where its collection comes from, and the ansible-core it runs.",
)
def cli() -> None:
    """Fix a ONE-DATA-STUDIO Docker Compose stack the way its troubleshooting manual says, safely.

    Every fix is an idempotent Ansible role run through ansible-runner. It works on
    the stack where you stand: cd into your checkout (its root, deploy/local, or
    any folder of the project) and run `ods-fix diagnose`; it names the fix for
    what it finds. Elsewhere: --project-dir DIR or --project-name NAME (as
    Compose's own flags), --sandbox for ods-fix's sandbox (`ods-fix sandbox up`),
    or -i INVENTORY (--limit) for many dev machines. Every run's first line says
    which stack it works on.
    """


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
            state = "" if fix.ready else (f"  [planned, #{fix.issue}]" if fix.issue else "  [planned]")
            click.echo(f"{fix.name:<{width}}  {fix.summary}{state}")
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
