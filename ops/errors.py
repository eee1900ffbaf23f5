"""The errors every ops command raises, and the one table that maps them to exit codes.

A command raises one of these with the one line the user reads (what is wrong, what to do);
`python -m ops` prints `error: <line>` on stderr and exits with the table's code, never a
traceback. 0 done, 1 failed, 2 refused or bad input (nothing was changed).
"""

from __future__ import annotations

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2


class OpsError(Exception):
    """Something went wrong outside our control (Terraform, AWS, a check): exit 1."""

    exit_code = EXIT_FAILED


class Failed(OpsError):
    """A step ran and failed (an apply, a release that did not settle, a smoke check)."""


class Refused(OpsError):
    """Refused before anything changed (a lock held, a stale plan, protected data): exit 2."""

    exit_code = EXIT_REFUSED


class BadInput(Refused):
    """The input is wrong (a flag, an environment file, a tag not in ECR): exit 2."""


# The errors raised that are not OpsErrors, by "module.Class" where the class is defined, each
# with its exit code (0 done, 1 failed, 2 refused or bad input). Looked up by name along the
# error's class hierarchy, most specific first, so this table imports nothing (`python -S -m ops`
# runs where only Python is installed). tests/test_cli.py checks every name still resolves.
EXIT_CODES = {
    "config.schema.ConfigError": EXIT_REFUSED,
    "ops.core.terraform.MirrorError": EXIT_FAILED,
    "ops.config_reference.ReferenceError": EXIT_REFUSED,
    "ops.emulator.EmulatorError": EXIT_FAILED,
    "lazy_provider_import.FastImportError": EXIT_FAILED,
    "botocore.exceptions.BotoCoreError": EXIT_FAILED,
    "botocore.exceptions.ClientError": EXIT_FAILED,
}


def exit_code(error: BaseException) -> int | None:
    """The exit code of an expected error; None for anything else (a bug: its traceback shows)."""
    if isinstance(error, OpsError):
        return error.exit_code
    for kind in type(error).__mro__:
        code = EXIT_CODES.get(f"{kind.__module__}.{kind.__qualname__}")
        if code is not None:
            return code
    return None
