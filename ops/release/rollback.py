"""Rollback: back to the version of record before the current one that ran."""

from __future__ import annotations

from typing import Callable

from ops.errors import Refused
from ops.release.deploy import release
from ops.release.record import history, image_of_reference, previous_version, version_of_record
from ops.release.target import Target, commit, released_by


def rollback(target: Target, *, timeout: float | None, poll: float,
             say: Callable[[str], None] = print) -> str:
    version_of_record(target)  # refuses an environment that is not deployed
    previous = previous_version(history(target))
    if previous is None:
        raise Refused(f"{target.label}: no earlier version of record to roll back to")
    try:
        label = image_of_reference(target, previous).label
    except Refused:
        label = previous  # e.g. the public image the environment started with
    return release(target, previous, f"rollback to {label} (commit {commit()}) by "
                   f"{released_by()}", timeout=timeout, poll=poll, say=say)
