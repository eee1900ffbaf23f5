"""CodeDeploy (the blue/green variant): GetApplication sent createTime as ISO text where AWS
sends a number (the provider could not read the application); GetDeploymentGroup answered an
empty alarmConfiguration (a plan diff); DeleteApplication, DeleteDeploymentGroup,
UpdateApplication and UpdateDeploymentGroup did not exist (destroy and updates failed): the
patch fills them. Deployments (`python -m ops.release`): an ECS deployment stayed "Created" and
never changed the service; the patch finishes it $EMULATOR_ROLLOUT_SECONDS after it starts,
Succeeded (the service runs the new task definition) or, for a failing image, Failed (the
service keeps its task definition)."""

from __future__ import annotations

import json
from typing import Any

from ops.emulator.patches import wrap
from ops.emulator.patches.ecs import (failing, rollout_seconds, service_event,
                                      task_definition_images)


def epoch_seconds(value: Any) -> Any:
    """An ISO 8601 time as seconds since the epoch (how AWS's JSON protocols send timestamps)."""
    from datetime import datetime

    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return value


def complete() -> None:
    from moto.codedeploy.exceptions import DeploymentGroupAlreadyExistsException
    from moto.codedeploy.models import Application, DeploymentGroup, DeploymentInfo
    from moto.codedeploy.responses import CodeDeployResponse as Response

    def with_epoch_times(to_dict):
        def wrapper(self) -> dict[str, Any]:
            info = to_dict(self)
            for key in ("createTime", "startTime", "completeTime"):
                if key in info:
                    info[key] = epoch_seconds(info[key])
            return info
        return wrapper

    # aws_codedeploy_app read (GetApplication): moto sent createTime as ISO text where AWS sends
    # epoch seconds, the only form the provider's SDK deserializes.
    wrap(Application, "to_dict", with_epoch_times)
    wrap(DeploymentInfo, "to_dict", with_epoch_times)

    def group_to_dict(to_dict):
        def wrapper(self) -> dict[str, Any]:
            info = to_dict(self)
            info["alarmConfiguration"] = self.alarm_configuration or {
                "enabled": False, "ignorePollAlarmFailure": False, "alarms": []}
            info["outdatedInstancesStrategy"] = self.outdated_instances_strategy or "UPDATE"
            info["terminationHookEnabled"] = bool(self.termination_hook_enabled)
            return info
        return wrapper

    # aws_codedeploy_deployment_group read (GetDeploymentGroup): moto answered an empty
    # alarmConfiguration (a plan diff on alarm_configuration) and no outdatedInstancesStrategy.
    wrap(DeploymentGroup, "to_dict", group_to_dict)

    def arn(self, kind: str, name: str) -> str:
        backend = self.codedeploy_backend
        return f"arn:aws:codedeploy:{backend.region_name}:{backend.account_id}:{kind}:{name}"

    def delete_deployment_group(self):
        application, name = self._get_param("applicationName"), \
            self._get_param("deploymentGroupName")
        backend = self.codedeploy_backend
        backend.get_application(application)  # ApplicationDoesNotExistException
        if name in backend.deployment_groups.get(application, {}):
            del backend.deployment_groups[application][name]
            backend.tagger.delete_all_tags_for_resource(
                arn(self, "deploymentgroup", f"{application}/{name}"))
        return json.dumps({"hooksNotCleanedUp": []})

    def delete_application(self):
        application = self._get_param("applicationName")
        backend = self.codedeploy_backend
        if backend.applications.pop(application, None) is not None:
            for name in backend.deployment_groups.pop(application, {}):
                backend.tagger.delete_all_tags_for_resource(
                    arn(self, "deploymentgroup", f"{application}/{name}"))
            backend.tagger.delete_all_tags_for_resource(arn(self, "application", application))
        return "{}"

    def update_application(self):
        old, new = self._get_param("applicationName"), self._get_param("newApplicationName")
        backend = self.codedeploy_backend
        application = backend.get_application(old)
        if new and new != old:
            application.application_name = new
            backend.applications[new] = backend.applications.pop(old)
            if old in backend.deployment_groups:
                backend.deployment_groups[new] = backend.deployment_groups.pop(old)
        return "{}"

    # UpdateDeploymentGroup parameters -> moto's DeploymentGroup attributes.
    group_settings = {
        "deploymentConfigName": "deployment_config_name", "ec2TagFilters": "ec2_tag_filters",
        "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
        "autoScalingGroups": "auto_scaling_groups", "serviceRoleArn": "service_role_arn",
        "triggerConfigurations": "trigger_configurations",
        "alarmConfiguration": "alarm_configuration",
        "autoRollbackConfiguration": "auto_rollback_configuration",
        "outdatedInstancesStrategy": "outdated_instances_strategy",
        "deploymentStyle": "deployment_style",
        "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
        "loadBalancerInfo": "load_balancer_info", "ec2TagSet": "ec2_tag_set",
        "ecsServices": "ecs_services", "onPremisesTagSet": "on_premises_tag_set",
        "terminationHookEnabled": "termination_hook_enabled"}

    def update_deployment_group(self):
        application = self._get_param("applicationName")
        old = self._get_param("currentDeploymentGroupName")
        new = self._get_param("newDeploymentGroupName") or old
        group = self.codedeploy_backend.get_deployment_group(application, old)
        groups = self.codedeploy_backend.deployment_groups[application]
        if new != old:
            if new in groups:
                raise DeploymentGroupAlreadyExistsException(
                    f"Deployment group {new} already exists.")
            groups[new] = groups.pop(old)
            group.deployment_group_name = new
        for parameter, attribute in group_settings.items():
            value = self._get_param(parameter)
            if value is not None:
                setattr(group, attribute, value)
        return json.dumps({"hooksNotCleanedUp": []})

    # aws_codedeploy_deployment_group delete and update (moto lacked both).
    Response.delete_deployment_group = delete_deployment_group
    Response.update_deployment_group = update_deployment_group
    # aws_codedeploy_app delete and update (rename; moto lacked both).
    Response.delete_application = delete_application
    Response.update_application = update_application


