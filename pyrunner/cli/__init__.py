"""`ods-fix`: the troubleshooting manual's fixes, run through ansible-runner.

Thin click commands over plain functions (the run itself is pyrunner.execution); one exception boundary in
app.main() maps errors to the exit codes documented in docs/using.md.
"""

from pyrunner.cli import doctor, fixes, sandbox, watch  # noqa: F401 - each adds its commands to the group
from pyrunner.cli.app import cli, main

__all__ = ["cli", "main"]
