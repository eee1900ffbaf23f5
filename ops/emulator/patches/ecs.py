"""ECS: CreateService dropped healthCheckGracePeriodSeconds, availabilityZoneRebalancing,
deploymentConfiguration, placement, exec and managed-tags settings (every plan after apply
wanted to change the service), and UpdateService replaced the whole deploymentConfiguration
with the one member the provider sends, where AWS merges it: the patch keeps them and merges.
Rollouts (ops/release.py): an UpdateService with a new task definition started no deployment and
none ever completed; the patch starts one that completes $EMULATOR_ROLLOUT_SECONDS (default 2)
later, or, for an image matching $EMULATOR_FAILING_IMAGES (comma-separated fnmatch patterns,
e.g. `*:broken`), fails and is rolled back by the circuit breaker as ECS does. The rollout
helpers here serve the CodeDeploy ECS deployments too (patches/codedeploy.py)."""

from __future__ import annotations

import os
import uuid
from typing import Any

from ops.emulator.patches import wrap

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


# Seconds an ECS or CodeDeploy deployment takes in the emulator before it completes (or fails).
ROLLOUT_SECONDS_VARIABLE = "EMULATOR_ROLLOUT_SECONDS"
# Comma-separated fnmatch patterns: a deployment whose task definition runs a matching image
# fails (its tasks "never start"), e.g. EMULATOR_FAILING_IMAGES='*@sha256:0bad*,*:broken'.
FAILING_IMAGES_VARIABLE = "EMULATOR_FAILING_IMAGES"
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def rollout_seconds() -> float:
    return float(os.environ.get(ROLLOUT_SECONDS_VARIABLE) or 2)


def failing(images: list[str]) -> bool:
    """Whether any of `images` matches $EMULATOR_FAILING_IMAGES (read at each check, so a test
    can change it while the emulator runs)."""
    from fnmatch import fnmatchcase

    patterns = [pattern.strip() for pattern in
                os.environ.get(FAILING_IMAGES_VARIABLE, "").split(",") if pattern.strip()]
    return any(fnmatchcase(image, pattern) for image in images for pattern in patterns)


def task_definition_images(ecs_backend, task_definition: str) -> list[str]:
    definition = ecs_backend.describe_task_definition(task_definition)
    return [container.get("image", "") for container in definition.container_definitions]


def service_event(service, message: str) -> None:
    from moto.core.utils import utcnow

    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": utcnow(),
                              "message": f"(service {service.name}) {message}"})


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
            return service
        return wrapper

    def advance(backend, service) -> None:
        """Finish the PRIMARY deployment once it is rollout_seconds() old: COMPLETED with every
        task running, or, for a failing image, FAILED and (circuit breaker rollback) replaced
        by a deployment of the last completed task definition, as ECS does."""
        if service.deployment_controller.get("type", "ECS") != "ECS" or not service.deployments:
            return
        primary = service.deployments[0]
        if primary.get("rolloutState") != "IN_PROGRESS" or (
                utcnow() - primary["createdAt"]).total_seconds() < rollout_seconds():
            return
        if failing(task_definition_images(backend, primary["taskDefinition"])):
            breaker = (service.deployment_configuration or {}).get(
                "deploymentCircuitBreaker") or {}
            if not breaker.get("enable"):
                return  # ECS keeps starting tasks that fail, for ever
            primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON,
                           failedTasks=service.desired_count, pendingCount=0, runningCount=0,
                           updatedAt=utcnow())
            service_event(service, f"(deployment {primary['id']}) deployment failed: tasks "
                                    "failed to start.")
            previous = next((deployment for deployment in service.deployments[1:]
                             if deployment.get("rolloutState") == "COMPLETED"), None)
            if breaker.get("rollback") and previous is not None:
                service_event(service, f"rolling back to deployment {previous['id']}.")
                service.task_definition = previous["taskDefinition"]
                service.deployments[:] = [primary]  # the rollback takes the old tasks' place
                start_deployment(service, previous["taskDefinition"])
            return
        primary.update(rolloutState="COMPLETED", runningCount=service.desired_count,
                       pendingCount=0, updatedAt=utcnow(),
                       rolloutStateReason=f"ECS deployment {primary['id']} completed.")
        service.deployments[:] = [primary]
        service.running_count, service.pending_count = service.desired_count, 0
        service_event(service, "has reached a steady state.")

    def describe_services(describe):
        def wrapper(self, *args, **kwargs):
            services, failures = describe(self, *args, **kwargs)
            for service in services:
                advance(self, service)
            return services, failures
        return wrapper

    # ECS UpdateService with a new task definition (what the provider sends when
    # aws_ecs_service.task_definition changes): moto kept the one deployment it made at
    # CreateService, still naming the old task definition, and never finished any deployment
    # (rolloutState IN_PROGRESS, runningCount 0 unless MOTO_ECS_SERVICE_RUNNING). Now each
    # starts a PRIMARY deployment that DescribeServices reports COMPLETED after
    # $EMULATOR_ROLLOUT_SECONDS, or FAILED and rolled back for an image in
    # $EMULATOR_FAILING_IMAGES.
    wrap(EC2ContainerServiceBackend, "update_service", update_service)
    wrap(EC2ContainerServiceBackend, "describe_services", describe_services)
