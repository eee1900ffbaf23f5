"""A release: the version of record written, the app stack applied from a saved plan, the rollout
waited for (ECS, or a CodeDeploy deployment with its AppSpec), and undone when it fails."""

from __future__ import annotations

import json
import time
from typing import Callable

from config import outputs
from ops.core.planned import PlannedChange
from ops.core.runner import TerraformError
from ops.errors import Refused
from ops.release.lock import release_lock
from ops.release.record import RESTORE, find_image, tag_release, version_of_record
from ops.release.target import Image, RolloutFailed, Target, commit, released_by
from ops.release.task import run_release_command
from ops.release.wait import (release_wait, revision_name, running_codedeploy_deployments,
                              wait_for_ecs)
from stacks import props


PLAN_FILE = "release.tfplan"

# What a release may change in the app stack: the task definition (a new revision: Terraform
# replaces it) and the service (now running that revision). Anything else is pending
# infrastructure work, which goes through review, never along with a release.
RELEASE_ACTIONS = {"aws_ecs_task_definition": ("replace",), "aws_ecs_service": ("update",)}


def unexpected_changes(changes: list[PlannedChange], service: str | None = None) -> list[str]:
    """The planned changes a release may not make, as 'address (action)'. `service`: with
    several services, the one released (addresses <service>_...): another's task definition
    is not this release's to change."""
    def released(change: PlannedChange) -> bool:
        return (change.action in RELEASE_ACTIONS.get(change.type, ())
                and (service is None or change.address.split(".", 1)[1].startswith(
                    f"{service}_")))
    return [f"{change.address} ({change.action})" for change in changes
            if change.action not in ("noop", "read") and not released(change)]


def refuse_unexpected(target: Target, changes: list[PlannedChange]) -> None:
    unexpected = unexpected_changes(changes, target.environment.service_key)
    if unexpected:
        raise Refused(f"{target.app_stack} has changes a release does not make: "
                      f"{', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}; "
                      f"review and apply them first (make plan ENV={target.name}, then make up "
                      f"ENV={target.name}), then release again")


def apply_version_of_record(target: Target, say: Callable[[str], None]) -> dict:
    """Plan the app stack with the current version of record; apply the saved plan if it only
    rolls out a new task definition; returns the stack's outputs."""
    stacks, stack = target.stacks(), target.app_stack
    started = time.monotonic()
    stacks.init(stack)
    changes = stacks.plan_changes(stack, PLAN_FILE)
    if changes:
        refuse_unexpected(target, changes)
        stacks.apply_saved(stack, PLAN_FILE)
        say(f"{stack}: new task definition applied ({time.monotonic() - started:.1f}s)")
    else:
        say(f"{stack}: no changes ({time.monotonic() - started:.1f}s)")
    return stacks.outputs(stack)


def appspec(task_definition: str, container: str, port: int) -> str:
    return json.dumps({"version": 0.0, "Resources": [{"TargetService": {
        "Type": "AWS::ECS::Service",
        "Properties": {"TaskDefinition": task_definition,
                       "LoadBalancerInfo": {"ContainerName": container,
                                            "ContainerPort": int(port)}}}}]}, indent=2)


def deploy_with_codedeploy(target: Target, stack_outputs: dict, description: str,
                           timeout: float, poll: float, say: Callable[[str], None]) -> str:
    """Create the blue/green deployment of the new task definition and wait for it; returns
    the final state, RolloutFailed when CodeDeploy fails or stops (rolls back) it. The
    container and its port are the config's (the stack's outputs name only what it made)."""
    codedeploy = target.client("codedeploy")
    service = props.fargate_service(target.environment)
    deployment = codedeploy.create_deployment(
        applicationName=stack_outputs[outputs.CODEDEPLOY_APPLICATION],
        deploymentGroupName=stack_outputs[outputs.CODEDEPLOY_DEPLOYMENT_GROUP],
        description=description[:100],
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(
            target.output(stack_outputs, outputs.TASK_DEFINITION_ARN), service.container_name,
            service.container_port)}})["deploymentId"]
    say(f"{target.label}: CodeDeploy deployment {deployment} created; waiting up to "
        f"{timeout:.0f}s (traffic shift, termination wait, task start)")
    deadline, shifted = time.monotonic() + timeout, False
    while True:
        info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
        if info["status"] == "Succeeded":
            return f"CodeDeploy deployment {deployment} Succeeded: traffic shifted"
        if info["status"] in ("Failed", "Stopped"):
            why = (info.get("errorInformation") or {}).get("message") or "no reason given"
            raise RolloutFailed(f"CodeDeploy deployment {deployment} {info['status']}: {why}")
        if info.get("instanceTerminationWaitTimeStarted") and not shifted:
            shifted = True  # all traffic on the new version; the old one kept for a rollback
            say(f"{target.label}: traffic fully shifted; the original task set stays "
                f"{props.blue_green(target.environment).termination_wait_minutes} min for a "
                "rollback before CodeDeploy reports Succeeded")
        if time.monotonic() > deadline:
            if shifted:
                return (f"CodeDeploy deployment {deployment}: traffic shifted, termination wait "
                        "still running")
            raise TimeoutError(f"CodeDeploy deployment {deployment} {info['status']}")
        time.sleep(poll)


