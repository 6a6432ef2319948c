"""Exit codes (documented in docs/using.md) and the one expected-error class."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    BAD_INPUT = 1  # bad input or configuration: nothing was changed
    USAGE = 2  # command-line usage error (click's own code)
    UNREACHABLE = 4  # a host could not be reached
    FIX_FAILED = 5  # a fix failed on a host
    CHECK_CHANGES = 6  # --check found something to change
    INTERRUPTED = 130


class OdsFixError(Exception):
    """An expected failure: one line for the user, and the exit code that goes with it."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.BAD_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
