"""ECS: CreateService dropped healthCheckGracePeriodSeconds, availabilityZoneRebalancing,
deploymentConfiguration, placement, exec and managed-tags settings (every plan after apply
wanted to change the service), and UpdateService replaced the whole deploymentConfiguration
with the one member the provider sends, where AWS merges it: the patch keeps them and merges.
Rollouts (ops/release.py): an UpdateService with a new task definition started no deployment and
none ever completed (or, with MOTO_ECS_SERVICE_RUNNING, every one completed at once). The patch
starts one and takes the time ECS takes, in AWS seconds scaled by $EMULATOR_TIME_SCALE
(clock.py): the new tasks start one after another over TASK_START_SECONDS (runningCount grows,
the old deployment ACTIVE and still running), pass the health checks of the service's target
group (healthy threshold x interval), then the old tasks drain for its deregistration delay;
only then is the deployment COMPLETED, alone, and the service steady. A task whose image matches
$EMULATOR_FAILING_IMAGES (comma-separated fnmatch patterns, e.g. `*:broken`), or whose secrets
the execution role cannot fetch (ecs_tasks.py), never starts: each launch fails after
TASK_START_SECONDS (a stopped task giving ECS's reason), and the circuit breaker fails the deployment after ECS's
threshold of failed tasks (half the desired count, at least 3, at most 200) and rolls back, as
ECS does. The rollout helpers here serve the CodeDeploy ECS deployments too (codedeploy.py)."""

from __future__ import annotations

import math
import os
import uuid
from typing import Any

from ops.emulator.patches import clock, wrap

# CreateService parameters that DescribeServices returns but moto's create_service ignores
# (UpdateService already stores every parameter it gets).
ECS_SERVICE_SETTINGS = ("healthCheckGracePeriodSeconds", "availabilityZoneRebalancing",
                        "deploymentConfiguration", "placementConstraints", "placementStrategy",
                        "capacityProviderStrategy", "enableECSManagedTags", "enableExecuteCommand")


def keep_service_settings() -> None:
    from moto.core.utils import camelcase_to_underscores
    from moto.ecs.models import Service
    from moto.ecs.responses import EC2ContainerServiceResponse

    def make(create_service):
        def wrapper(self):
            result = create_service(self)
            service = result.result["service"]
            for name in ECS_SERVICE_SETTINGS:
                value = self._get_param(name)
                if value is not None:  # moto's serializer reads the snake_case attribute
                    setattr(service, camelcase_to_underscores(name), value)
            return result
        return wrapper

    # aws_ecs_service read: health_check_grace_period_seconds and availability_zone_rebalancing
    # came back empty, so every plan after apply showed a change.
    wrap(EC2ContainerServiceResponse, "create_service", make)

    def get_deployment_configuration(service) -> dict[str, Any] | None:
        return getattr(service, "_ops_deployment_configuration", None)

    def set_deployment_configuration(service, changes: dict[str, Any]) -> None:
        service._ops_deployment_configuration = {**(get_deployment_configuration(service) or {}),
                                                 **changes}

    # aws_ecs_service update of deployment_circuit_breaker alone: the provider sends only that
    # member, which AWS merges but moto's update_service stored as the whole configuration
    # (deployment_maximum_percent then read back as 0).
    Service.deployment_configuration = property(get_deployment_configuration,
                                                set_deployment_configuration)


# AWS seconds a Fargate task takes from PROVISIONING to RUNNING (capacity, image pull, start).
TASK_START_SECONDS = 60.0
# Comma-separated fnmatch patterns: a deployment whose task definition runs a matching image
# fails (its tasks "never start"), e.g. EMULATOR_FAILING_IMAGES='*@sha256:0bad*,*:broken'.
FAILING_IMAGES_VARIABLE = "EMULATOR_FAILING_IMAGES"
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def failing(images: list[str]) -> bool:
    """Whether any of `images` matches $EMULATOR_FAILING_IMAGES (read at each check, so a test
    can change it while the emulator runs)."""
    from fnmatch import fnmatchcase

    patterns = [pattern.strip() for pattern in
                os.environ.get(FAILING_IMAGES_VARIABLE, "").split(",") if pattern.strip()]
    return any(fnmatchcase(image, pattern) for image in images for pattern in patterns)


_secrets_failures: dict[str, str | None] = {}  # deployment id -> why its secrets cannot be had


