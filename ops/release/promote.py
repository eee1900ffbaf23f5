"""Promotion: what runs, healthy, in one environment released to the next."""

from __future__ import annotations

from typing import Callable

from ops.errors import Refused
from ops.release.deploy import describe_release, release
from ops.release.record import image_of_reference, require_repository, version_of_record
from ops.release.target import Image, Target
from ops.release.wait import CODEDEPLOY_RUNNING, deployment_state, describe_service, revision
from stacks import props


def check_healthy(target: Target, image: Image) -> None:
    """Refused unless the environment runs `image` on every desired task, with no deployment
    in progress."""
    service = describe_service(target)
    if service is None:
        raise Refused(f"{target.label}: not deployed (no ECS service {target.names.service})")
    definition = target.client("ecs").describe_task_definition(
        taskDefinition=service["taskDefinition"])["taskDefinition"]
    running = [container["image"] for container in definition["containerDefinitions"]
               if container["name"] == props.fargate_service(target.environment).container_name]
    if image.reference not in running and not any(
            reference.endswith(f":{tag}") for reference in running for tag in image.tags):
        raise Refused(f"{target.label}: not healthy on its version of record {image.label}: "
                      f"the service runs {', '.join(running) or 'no such container'} "
                      f"({revision(service)})")
    state = deployment_state(target, service)
    if service.get("deploymentController", {}).get("type") == "CODE_DEPLOY":
        busy = any(state.endswith(f" {status}") for status in CODEDEPLOY_RUNNING)
    else:
        busy = state != "ECS COMPLETED"
    if busy:
        raise Refused(f"{target.label}: not healthy on {image.label}: deployment {state}")
    if service["runningCount"] != service["desiredCount"]:
        raise Refused(f"{target.label}: not healthy on {image.label}: "
                      f"{service['runningCount']}/{service['desiredCount']} tasks running")


def promote(source: Target, target: Target, *, timeout: float | None, poll: float,
            say: Callable[[str], None] = print) -> str:
    for one in (source, target):
        require_repository(one)
    if (source.names.repository, source.environment.region) != (
            target.names.repository, target.environment.region):
        raise Refused(
            f"{target.name} runs images from {target.names.repository} "
            f"({target.environment.region}), {source.name} from {source.names.repository} "
            f"({source.environment.region}): promotion moves one digest within one repository; "
            f"set service.ecr_repository_owner = \"{source.name}\" in environments/"
            f"{target.name}.toml")
    image = image_of_reference(source, version_of_record(source))
    check_healthy(source, image)
    return release(target, image.reference,
                   describe_release(f"promote from {source.name}:", image),
                   timeout=timeout, poll=poll, say=say)


def promote_changed(source: Target, target: Target, *, timeout: float | None, poll: float,
                    say: Callable[[str], None] = print) -> str | None:
    """promote(), or None when `target` already runs what `source` runs."""
    if version_of_record(target) == version_of_record(source):
        return None
    return promote(source, target, timeout=timeout, poll=poll, say=say)