def check_release_applies(target: Target, say: Callable[[str], None]) -> None:
    """Refused when the app stack has changes a release does not make, decided on a plan with
    the current version of record, before anything is written."""
    stacks, stack = target.stacks(), target.app_stack
    started = time.monotonic()
    stacks.init(stack)
    refuse_unexpected(target, stacks.plan_changes(stack, PLAN_FILE))
    say(f"{stack}: nothing pending besides the release ({time.monotonic() - started:.1f}s)")


def release(target: Target, image: str, description: str, *, timeout: float | None,
            poll: float, say: Callable[[str], None] = print) -> str:
    """Make `image` the environment's version of record and roll it out; the summary line.
    Every refusal is decided before the version of record is written."""
    started = time.monotonic()
    wait = release_wait(target) if timeout is None else timeout
    with release_lock(target, image):
        previous = version_of_record(target)
        if target.blue_green:
            running = running_codedeploy_deployments(target)
            if running:
                raise Refused(f"{target.label}: CodeDeploy deployment "
                              f"{running[0]['deploymentId']} is {running[0]['status']}; a "
                              f"release waits for it to end (python -m ops status "
                              f"{target.flags})")
        ssm = target.client("ssm")
        if previous != image:
            check_release_applies(target, say)
            if target.environment.service.release_command:
                run_release_command(target, image, timeout=wait, poll=poll, say=say)
            tag_release(target, image, say)
            ssm.put_parameter(Name=target.names.image_parameter, Value=image, Type="String",
                              Overwrite=True, Description=description[:1024])
            say(f"{target.label}: version of record -> {image}")

        def restore(why: str) -> None:
            if previous != image:
                ssm.put_parameter(Name=target.names.image_parameter, Value=previous,
                                  Type="String", Overwrite=True,
                                  Description=f"{RESTORE} {why} (by {released_by()})"[:1024])
                say(f"{target.label}: version of record restored -> {previous}")

        try:
            applied = apply_version_of_record(target, say)
        except (Refused, TerraformError) as error:
            # Only a change made between the check and now (or a failed apply) lands here.
            restore(f"release of {image} stopped: {error}")
            raise
        try:
            if target.blue_green:
                state = deploy_with_codedeploy(target, applied, description, wait, poll, say)
            else:
                state = wait_for_ecs(target, target.output(applied, outputs.TASK_DEFINITION_ARN),
                                     wait, poll)
        except TimeoutError as error:
            raise RolloutFailed(
                f"{target.label}: the rollout of {image} did not finish within {wait:.0f}s "
                f"({error}); it goes on: watch python -m ops status "
                f"{target.flags}") from None
        except RolloutFailed as error:
            restore(f"rollout of {image} failed: {error}")
            apply_version_of_record(target, say)  # the stack again matches what runs
            raise RolloutFailed(f"rolled back: {target.label}: {str(error).rstrip('.')}; the "
                                f"version of record is {previous} again") from None
    return (f"{target.label}: released {image} "
            f"({revision_name(target.output(applied, outputs.TASK_DEFINITION_ARN))}; {state}) in "
            f"{time.monotonic() - started:.1f}s")


def describe_release(action: str, image: Image) -> str:
    return f"{action} {image.label} (commit {commit()}) by {released_by()}"


def deploy(target: Target, version: str, *, timeout: float | None, poll: float,
           say: Callable[[str], None] = print) -> str:
    image = find_image(target, version)
    return release(target, image.reference, describe_release("release", image),
                   timeout=timeout, poll=poll, say=say)


def each_service(targets: list[Target], ship: Callable[[Target], str | None],
                 say: Callable[[str], None] = print) -> str:
    """ship(target) for each service in order (the file's), a line each; None from ship: the
    service already runs that version, skipped. The first failure stops the rest, which are
    named before it is raised."""
    released = 0
    for number, target in enumerate(targets):
        try:
            done = ship(target)
        except Exception:
            rest = [one.environment.service_key or one.name for one in targets[number + 1:]]
            say(f"{target.label}: failed; not released" + (
                f": {', '.join(rest)}" if rest else " after it: none"))
            raise
        released += done is not None
        say(done or f"{target.label}: already runs that version; not released")
    return f"{released} of {len(targets)} service(s) released"


def deploy_changed(target: Target, version: str, *, timeout: float | None, poll: float,
                   say: Callable[[str], None] = print) -> str | None:
    """deploy(), or None when the service already runs `version` (its image is unchanged)."""
    image = find_image(target, version)
    if version_of_record(target) == image.reference:
        return None
    return release(target, image.reference, describe_release("release", image),
                   timeout=timeout, poll=poll, say=say)