def start_failure(ecs_backend, task_definition: str | None, deployment: str) -> str | None:
    """Why `deployment`'s tasks never start, or None: an image in $EMULATOR_FAILING_IMAGES (read
    at each check), or secrets ECS cannot fetch with the execution role (ecs_tasks.py; checked
    once per deployment)."""
    images = task_definition_images(ecs_backend, task_definition)
    if failing(images):
        return (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                f"failed to resolve ref {images[0]}: not found")
    if task_definition and deployment not in _secrets_failures:
        from ops.emulator.patches.ecs_tasks import secrets_of

        definition = ecs_backend.describe_task_definition(task_definition)
        _secrets_failures[deployment] = secrets_of(ecs_backend, definition, "ecs-agent")[1]
    return _secrets_failures.get(deployment)


def task_definition_images(ecs_backend, task_definition: str | None) -> list[str]:
    if not task_definition:  # moto creates services without one; AWS's ECS controller does not
        return []
    definition = ecs_backend.describe_task_definition(task_definition)
    return [container.get("image", "") for container in definition.container_definitions]


def service_event(service, message: str) -> None:
    from moto.core.utils import utcnow

    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": utcnow(),
                              "message": f"(service {service.name}) {message}"})


def target_group(backend, arn: str | None = None, name: str | None = None):
    """The ELB target group with this ARN or name in the backend's account and region."""
    from moto.elbv2.models import elbv2_backends

    groups = elbv2_backends[backend.account_id][backend.region_name].target_groups.values()
    return next((group for group in groups if arn == group.arn or name == group.name), None)


def health_seconds(group) -> float:
    """AWS seconds a running task takes to be healthy in `group`: healthy threshold x interval
    (0 without a target group)."""
    if group is None:
        return 0.0
    return float(group.healthy_threshold_count) * float(group.health_check_interval_seconds)


def drain_seconds(group) -> float:
    """AWS seconds a deregistered task drains in `group` (its deregistration delay)."""
    if group is None:
        return 0.0
    return float(group.attributes.get("deregistration_delay.timeout_seconds", 300))


def service_target_group(backend, service):
    arns = [balancer.get("targetGroupArn") for balancer in service.load_balancers]
    return next((group for group in (target_group(backend, arn=arn) for arn in arns if arn)
                 if group is not None), None)


def circuit_breaker_threshold(desired: int) -> int:
    """Failed tasks after which ECS's circuit breaker fails a deployment: half the desired
    count, at least 3, at most 200 (ECS developer guide, "deployment circuit breaker")."""
    return min(max(3, math.ceil(desired / 2)), 200)


# ARN -> (ECS backend, service) of the services with a rollout in progress.
_rolling: dict[str, tuple[Any, Any]] = {}
_draining: set[str] = set()  # the deployments whose old tasks drain


