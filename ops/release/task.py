"""The release command: a one-off task of the new image (a migration) before a release writes
the version of record, as a release pipeline's migration step (AWS Copilot's `task run`,
ecspresso's `run`) but in the release itself, so no version runs before its migration."""

from __future__ import annotations

from typing import Callable

from ops.errors import Refused
from ops.release.target import RolloutFailed, Target
from ops.release.wait import describe_service
from ops.service_tasks import Service, run_one_off
from stacks import props

# What a task definition says that RegisterTaskDefinition takes back (besides its containers).
REGISTERED = ("cpu", "memory", "networkMode", "requiresCompatibilities",
              "executionRoleArn", "taskRoleArn", "runtimePlatform", "volumes",
              "ephemeralStorage")


def run_release_command(target: Target, image: str, *, timeout: float, poll: float,
                        say: Callable[[str], None]) -> None:
    """Run the service's release_command in a task of its current task definition with
    `image`; RolloutFailed unless it exits 0. The task definition registered for it is
    deregistered after."""
    command = list(target.environment.service.release_command)
    ecs = target.client("ecs")
    running = describe_service(target)
    if running is None:
        raise Refused(f"{target.label}: not deployed (no ECS service {target.names.service}); "
                      f"its release command runs in its cluster: python -m ops up "
                      f"--env {target.name}")
    container = props.fargate_service(target.environment).container_name
    current = ecs.describe_task_definition(taskDefinition=running["taskDefinition"])[
        "taskDefinition"]
    definitions = [dict(one, image=image) if one["name"] == container else one
                   for one in current["containerDefinitions"]]
    registered = ecs.register_task_definition(
        family=target.names.release_task_family,
        **{key: current[key] for key in REGISTERED if key in current},
        containerDefinitions=definitions)["taskDefinition"]["taskDefinitionArn"]
    say(f"{target.label}: release command {' '.join(command)} (image {image.rsplit('@')[-1][:19]})")
    try:
        service = Service(cluster=target.names.cluster, name=target.names.service,
                          container=container, log_group=target.names.log_group,
                          stream_prefix=container)
        code = run_one_off(ecs, target.client("logs"), service, command, timeout=timeout,
                           poll=poll, say=say, task_definition=registered)
    finally:
        ecs.deregister_task_definition(taskDefinition=registered)
    if code != 0:
        raise RolloutFailed(f"{target.label}: the release command {' '.join(command)} exited "
                            f"with {code}; nothing was released")
