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
