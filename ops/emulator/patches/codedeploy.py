"""CodeDeploy (the blue/green variant): GetApplication sent createTime as ISO text where AWS
sends a number (the provider could not read the application); GetDeploymentGroup answered an
empty alarmConfiguration (a plan diff); DeleteApplication, DeleteDeploymentGroup,
UpdateApplication and UpdateDeploymentGroup did not exist (destroy and updates failed): the
patch fills them.

Deployments (`python -m ops release`): an ECS deployment stayed "Created" for ever and never
changed the service. The patch runs it as CodeDeploy does, in AWS seconds scaled by
$EMULATOR_TIME_SCALE (clock.py; never skipped):

1. Created -> InProgress; the replacement task set starts behind the idle target group of the
   group's pair (Install: ecs.TASK_START_SECONDS plus that group's health checks). An image in
   $EMULATOR_FAILING_IMAGES never starts: the deployment Fails there, production untouched.
2. The test listener forwards to the replacement (AllowTestTraffic), then production traffic
   shifts as the deployment config says (AllowTraffic): the production listener forwards to
   both target groups with weights, e.g. 90/10 then 80/20 ... every 3 minutes for
   CodeDeployDefault.ECSLinear10PercentEvery3Minutes, 10% for 5 minutes then 100% for
   ECSCanary10Percent5Minutes, 100% at once for ECSAllAtOnce.
3. Fully shifted: the service runs the new task definition, the target Succeeded,
   instanceTerminationWaitTimeStarted true; the deployment stays InProgress through the
   group's termination wait (blueGreenDeploymentConfiguration), then Succeeded.

GetDeployment/BatchGetDeployments, ListDeploymentTargets, GetDeploymentTarget and
BatchGetDeploymentTargets report it (lifecycle events, task sets with their traffic weights).
StopDeployment (moto lacked it) stops it, and an alarm of the group's alarmConfiguration in
ALARM state stops it (ALARM_ACTIVE) while it is in progress; either rolls back when asked
(autoRollbackEnabled; DEPLOYMENT_STOP_ON_ALARM in the group's autoRollbackConfiguration): all
production and test traffic back to the original target group, the service on its old task
definition. Not modelled: hooks (lifecycle events run none), the Ready wait of
STOP_DEPLOYMENT, custom deployment configs (refused), and the separate rollback deployment AWS
creates (here rollbackInfo on the deployment itself)."""

from __future__ import annotations

import json
from typing import Any

import uuid
from dataclasses import dataclass, field

from ops.emulator.patches import clock, wrap
from ops.emulator.patches.ecs import (TASK_START_SECONDS, health_seconds, service_event,
                                      start_failure, target_group)

# CodeDeploy's predefined ECS deployment configs: the traffic shift as (AWS seconds after it
# starts, percent of production traffic on the replacement task set) steps.
TRAFFIC_STEPS = {
    "CodeDeployDefault.ECSAllAtOnce": ((0, 100),),
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": tuple(
        (step * 60, 10 * (step + 1)) for step in range(10)),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": tuple(
        (step * 180, 10 * (step + 1)) for step in range(10)),
    "CodeDeployDefault.ECSCanary10Percent5Minutes": ((0, 10), (300, 100)),
    "CodeDeployDefault.ECSCanary10Percent15Minutes": ((0, 10), (900, 100)),
}
# An ECS deployment's lifecycle events, in order (CodeDeploy user guide, "AppSpec 'hooks'
# section for an Amazon ECS deployment").
ECS_LIFECYCLE_EVENTS = ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic",
                        "AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic",
                        "AfterAllowTraffic")
RUNNING = ("Created", "Queued", "InProgress", "Ready")


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



