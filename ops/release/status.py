"""What runs where: one row per environment, in deploy order."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from config import delivery_order
from ops.errors import Refused
from ops.release.record import history, image_of_reference, release_entry, version_of_record
from ops.release.target import Target
from ops.release.wait import deployment_state, describe_service, revision


STATUS_COLUMNS = ("env", "version", "revision", "tasks", "state", "released")


def status_row(target: Target) -> dict[str, str]:
    row = {"env": target.name, "service": target.environment.service.name}
    try:
        reference = version_of_record(target)
    except Refused:
        return {**row, "version": f"not deployed (python -m ops up --env {target.name})"}
    try:
        row["version"] = image_of_reference(target, reference).label
    except Refused:
        row["version"] = reference  # a public image, or one no longer in the repository
    service = describe_service(target)
    if service is None:
        row["revision"] = "no ECS service"
    else:
        row.update(revision=revision(service),
                   tasks=f"{service['runningCount']}/{service['desiredCount']}",
                   state=deployment_state(target, service))
    released = release_entry(history(target))
    if released is not None:
        when = released["LastModifiedDate"]
        row["released"] = (f"{when:%Y-%m-%d %H:%M} UTC" if isinstance(when, datetime)
                           else str(when)) + f": {released.get('Description', '')}"
    return row


def in_deploy_order(targets: list[Target]) -> list[Target]:
    """`targets` in deploy order (config.delivery_order); a promotion from an
    environment not among them does not order them."""
    names = {target.name for target in targets}
    unique = {target.name: target.environment for target in targets}  # (one per service)
    alone = [env if env.delivery.promote_from in names else dataclasses.replace(
        env, delivery=dataclasses.replace(env.delivery, promote_from=""))
        for env in unique.values()]
    place = {env.name: index for index, env in enumerate(delivery_order(alone))}
    return sorted(targets, key=lambda target: place[target.name])


def status(targets: list[Target]) -> str:
    """What runs where, one row per environment, in deploy order."""
    rows = []
    for target in in_deploy_order(targets):
        try:
            rows.append(status_row(target))
        except (ClientError, BotoCoreError) as error:
            rows.append({"env": target.name, "service": target.environment.service.name,
                         "version": f"cannot read: {error}"})
    # A service column only where an environment runs several.
    columns = STATUS_COLUMNS[:1] + (("service",) if any(
        target.environment.several for target in targets) else ()) + STATUS_COLUMNS[1:]
    widths = {column: max(len(column), *(len(row.get(column, "")) for row in rows))
              for column in columns}
    lines = ["  ".join(column.ljust(widths[column]) for column in columns).rstrip()]
    lines += ["  ".join(row.get(column, "-").ljust(widths[column])
                        for column in columns).rstrip() for row in rows]
    return "\n".join(lines)