def run_ecs_deployments() -> None:
    import yaml
    from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo
    from moto.core.exceptions import JsonRESTError
    from moto.core.utils import iso_8601_datetime_with_milliseconds, utcnow
    from moto.ecs.models import ecs_backends

    def create_deployment(create):
        def wrapper(self, application_name: str, deployment_group_name: str, revision,
                    *args, **kwargs) -> str:
            group = self.get_deployment_group(application_name, deployment_group_name)
            if group.ecs_services:
                for other in self.deployments.values():
                    if (other.application_name, other.deployment_group_name) == (
                            application_name, deployment_group_name) and \
                            other.status in ("Created", "Queued", "InProgress", "Ready"):
                        raise JsonRESTError(
                            "DeploymentLimitExceededException",
                            f"The Deployment Group '{deployment_group_name}' already has an "
                            f"active Deployment '{other.deployment_id}'")
            deployment_id = create(self, application_name, deployment_group_name, revision,
                                   *args, **kwargs)
            deployment = self.deployments[deployment_id]
            deployment.ops_started = utcnow()
            if group.ecs_services:
                content = ((revision or {}).get("appSpecContent") or {}).get("content") or ""
                try:
                    (resource,) = yaml.safe_load(content)["Resources"]
                    target = next(iter(resource.values()))
                    deployment.ops_task_definition = target["Properties"]["TaskDefinition"]
                except Exception as error:
                    del self.deployments[deployment_id]
                    raise JsonRESTError(
                        "InvalidRevisionException", "invalid AppSpec content (want Resources: - "
                        f"TargetService: Properties: TaskDefinition: ...): {error!r}") from None
            return deployment_id
        return wrapper

    def advance(backend, deployment) -> None:
        """Created -> InProgress -> Succeeded (the ECS service now runs the AppSpec's task
        definition) or Failed (its image fails; the service keeps the old one)."""
        task_definition = getattr(deployment, "ops_task_definition", None)
        if task_definition is None or deployment.status not in ("Created", "InProgress"):
            return
        if deployment.start_time is None:
            deployment.status, deployment.start_time = "InProgress", \
                iso_8601_datetime_with_milliseconds()
        if (utcnow() - deployment.ops_started).total_seconds() < rollout_seconds():
            return
        ecs = ecs_backends[backend.account_id][backend.region_name]
        (target,) = deployment.deployment_group.ecs_services
        service = ecs._get_service(target["clusterName"], target["serviceName"])
        if failing(task_definition_images(ecs, task_definition)):
            deployment.status = "Failed"
            deployment.ops_error = {"code": "ECS_UPDATE_ERROR", "message": "The ECS replacement "
                                    "task set failed its health checks: tasks failed to start"}
            deployment.ops_rollback = {"rollbackMessage": "Automatic rollback: the original task"
                                       " set keeps the production traffic"}
        else:
            deployment.status = "Succeeded"
            service.task_definition = ecs.describe_task_definition(task_definition).arn
            service.running_count, service.pending_count = service.desired_count, 0
            service_event(service, f"(CodeDeploy deployment {deployment.deployment_id}) "
                                    "shifted production traffic to the replacement task set.")
        deployment.complete_time = iso_8601_datetime_with_milliseconds()

    def reading(method):
        def wrapper(self, *args, **kwargs):
            result = method(self, *args, **kwargs)
            for deployment in (result if isinstance(result, list) else [result]):
                advance(self, deployment)
            return result
        return wrapper

    def to_dict(original):
        def wrapper(self) -> dict[str, Any]:
            info = original(self)
            info["errorInformation"] = getattr(self, "ops_error", {})
            info["rollbackInfo"] = getattr(self, "ops_rollback", {})
            return info
        return wrapper

    # CreateDeployment for an ECS deployment group (`python -m ops.release`, blue/green): moto
    # stored it as "Created" for ever and never touched the service. Now it reads the AppSpec's
    # TaskDefinition, refuses a second active deployment in the group as AWS does, and
    # GetDeployment/BatchGetDeployments move it to Succeeded (the service runs the new task
    # definition) or, for an image in $EMULATOR_FAILING_IMAGES, Failed (rolled back: the
    # service keeps the old one), $EMULATOR_ROLLOUT_SECONDS after it was created.
    wrap(CodeDeployBackend, "create_deployment", create_deployment)
    wrap(CodeDeployBackend, "get_deployment", reading)
    wrap(CodeDeployBackend, "batch_get_deployments", reading)
    wrap(DeploymentInfo, "to_dict", to_dict)