@dataclass
class EcsRollout:
    """An ECS blue/green deployment's plan (AWS seconds after its start) and progress."""

    task_definition: str
    cluster: str
    service: str
    steps: tuple[tuple[int, int], ...]
    install_seconds: float
    wait_seconds: float
    original_group: Any = None  # moto target groups (None without loadBalancerInfo)
    replacement_group: Any = None
    production_listeners: list[str] = field(default_factory=list)
    test_listeners: list[str] = field(default_factory=list)
    original_task_definition: str = ""
    task_set_ids: tuple[str, str] = field(default_factory=lambda: tuple(
        f"ecs-svc/{uuid.uuid4().int % 10 ** 19}" for _ in range(2)))
    weight: int = -1  # the production weight last written to the listeners
    testing: bool = False  # the test listener forwards to the replacement
    shifted: bool = False
    ended_at: float | None = None  # AWS seconds when it failed or was stopped
    failed_event: str | None = None  # the lifecycle event it failed or was stopped in
    rolled_back: bool = False

    @property
    def shift_end(self) -> float:
        return self.install_seconds + self.steps[-1][0]

    @property
    def end(self) -> float:
        return self.shift_end + self.wait_seconds

    def weight_at(self, seconds: float) -> int:
        """Percent of production traffic on the replacement task set."""
        if self.rolled_back:
            return 0
        return max((percent for offset, percent in self.steps
                    if seconds >= self.install_seconds + offset), default=0)

    def event_spans(self) -> dict[str, tuple[float, float]]:
        install, shift = self.install_seconds, self.shift_end
        return {"BeforeInstall": (0, 0), "Install": (0, install),
                "AfterInstall": (install, install), "AllowTestTraffic": (install, install),
                "AfterAllowTestTraffic": (install, install),
                "BeforeAllowTraffic": (install, install), "AllowTraffic": (install, shift),
                "AfterAllowTraffic": (shift, shift)}


def forward(weights: dict[str, int], order: int | None) -> dict[str, Any]:
    """An ELB forward action to target groups by ARN -> weight, as AWS describes it."""
    groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
    action: dict[str, Any] = {"Type": "forward", "ForwardConfig": {
        "TargetGroups": groups, "TargetGroupStickinessConfig": {"Enabled": False}}}
    if len(groups) == 1:
        action["TargetGroupArn"] = groups[0]["TargetGroupArn"]
    if order is not None:
        action["Order"] = order
    return action


def forwarded_to(listener) -> str | None:
    """The ARN of the target group a listener's default action sends most traffic to."""
    (action, *_) = listener.default_actions or [None]
    data = getattr(action, "data", None) or {}
    groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
    if groups:
        return max(groups, key=lambda group: int(group.get("Weight", 1)))["TargetGroupArn"]
    return data.get("TargetGroupArn")


