"""Waiting for a rollout: ECS's deployment (rolling) or CodeDeploy's (blue/green), and how long."""

from __future__ import annotations

import re
import time

from config import TRAFFIC_SHIFTS
from ops.release.target import RolloutFailed, Target
from stacks import props


CODEDEPLOY_RUNNING = ("Created", "Queued", "InProgress", "Baking", "Ready")
BATCH_GET_DEPLOYMENTS = 25  # deployment ids per BatchGetDeployments call (AWS's maximum)

# How long a release waits, besides the traffic shift and the termination wait (blue/green):
# Fargate starting the replacement tasks (image pull included) and the target group's health
# checks passing. A rolling release waits ROLLING_WAIT_SECONDS.
START_MARGIN_SECONDS = 600
ROLLING_WAIT_SECONDS = 1800
# ECS is eventually consistent: right after UpdateService, DescribeServices may still show the
# service as it was. Until the new deployment has shown, an old task definition is read as
# "not yet" for this long, not as a rollback.
ECS_CATCH_UP_SECONDS = 60


def describe_service(target: Target) -> dict | None:
    services = target.client("ecs").describe_services(
        cluster=target.names.cluster, services=[target.names.service])["services"]
    active = [service for service in services if service.get("status") == "ACTIVE"]
    return active[0] if active else None


def wait_for_ecs(target: Target, task_definition: str, timeout: float, poll: float) -> str:
    """Until the ECS deployment of `task_definition` is COMPLETED with every task running;
    RolloutFailed when ECS fails it (circuit breaker) or goes back to another one."""
    started = time.monotonic()
    deadline, state, seen = started + timeout, "not started", False
    while True:
        service = describe_service(target) or {}
        deployments = service.get("deployments", [])
        mine = next((d for d in deployments if d["taskDefinition"] == task_definition), None)
        seen = seen or mine is not None
        if mine is not None and mine.get("rolloutState") == "FAILED":
            raise RolloutFailed(mine.get("rolloutStateReason") or "ECS failed the deployment")
        if mine is None and service.get("taskDefinition") != task_definition:
            # A rollback that finished between two polls leaves no FAILED deployment to read:
            # ECS's event says why ("(deployment ecs-svc/...) deployment failed: <reason>").
            failed = next((event["message"] for event in service.get("events", [])
                           if "deployment failed: " in event["message"]), None)
            if failed is not None:
                raise RolloutFailed(f"ECS failed the deployment: "
                                    f"{failed.split('deployment failed: ', 1)[1].rstrip('.')}; "
                                    f"the service went back to {revision(service)}")
            if seen or time.monotonic() - started > ECS_CATCH_UP_SECONDS:
                events = [event["message"] for event in service.get("events", [])[:2]]
                raise RolloutFailed(f"the service went back to {revision(service)}"
                                    + (f" ({'; '.join(reversed(events))})" if events else ""))
            state = f"ECS does not show the deployment of {revision_name(task_definition)} yet"
        if mine is not None:
            state = f"{mine.get('rolloutState')}, {service.get('runningCount')}/" \
                    f"{service.get('desiredCount')} running"
            if mine["status"] == "PRIMARY" and mine.get("rolloutState") == "COMPLETED" and \
                    len(deployments) == 1 and \
                    service["runningCount"] == service["desiredCount"] == mine["runningCount"]:
                return state
        if time.monotonic() > deadline:
            raise TimeoutError(state)
        time.sleep(poll)


def traffic_shift_minutes(traffic_shift: str) -> int:
    """Minutes from the first shifted traffic to all of it, read from the CodeDeploy config
    name TRAFFIC_SHIFTS gives (ECSLinear<P>PercentEvery<M>Minutes: 100/P steps, M minutes
    apart; ECSCanary<P>Percent<M>Minutes: one wait of M minutes; ECSAllAtOnce: none)."""
    config = TRAFFIC_SHIFTS[traffic_shift]
    linear = re.search(r"Linear(\d+)PercentEvery(\d+)Minutes?$", config)
    canary = re.search(r"Canary(\d+)Percent(\d+)Minutes?$", config)
    if linear:
        return (-(-100 // int(linear[1])) - 1) * int(linear[2])
    if canary:
        return int(canary[2])
    if config.endswith("AllAtOnce"):
        return 0
    raise ValueError(f"{config}: cannot tell how long its traffic shift takes")


def release_wait(target: Target) -> float:
    """Seconds a release waits for its rollout: blue/green, CodeDeploy reports Succeeded only
    after the traffic shift and the termination wait, so those plus START_MARGIN_SECONDS."""
    if not target.blue_green:
        return ROLLING_WAIT_SECONDS
    blue_green = props.blue_green(target.environment)
    return 60 * (traffic_shift_minutes(blue_green.traffic_shift)
                 + blue_green.termination_wait_minutes) + START_MARGIN_SECONDS


def codedeploy_deployments(target: Target, statuses: tuple[str, ...] = ()) -> list[dict]:
    """The deployment group's deployments (only those in `statuses`, when given), newest first:
    every page of ListDeployments (unordered, 100 a page), read 25 at a time (the most
    BatchGetDeployments takes)."""
    codedeploy = target.client("codedeploy")
    filters = {"includeOnlyStatuses": list(statuses)} if statuses else {}
    ids = [deployment for page in codedeploy.get_paginator("list_deployments").paginate(
        applicationName=target.names.service, deploymentGroupName=target.names.service,
        **filters) for deployment in page.get("deployments", [])]
    infos = [info for start in range(0, len(ids), BATCH_GET_DEPLOYMENTS)
             for info in codedeploy.batch_get_deployments(
                 deploymentIds=ids[start:start + BATCH_GET_DEPLOYMENTS])["deploymentsInfo"]]
    if statuses:  # a status may have moved on between the two calls
        infos = [info for info in infos if info["status"] in statuses]
    return sorted(infos, key=lambda info: info["createTime"], reverse=True)


def running_codedeploy_deployments(target: Target) -> list[dict]:
    return codedeploy_deployments(target, CODEDEPLOY_RUNNING)


def latest_codedeploy_deployment(target: Target) -> dict | None:
    """A running deployment if there is one (one short page), else the newest of all."""
    found = running_codedeploy_deployments(target) or codedeploy_deployments(target)
    return found[0] if found else None


def deployment_state(target: Target, service: dict) -> str:
    if target.blue_green or service.get("deploymentController", {}).get("type") == \
            "CODE_DEPLOY":
        latest = latest_codedeploy_deployment(target)
        if latest is None:
            return "no deployment yet"
        return f"CodeDeploy {latest['deploymentId']} {latest['status']}"
    deployments = service.get("deployments", [])
    primary = next((d for d in deployments if d["status"] == "PRIMARY"), None)
    if primary is None:
        return "no deployment"
    failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
    return (f"{len(deployments)} deployments, " if len(deployments) > 1 else "") + \
        ("last one FAILED, " if failed else "") + f"ECS {primary.get('rolloutState')}"


def revision_name(task_definition_arn: str) -> str:
    return task_definition_arn.rsplit("/", 1)[-1]


def revision(service: dict) -> str:
    return revision_name(service.get("taskDefinition") or "?")