def roll_out_deployments() -> None:
    from moto.core.utils import utcnow
    from moto.ecs.models import EC2ContainerServiceBackend

    def start_deployment(service, task_definition: str) -> dict[str, Any]:
        now = utcnow()
        for deployment in service.deployments:
            deployment["status"] = "ACTIVE"  # its tasks run until the new ones are healthy
        deployment = {
            **(service.deployments[0] if service.deployments else {}),
            "id": f"ecs-svc/{uuid.uuid4().int % 10 ** 19}", "status": "PRIMARY",
            "taskDefinition": task_definition, "desiredCount": service.desired_count,
            "pendingCount": service.desired_count, "runningCount": 0, "failedTasks": 0,
            "rolloutState": "IN_PROGRESS", "createdAt": now, "updatedAt": now}
        deployment["rolloutStateReason"] = f"ECS deployment {deployment['id']} in progress."
        service.deployments.insert(0, deployment)
        return deployment

    def create_service(create):
        def wrapper(self, *args, **kwargs):
            service = create(self, *args, **kwargs)
            service.running_count, service.pending_count = 0, service.desired_count
            # moto's first deployment (COMPLETED at once with MOTO_ECS_SERVICE_RUNNING): it
            # starts its tasks like any other.
            for deployment in service.deployments:
                deployment.update(rolloutState="IN_PROGRESS", runningCount=0,
                                  pendingCount=service.desired_count)
            service._ops_created = utcnow()
            _rolling[service.arn] = (self, service)
            return service
        return wrapper

    def update_service(update):
        def wrapper(self, properties: dict[str, Any]):
            cluster = properties.get("cluster", "default")
            current = self._get_service(cluster, properties["service"].split("/")[-1])
            advance(self, current)  # a deployment due to finish does so before the next starts
            before = current.task_definition
            force = properties.get("force_new_deployment")
            service = update(self, properties)
            # moto stores what the call said (family, family:revision or ARN); AWS the ARN.
            service.task_definition = self.describe_task_definition(service.task_definition).arn
            if service.deployment_controller.get("type", "ECS") == "ECS" and (
                    service.task_definition != before or force):
                start_deployment(service, service.task_definition)
                _rolling[service.arn] = (self, service)
            return service
        return wrapper

    def start_code_deploy_tasks(backend, service) -> bool:
        """A CODE_DEPLOY service's first task set: running once started and healthy. True
        while it still starts."""
        group = service_target_group(backend, service)
        if clock.aws_seconds_since(service._ops_created) < \
                TASK_START_SECONDS + health_seconds(group):
            return True
        service.running_count, service.pending_count = service.desired_count, 0
        return False

    def advance(backend, service) -> bool:
        """Move the PRIMARY deployment to now (see the module docstring); True while it is
        still in progress."""
        if service.status != "ACTIVE":
            return False
        if service.deployment_controller.get("type", "ECS") != "ECS":
            return service.deployment_controller.get("type") == "CODE_DEPLOY" and \
                hasattr(service, "_ops_created") and start_code_deploy_tasks(backend, service)
        if not service.deployments:
            return False
        primary, older = service.deployments[0], service.deployments[1:]
        if primary.get("rolloutState") != "IN_PROGRESS":
            return False
        seconds = clock.aws_seconds_since(primary["createdAt"])
        desired = primary["desiredCount"] = service.desired_count
        reason = start_failure(backend, primary["taskDefinition"], primary["id"])
        if reason:
            return fail(backend, service, primary, desired * int(seconds // TASK_START_SECONDS),
                        reason)
        running = desired if seconds >= TASK_START_SECONDS else \
            int(desired * seconds / TASK_START_SECONDS)
        if running != primary["runningCount"]:
            primary.update(runningCount=running, pendingCount=desired - running,
                           updatedAt=utcnow())
        group = service_target_group(backend, service)
        healthy = TASK_START_SECONDS + health_seconds(group)
        draining = [one for one in older if one.get("runningCount")]
        if seconds >= healthy and draining and primary["id"] not in _draining:
            _draining.add(primary["id"])
            service_event(service, f"has begun draining connections on {len(draining)} "
                                   "deployment(s).")
        service.running_count = running + sum(one.get("runningCount", 0) for one in older)
        service.pending_count = desired - running
        if seconds < healthy + (drain_seconds(group) if draining else 0.0):
            return True
        _draining.discard(primary["id"])
        primary.update(rolloutState="COMPLETED", runningCount=desired, pendingCount=0,
                       updatedAt=utcnow(),
                       rolloutStateReason=f"ECS deployment {primary['id']} completed.")
        service.deployments[:] = [primary]
        service.running_count, service.pending_count = desired, 0
        service_event(service, "has reached a steady state.")
        return False

    def fail(backend, service, primary: dict[str, Any], failed: int, reason: str) -> bool:
        """A deployment whose tasks never start (`reason`): `failed` launches so far, each a
        stopped task saying why. FAILED, and rolled back, once the circuit breaker's threshold
        is reached; True while in progress."""
        if failed != primary["failedTasks"]:
            from ops.emulator.patches.ecs_tasks import failed_to_start

            for _ in range(failed - int(primary["failedTasks"] or 0)):
                failed_to_start(backend, service, primary, reason)
            primary.update(failedTasks=failed, runningCount=0, updatedAt=utcnow())
        breaker = (service.deployment_configuration or {}).get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable") or failed < circuit_breaker_threshold(
                primary["desiredCount"]):
            return True  # without the breaker ECS keeps starting tasks that fail, for ever
        primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON,
                       pendingCount=0, runningCount=0, updatedAt=utcnow())
        service_event(service, f"(deployment {primary['id']}) deployment failed: tasks "
                                "failed to start.")
        previous = next((deployment for deployment in service.deployments[1:]
                         if deployment.get("rolloutState") == "COMPLETED"), None)
        if not (breaker.get("rollback") and previous is not None):
            return False
        service_event(service, f"rolling back to deployment {previous['id']}.")
        service.task_definition = previous["taskDefinition"]
        service.deployments[:] = [primary]  # the rollback takes the old tasks' place
        start_deployment(service, previous["taskDefinition"])
        return True

    def tick() -> None:
        for arn, (backend, service) in list(_rolling.items()):
            if not advance(backend, service):
                _rolling.pop(arn, None)

    # ECS CreateService and UpdateService with a new task definition (what the provider sends
    # when aws_ecs_service.task_definition changes): moto kept the one deployment it made at
    # CreateService, still naming the old task definition, and never finished any deployment
    # (rolloutState IN_PROGRESS, runningCount 0 unless MOTO_ECS_SERVICE_RUNNING, which finished
    # every one at once). Now each starts a PRIMARY deployment that takes ECS's time
    # (module docstring), or FAILS and is rolled back for an image in $EMULATOR_FAILING_IMAGES.
    wrap(EC2ContainerServiceBackend, "create_service", create_service)
    wrap(EC2ContainerServiceBackend, "update_service", update_service)
    clock.on_every_request(tick)