def run_ecs_deployments() -> None:
    import yaml
    from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo
    from moto.codedeploy.responses import CodeDeployResponse as Response
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.exceptions import JsonRESTError
    from moto.core.utils import iso_8601_datetime_with_milliseconds, utcnow
    from moto.ecs.models import ecs_backends
    from moto.elbv2.models import elbv2_backends

    def elbv2(backend):
        return elbv2_backends[backend.account_id][backend.region_name]

    def ecs(backend):
        return ecs_backends[backend.account_id][backend.region_name]

    def plan(backend, deployment, group, task_definition: str) -> EcsRollout:
        """The rollout of `task_definition` by `group` (refused as AWS would)."""
        config = str(deployment.deployment_config_name or group.deployment_config_name)
        if config in ("None", "CodeDeployDefault.OneAtATime"):
            # moto's default for a group created without one; AWS's for ECS is this one.
            config = "CodeDeployDefault.ECSAllAtOnce"
        if config not in TRAFFIC_STEPS:
            raise JsonRESTError("DeploymentConfigDoesNotExistException",
                                f"No deployment configuration found for name: {config} (the "
                                f"emulator knows {', '.join(TRAFFIC_STEPS)})")
        (target,) = group.ecs_services
        service = ecs(backend)._get_service(target["clusterName"], target["serviceName"])
        termination = (group.blue_green_deployment_configuration or {}).get(
            "terminateBlueInstancesOnDeploymentSuccess") or {}
        wait = 60.0 * float(termination.get("terminationWaitTimeInMinutes") or 0) \
            if termination.get("action", "TERMINATE") == "TERMINATE" else 0.0
        rollout = EcsRollout(task_definition, target["clusterName"], target["serviceName"],
                             TRAFFIC_STEPS[config], TASK_START_SECONDS, wait,
                             original_task_definition=service.task_definition)
        (pair, *_) = (group.load_balancer_info or {}).get("targetGroupPairInfoList") or [{}]
        groups = [target_group(backend, name=one.get("name"))
                  for one in pair.get("targetGroups") or []]
        production = list((pair.get("prodTrafficRoute") or {}).get("listenerArns") or [])
        if len(groups) == 2 and None not in groups and production:
            rollout.production_listeners = production
            rollout.test_listeners = list(
                (pair.get("testTrafficRoute") or {}).get("listenerArns") or [])
            live = {forwarded_to(listener) for listener in elbv2(backend).describe_listeners(
                None, rollout.production_listeners)}
            original = groups[1] if groups[1].arn in live else groups[0]
            rollout.original_group = original
            rollout.replacement_group = groups[1] if original is groups[0] else groups[0]
            rollout.install_seconds += health_seconds(rollout.replacement_group)
        return rollout

    def create_deployment(create):
        def wrapper(self, application_name: str, deployment_group_name: str, revision,
                    *args, **kwargs) -> str:
            group = self.get_deployment_group(application_name, deployment_group_name)
            if group.ecs_services:
                for other in self.deployments.values():
                    if (other.application_name, other.deployment_group_name) == (
                            application_name, deployment_group_name) and \
                            other.status in RUNNING:
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
                    task_definition = target["Properties"]["TaskDefinition"]
                except Exception as error:
                    del self.deployments[deployment_id]
                    raise JsonRESTError(
                        "InvalidRevisionException", "invalid AppSpec content (want Resources: - "
                        f"TargetService: Properties: TaskDefinition: ...): {error!r}") from None
                try:
                    deployment.ops_rollout = plan(self, deployment, group, task_definition)
                except Exception:
                    del self.deployments[deployment_id]
                    raise
                deployment.status = "InProgress"
                deployment.start_time = iso_8601_datetime_with_milliseconds()
                deployment.deployment_overview.update(InProgress=1)
                _running[deployment_id] = (self, deployment)
            return deployment_id
        return wrapper

    def route(backend, listeners: list[str], weights: dict[str, int]) -> None:
        for listener in elbv2(backend).describe_listeners(None, listeners):
            (action, *_) = listener.default_actions or [None]
            order = (getattr(action, "data", None) or {}).get("Order")
            elbv2(backend).modify_listener(listener.arn, actions=[forward(
                {arn: weight for arn, weight in weights.items() if weight}, order)])

    def shift(backend, rollout: EcsRollout, weight: int) -> None:
        """Production traffic: `weight` percent on the replacement task set."""
        if rollout.replacement_group is None or weight == rollout.weight:
            return
        rollout.weight = weight
        route(backend, rollout.production_listeners, {
            rollout.original_group.arn: 100 - weight, rollout.replacement_group.arn: weight})

    def primary_task_set(ecs_backend, service, task_definition: str, group) -> None:
        """The task set production runs on (DescribeServices' taskSets, as ECS reports a
        CODE_DEPLOY service): `task_definition` behind `group`, the service's container."""
        balancers = [dict(service.load_balancers[0], targetGroupArn=group.arn)] \
            if group is not None and service.load_balancers else []
        created = ecs_backend.create_task_set(
            service.name, service.cluster_name, task_definition, load_balancers=balancers,
            launch_type="FARGATE")
        created.status = "PRIMARY"
        service.task_sets[:] = [created]

    def end(backend, deployment, status: str, code: str, message: str, seconds: float,
            rollback: bool) -> None:
        rollout: EcsRollout = deployment.ops_rollout
        rollout.ended_at = seconds
        rollout.failed_event = "Install" if status == "Failed" or \
            seconds < rollout.install_seconds else \
            "AllowTraffic" if seconds < rollout.shift_end else None
        deployment.status = status
        deployment.ops_error = {"code": code, "message": message}
        deployment.deployment_overview.update(InProgress=0, Failed=1, Succeeded=0)
        deployment.complete_time = iso_8601_datetime_with_milliseconds()
        if rollback:
            rollout.rolled_back = True
            deployment.ops_rollback = {"rollbackMessage": "Automatic rollback: the original "
                                       "task set keeps the production traffic"}
            shift(backend, rollout, 0)
            if rollout.original_group is not None:
                route(backend, rollout.test_listeners, {rollout.original_group.arn: 100})
            if rollout.shifted:
                service = ecs(backend)._get_service(rollout.cluster, rollout.service)
                service.task_definition = rollout.original_task_definition
                primary_task_set(ecs(backend), service, rollout.original_task_definition,
                                 rollout.original_group)
                service_event(service, f"(CodeDeploy deployment {deployment.deployment_id}) "
                                       "rolled production traffic back to the original task "
                                       "set.")
        _running.pop(deployment.deployment_id, None)

    def alarm_in_alarm(backend, deployment) -> str | None:
        configuration = deployment.deployment_group.alarm_configuration or {}
        if not configuration.get("enabled"):
            return None
        alarms = cloudwatch_backends[backend.account_id][backend.region_name].alarms
        names = [alarm.get("name") for alarm in configuration.get("alarms") or []]
        return next((name for name in names
                     if name in alarms and alarms[name].state_value == "ALARM"), None)

    def rolls_back_on(deployment, event: str) -> bool:
        configuration = deployment.auto_rollback_configuration or \
            deployment.deployment_group.auto_rollback_configuration or {}
        return bool(configuration.get("enabled")) and event in (configuration.get("events")
                                                                 or [])

    def advance(backend, deployment) -> bool:
        """Move an ECS deployment to now (module docstring); True while it runs."""
        rollout: EcsRollout | None = getattr(deployment, "ops_rollout", None)
        if rollout is None or deployment.status not in RUNNING:
            return False
        seconds = clock.aws_seconds_since(deployment.ops_started)
        ecs_backend = ecs(backend)
        if seconds >= rollout.install_seconds and start_failure(
                ecs_backend, rollout.task_definition, deployment.deployment_id):
            end(backend, deployment, "Failed", "ECS_UPDATE_ERROR", "The ECS replacement task "
                "set failed its health checks: tasks failed to start",
                rollout.install_seconds, rolls_back_on(deployment, "DEPLOYMENT_FAILURE"))
            return False
        alarm = alarm_in_alarm(backend, deployment)
        if alarm is not None:
            end(backend, deployment, "Stopped", "ALARM_ACTIVE", "One or more alarms have been "
                "activated according to the Amazon CloudWatch metrics you selected, and the "
                f"affected deployments have been stopped. Activated alarms: <{alarm}>", seconds,
                rolls_back_on(deployment, "DEPLOYMENT_STOP_ON_ALARM"))
            return False
        if seconds >= rollout.install_seconds and rollout.replacement_group is not None and \
                not rollout.testing:
            rollout.testing = True  # AllowTestTraffic
            route(backend, rollout.test_listeners, {rollout.replacement_group.arn: 100})
        shift(backend, rollout, rollout.weight_at(seconds))
        if seconds >= rollout.shift_end and not rollout.shifted:
            rollout.shifted = True
            service = ecs_backend._get_service(rollout.cluster, rollout.service)
            service.task_definition = ecs_backend.describe_task_definition(
                rollout.task_definition).arn
            service.running_count, service.pending_count = service.desired_count, 0
            primary_task_set(ecs_backend, service, service.task_definition,
                             rollout.replacement_group)
            deployment.instance_termination_wait_time_started = True
            deployment.deployment_overview.update(InProgress=0, Succeeded=1)
            service_event(service, f"(CodeDeploy deployment {deployment.deployment_id}) "
                                   "shifted production traffic to the replacement task set.")
        if seconds < rollout.end:
            return True
        deployment.status = "Succeeded"
        deployment.complete_time = iso_8601_datetime_with_milliseconds()
        return False

    def tick() -> None:
        for deployment_id, (backend, deployment) in list(_running.items()):
            if not advance(backend, deployment):
                _running.pop(deployment_id, None)

    def to_dict(original):
        def wrapper(self) -> dict[str, Any]:
            info = original(self)
            info["errorInformation"] = getattr(self, "ops_error", {})
            info["rollbackInfo"] = getattr(self, "ops_rollback", {})
            return info
        return wrapper

    # --- Deployment targets (what CodeDeploy reports per ECS service) -------------------------

    def target_id(rollout: EcsRollout) -> str:
        return f"{rollout.cluster}:{rollout.service}"

    def epoch_at(deployment, seconds: float) -> float:
        from datetime import timezone

        return deployment.ops_started.replace(tzinfo=timezone.utc).timestamp() + \
            seconds * clock.time_scale()

    def ecs_target(backend, deployment) -> dict[str, Any]:
        rollout: EcsRollout = deployment.ops_rollout
        ended = rollout.ended_at is not None
        now = rollout.ended_at if ended else min(clock.aws_seconds_since(
            deployment.ops_started), rollout.end)
        events, reached = [], True
        for name, (start, stop) in rollout.event_spans().items():
            if ended and rollout.failed_event is not None:
                status = "Failed" if name == rollout.failed_event else \
                    "Succeeded" if reached else "Skipped"
                reached = reached and name != rollout.failed_event
            else:
                status = "Pending" if now < start else "InProgress" if now < stop else \
                    "Succeeded"
            event = {"lifecycleEventName": name, "status": status}
            if status not in ("Pending", "Skipped"):
                event["startTime"] = epoch_at(deployment, start)
            if status in ("Succeeded", "Failed"):
                event["endTime"] = epoch_at(deployment, min(stop, now))
            events.append(event)
        status = "Failed" if ended else "Succeeded" if rollout.shifted else "InProgress"
        weight = rollout.weight_at(now)
        service = ecs(backend)._get_service(rollout.cluster, rollout.service)
        desired = service.desired_count
        replacing = not rollout.rolled_back and deployment.status != "Failed"
        started = 0 if not replacing else desired if now >= TASK_START_SECONDS else \
            int(desired * now / TASK_START_SECONDS)
        primary = rollout.shifted and replacing
        task_sets = [
            {"identifer": rollout.task_set_ids[0], "desiredCount": desired, "pendingCount": 0,
             "runningCount": 0 if deployment.status == "Succeeded" else desired,
             "status": "ACTIVE" if primary else "PRIMARY",
             "trafficWeight": float(100 - weight), "taskSetLabel": "Blue"},
            {"identifer": rollout.task_set_ids[1], "desiredCount": desired,
             "pendingCount": desired - started if replacing else 0, "runningCount": started,
             "status": "PRIMARY" if primary else "ACTIVE",
             "trafficWeight": float(weight), "taskSetLabel": "Green"}]
        for task_set, group in zip(task_sets, (rollout.original_group,
                                               rollout.replacement_group)):
            if group is not None:
                task_set["targetGroup"] = {"name": group.name}
        return {"deploymentId": deployment.deployment_id, "targetId": target_id(rollout),
                "targetArn": service.arn, "lastUpdatedAt": epoch_at(deployment, now),
                "lifecycleEvents": events, "status": status, "taskSetsInfo": task_sets}

    def rollout_of(backend, deployment_id: str):
        deployment = backend.get_deployment(deployment_id)  # DeploymentDoesNotExistException
        rollout = getattr(deployment, "ops_rollout", None)
        if rollout is None:
            raise JsonRESTError("InvalidDeploymentIdException", f"the emulator reports "
                                f"targets of ECS deployments only, not {deployment_id}")
        return deployment, rollout

    def list_deployment_targets(self):
        _, rollout = rollout_of(self.codedeploy_backend, self._get_param("deploymentId"))
        return json.dumps({"targetIds": [target_id(rollout)]})

    def deployment_target(backend, deployment_id: str, wanted: str) -> dict[str, Any]:
        deployment, rollout = rollout_of(backend, deployment_id)
        if wanted != target_id(rollout):
            raise JsonRESTError("DeploymentTargetDoesNotExistException",
                                f"The target {wanted} does not exist in deployment "
                                f"{deployment_id}")
        return {"deploymentTargetType": "ECSTarget",
                "ecsTarget": ecs_target(backend, deployment)}

    def get_deployment_target(self):
        return json.dumps({"deploymentTarget": deployment_target(
            self.codedeploy_backend, self._get_param("deploymentId"),
            self._get_param("targetId"))})

    def batch_get_deployment_targets(self):
        deployment_id = self._get_param("deploymentId")
        return json.dumps({"deploymentTargets": [
            deployment_target(self.codedeploy_backend, deployment_id, wanted)
            for wanted in self._get_param("targetIds") or []]})

    def stop_deployment(self):
        backend = self.codedeploy_backend
        deployment_id = self._get_param("deploymentId")
        deployment = backend.get_deployment(deployment_id)
        if deployment.status not in RUNNING:
            raise JsonRESTError("DeploymentAlreadyCompletedException",
                                f"The deployment {deployment_id} has already completed.")
        if getattr(deployment, "ops_rollout", None) is None:
            raise JsonRESTError("InvalidDeploymentIdException",
                                f"the emulator stops ECS deployments only, not {deployment_id}")
        end(backend, deployment, "Stopped", "MANUAL_STOP",
            "The deployment was stopped by a user", clock.aws_seconds_since(
                deployment.ops_started), bool(self._get_param("autoRollbackEnabled")))
        return json.dumps({"status": "Succeeded",
                           "statusMessage": "The deployment was stopped."})

    # CreateDeployment for an ECS deployment group (`python -m ops release`, blue/green): moto
    # stored it as "Created" for ever and never touched the service. Now it reads the AppSpec's
    # TaskDefinition, refuses a second active deployment in the group as AWS does, and runs it
    # in (scaled) time as the module docstring says, from before each request (clock.py).
    wrap(CodeDeployBackend, "create_deployment", create_deployment)
    wrap(DeploymentInfo, "to_dict", to_dict)
    clock.on_every_request(tick)
    # ListDeploymentTargets, GetDeploymentTarget, BatchGetDeploymentTargets and StopDeployment:
    # moto lacked them (what a release reads to follow the shift, and how it is stopped).
    Response.list_deployment_targets = list_deployment_targets
    Response.get_deployment_target = get_deployment_target
    Response.batch_get_deployment_targets = batch_get_deployment_targets
    Response.stop_deployment = stop_deployment


# ID -> (CodeDeploy backend, deployment) of the ECS deployments in progress.
_running: dict[str, tuple[Any, Any]] = {}
