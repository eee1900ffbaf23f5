"""A local AWS emulator to deploy the stacks to: moto's in-process server plus the few fixes the
stacks need.

It runs moto's ``ThreadedMotoServer`` on 127.0.0.1 only (never on other interfaces), with the
AWS managed IAM policies loaded (``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, so attachments such as
arn:aws:iam::aws:policy/AmazonS3FullAccess work). moto keeps everything in memory: stopping the
emulator discards every resource.

From Python (``port=0`` picks a free port)::

    with Emulator(port=0) as emulator:
        env = {**os.environ, **emulator.environment()}   # for terraform, boto3, ...

From a shell or a Makefile (``--port`` defaults to $EMULATOR_PORT, else 4566)::

    python -m ops.emulator serve [--port N] [--pidfile F] [--quiet]
        Foreground until SIGTERM/SIGINT. Prints one line on stdout when ready, then one log line
        per AWS call on stderr (unless --quiet).
    python -m ops.emulator start [--port N] [--pidfile F] [--logfile F] [--timeout S]
        Runs `serve` in the background and returns once it answers (pidfile and logfile default
        to <tmp>/ops-emulator-<port>.pid/.log). Does nothing if that pidfile's emulator still runs.
    python -m ops.emulator stop [--port N] [--pidfile F] [--timeout S]
        Stops the emulator `start` left running (SIGTERM, then SIGKILL after --timeout).
    python -m ops.emulator env [--port N] [--region R]
        Prints the KEY=VALUE lines of aws_environment(), e.g. for `export $(... env)`.
    python -m ops.emulator put-image --repository R --tag T [--port N] [--region R]
        Pushes a stand-in image (no Docker needed) to ECR repository R and prints its digest.

On a taken port, `serve` and `start` exit with status 1 and one line on stderr saying so.

The environment for clients is aws_environment(): AWS_ENDPOINT_URL=http://127.0.0.1:<port>, fake
credentials, the region (ap-south-1 unless told), and AWS_EC2_METADATA_DISABLED so that nothing
probes the EC2 metadata service. The hashicorp/aws provider and Terraform's S3 backend both honour
AWS_ENDPOINT_URL. S3 path-style addressing: with an IP address endpoint like this one the AWS SDK
already uses path-style URLs, so the S3 backend works with no extra setting (checked with
Terraform 1.11.4, use_lockfile included). With a host name endpoint (http://localhost:...) it
would use <bucket>.localhost, which does not resolve: then pass
``terraform init -backend-config=use_path_style=true``; Terraform's S3
backend ignores the AWS_S3_USE_PATH_STYLE environment variable.

Gaps filled for moto 5.2.1 + hashicorp/aws 5.100.0, found by applying, re-planning (no changes)
and destroying the state, network and app stacks of uat and prod, and of the blue/green and
hardened variants (tests/test_variants_e2e.py); each is a small patch in
apply_patches() with a comment naming the provider call that needed it:

* Application Auto Scaling TagResource/UntagResource/ListTagsForResource do not exist in moto
  (the provider retried them for many minutes); tags given to RegisterScalableTarget were lost.
  Tags are kept in memory by scalable target ARN.
* ECS CreateService dropped healthCheckGracePeriodSeconds and availabilityZoneRebalancing (and
  deploymentConfiguration, placement, exec and managed-tags settings): every plan after apply
  wanted to change the service. UpdateService replaced the whole deploymentConfiguration with
  the one member the provider sends, where AWS merges it.
* DescribeSecurityGroupRules lost the description of rules that reference a security group
  (aws_vpc_security_group_ingress/egress_rule with referenced_security_group_id: a plan diff).
* S3 bucket policies: moto takes conditions it cannot evaluate (Bool) as met, so the state
  bucket's "deny if aws:SecureTransport is false" denied every object request, the S3 backend's
  included (403).
  The emulator answers as AWS's HTTPS endpoints would: such statements do not apply.
* DeleteLoadBalancer ignored deletion protection; AWS refuses with OperationNotPermitted (so, as
  in AWS, destroying app-prod stops at its protected ALB).
* CodeDeploy (the blue/green variant): GetApplication sent createTime as ISO text where AWS
  sends a number (the provider could not read the application); GetDeploymentGroup answered an
  empty alarmConfiguration (a plan diff); DeleteApplication, DeleteDeploymentGroup,
  UpdateApplication and UpdateDeploymentGroup did not exist (destroy and updates failed).
* Rollouts (the release tool, ops/release.py): an ECS UpdateService with a new task definition
  started no deployment and no deployment ever completed; a CodeDeploy ECS deployment stayed
  "Created" and never changed the service. Both now finish $EMULATOR_ROLLOUT_SECONDS (default 2)
  after they start. Images matching a pattern in $EMULATOR_FAILING_IMAGES (comma-separated,
  fnmatch, e.g. `*:broken`) "fail to start": the ECS circuit breaker marks the deployment FAILED
  and rolls back to the last completed task definition, the CodeDeploy deployment ends Failed
  and the service keeps its task definition.
* Any call moto does not implement (or fails on) answered HTTP 500, which the AWS SDKs retry for
  minutes; it now fails at once with a 400 naming the call, and is logged.

Not fixable here: the provider itself waits before and between status checks (about 30 s twice
for an ALB, 50 s for an S3 lifecycle configuration, 10 s for a VPC attribute, an ECS cluster or a
NAT gateway deletion), so applies take about 15 s (network), 65 s (app) and 60 s (state) even
though every call answers in milliseconds. moto does not check dependencies when deleting subnets
or VPCs (AWS answers DependencyViolation while a load balancer or security group remains).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

# Read when moto creates its IAM backend, so it must be set before any request reaches moto.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"

from moto.core.exceptions import ServiceException  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication, create_backend_app)
from moto.server import ThreadedMotoServer  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_REGION = "ap-south-1"
ROOT = Path(__file__).resolve().parent.parent
# Variables that would make AWS clients use other credentials than the fake ones.
_CONFLICTING_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                          "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")

log = logging.getLogger("ops.emulator")


class EmulatorError(RuntimeError):
    """The emulator could not start or stop."""


class PortInUseError(EmulatorError):
    def __init__(self, port: int):
        super().__init__(f"port {port} on {HOST} is already in use (an emulator left running?): "
                         f"run `make down`, or set EMULATOR_PORT to a free port")
        self.port = port


def default_port() -> int:
    return int(os.environ.get("EMULATOR_PORT") or DEFAULT_PORT)


def aws_environment(port: int, region: str = DEFAULT_REGION,
                    base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables the AWS provider, Terraform's S3 backend and boto3 need to use the emulator
    on `port`. With `base` (e.g. os.environ), a copy of it with them added and with the
    variables that select other credentials (AWS_PROFILE, AWS_SESSION_TOKEN, ...) removed."""
    env = {key: value for key, value in (base or {}).items() if key not in _CONFLICTING_VARIABLES}
    env.update({
        "AWS_ENDPOINT_URL": f"http://{HOST}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


# --- Patches: what moto 5.2.1 lacks for these stacks ----------------------------------------

_patch_lock = threading.Lock()


def apply_patches() -> None:
    """Patch moto's classes (process-wide) once; later calls do nothing."""
    from moto.core.responses import BaseResponse

    with _patch_lock:
        # A marker on moto itself, so that even a reloaded copy of this module patches only once.
        if getattr(BaseResponse, "_ops_emulator_patched", False):
            return
        _fail_fast_on_unsupported_calls()
        _add_autoscaling_tagging()
        _keep_ecs_service_settings()
        _describe_referenced_group_rule_descriptions()
        _enforce_load_balancer_deletion_protection()
        _treat_requests_as_tls_in_bucket_policies()
        _complete_codedeploy()
        _roll_out_ecs_deployments()
        _run_codedeploy_ecs_deployments()
        BaseResponse._ops_emulator_patched = True


def _wrap(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace cls.name by make(original)."""
    setattr(cls, name, make(getattr(cls, name)))


class UnsupportedCall(ServiceException):
    """The answer to a call moto does not implement or fails on: a 400, which no SDK retries."""


# moto warns that UnsupportedCall's codes are not in the service's model: they need not be.
warnings.filterwarnings("ignore", message=r"Exception\(UnsupportedCall\)", category=UserWarning)


def _fail_fast_on_unsupported_calls() -> None:
    from moto.core.responses import ActionResult, BaseResponse
    from werkzeug.exceptions import HTTPException

    def make(call_action):
        def wrapper(self):
            try:
                action = f"{self.service_name} {self._get_action()}"
            except Exception:
                action = self.service_name
            try:
                status, headers, body = call_action(self)
                log.info("%s -> %s", action, status)
                return status, headers, body
            except HTTPException:
                raise  # moto's own error responses
            except NotImplementedError:
                log.warning("%s -> not implemented by moto", action)
                error = UnsupportedCall("InvalidAction",
                                        f"the local AWS emulator does not implement {action}")
            except ServiceException as exc:
                error = exc
            except Exception as exc:  # a moto bug: answer, rather than a 500 the SDKs retry
                log.exception("%s -> moto failed", action)
                error = UnsupportedCall("InternalFailure",
                                        f"the local AWS emulator failed on {action}: {exc!r}")
            return self.serialized(ActionResult(error))

        return wrapper

    # Any call moto lacks answered HTTP 500, which every AWS SDK retries (the provider for
    # minutes, e.g. Application Auto Scaling ListTagsForResource): make it a 400 at once.
    _wrap(BaseResponse, "call_action", make)


def _add_autoscaling_tagging() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as Response
    from moto.core.exceptions import JsonRESTError

    def tags_of(response, arn: str) -> dict[str, str]:
        """The tags of the scalable target `arn`, kept by ARN next to moto's targets."""
        backend = response.applicationautoscaling_backend
        if not any(target.arn == arn
                   for targets in backend.targets.values() for target in targets.values()):
            raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for {arn}")
        if not hasattr(backend, "ops_emulator_tags"):
            backend.ops_emulator_tags = {}
        return backend.ops_emulator_tags.setdefault(arn, {})

    def register_scalable_target(register):
        def wrapper(self):
            body = register(self)
            arn = json.loads(body)["ScalableTargetARN"]
            tags_of(self, arn).update(self._get_param("Tags") or {})
            return body
        return wrapper

    def tag_resource(self):
        tags_of(self, self._get_param("ResourceARN")).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        tags = tags_of(self, self._get_param("ResourceARN"))
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags_of(self, self._get_param("ResourceARN"))})

    # aws_appautoscaling_target creates with Tags (default_tags) then reads them back.
    _wrap(Response, "register_scalable_target", register_scalable_target)
    # aws_appautoscaling_target update: tags_all changes.
    Response.tag_resource = tag_resource
    Response.untag_resource = untag_resource
    # aws_appautoscaling_target read of tags/tags_all (moto lacked it: the provider retried it
    # for many minutes, so apply seemed to hang).
    Response.list_tags_for_resource = list_tags_for_resource


# CreateService parameters that DescribeServices returns but moto's create_service ignores
# (UpdateService already stores every parameter it gets).
ECS_SERVICE_SETTINGS = ("healthCheckGracePeriodSeconds", "availabilityZoneRebalancing",
                        "deploymentConfiguration", "placementConstraints", "placementStrategy",
                        "capacityProviderStrategy", "enableECSManagedTags", "enableExecuteCommand")


def _keep_ecs_service_settings() -> None:
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
    _wrap(EC2ContainerServiceResponse, "create_service", make)

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


def _describe_referenced_group_rule_descriptions() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self) -> str | None:
        return self.ip_range.get("Description") or self.source_group.get("Description")

    # aws_vpc_security_group_ingress/egress_rule read (DescribeSecurityGroupRules): moto looked for
    # the description of a rule with referenced_security_group_id only among CIDR ranges.
    SecurityGroupRule.description = property(description)


def _enforce_load_balancer_deletion_protection() -> None:
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend

    def make(delete_load_balancer):
        def wrapper(self, arn: str) -> None:
            balancer = self.load_balancers.get(arn)
            if balancer is not None and balancer.attrs.get("deletion_protection.enabled") == "true":
                raise ELBClientError("OperationNotPermitted", f"Load balancer '{arn}' cannot be "
                                     "deleted because deletion protection is enabled")
            delete_load_balancer(self, arn)
        return wrapper

    # aws_lb delete with enable_deletion_protection = true: AWS refuses it, moto deleted it.
    _wrap(ELBv2Backend, "delete_load_balancer", make)


def _applies_over_tls(statement: dict[str, Any]) -> bool:
    """False for a policy statement that only applies to plain-HTTP requests (a Bool/BoolIfExists
    condition on aws:SecureTransport that excludes "true")."""
    for operator, values in (statement.get("Condition") or {}).items():
        for key, expected in values.items():
            if operator.lower().startswith("bool") and key.lower() == "aws:securetransport":
                expected = expected if isinstance(expected, list) else [expected]
                if "true" not in [str(value).lower() for value in expected]:
                    return False
    return True


def _treat_requests_as_tls_in_bucket_policies() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action: str, resource: str) -> PermissionResult:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy["Statement"] if isinstance(policy["Statement"], list) \
            else [policy["Statement"]]
        policy["Statement"] = [statement for statement in statements
                               if _applies_over_tls(statement)]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    # S3 backend (HeadObject/GetObject/PutObject of the state and its lock file) on a bucket whose
    # policy denies aws:SecureTransport=false: moto ignores Bool conditions, so the Deny matched
    # every request (403). The emulator stands in for AWS's HTTPS endpoints: those statements
    # never apply.
    FakeBucket.get_permission = get_permission


def _epoch_seconds(value: Any) -> Any:
    """An ISO 8601 time as seconds since the epoch (how AWS's JSON protocols send timestamps)."""
    from datetime import datetime

    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return value


def _complete_codedeploy() -> None:
    from moto.codedeploy.exceptions import DeploymentGroupAlreadyExistsException
    from moto.codedeploy.models import Application, DeploymentGroup, DeploymentInfo
    from moto.codedeploy.responses import CodeDeployResponse as Response

    def with_epoch_times(to_dict):
        def wrapper(self) -> dict[str, Any]:
            info = to_dict(self)
            for key in ("createTime", "startTime", "completeTime"):
                if key in info:
                    info[key] = _epoch_seconds(info[key])
            return info
        return wrapper

    # aws_codedeploy_app read (GetApplication): moto sent createTime as ISO text where AWS sends
    # epoch seconds, the only form the provider's SDK deserializes.
    _wrap(Application, "to_dict", with_epoch_times)
    _wrap(DeploymentInfo, "to_dict", with_epoch_times)

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
    _wrap(DeploymentGroup, "to_dict", group_to_dict)

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


# --- Rollouts: ECS deployments and CodeDeploy blue/green deployments that finish --------------

# Seconds an ECS or CodeDeploy deployment takes in the emulator before it completes (or fails).
ROLLOUT_SECONDS_VARIABLE = "EMULATOR_ROLLOUT_SECONDS"
# Comma-separated fnmatch patterns: a deployment whose task definition runs a matching image
# fails (its tasks "never start"), e.g. EMULATOR_FAILING_IMAGES='*@sha256:0bad*,*:broken'.
FAILING_IMAGES_VARIABLE = "EMULATOR_FAILING_IMAGES"
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def _rollout_seconds() -> float:
    return float(os.environ.get(ROLLOUT_SECONDS_VARIABLE) or 2)


def _failing(images: list[str]) -> bool:
    """Whether any of `images` matches $EMULATOR_FAILING_IMAGES (read at each check, so a test
    can change it while the emulator runs)."""
    from fnmatch import fnmatchcase

    patterns = [pattern.strip() for pattern in
                os.environ.get(FAILING_IMAGES_VARIABLE, "").split(",") if pattern.strip()]
    return any(fnmatchcase(image, pattern) for image in images for pattern in patterns)


def _task_definition_images(ecs_backend, task_definition: str) -> list[str]:
    definition = ecs_backend.describe_task_definition(task_definition)
    return [container.get("image", "") for container in definition.container_definitions]


def _service_event(service, message: str) -> None:
    from moto.core.utils import utcnow

    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": utcnow(),
                              "message": f"(service {service.name}) {message}"})


def _roll_out_ecs_deployments() -> None:
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
        """Finish the PRIMARY deployment once it is _rollout_seconds() old: COMPLETED with every
        task running, or, for a failing image, FAILED and (circuit breaker rollback) replaced
        by a deployment of the last completed task definition, as ECS does."""
        if service.deployment_controller.get("type", "ECS") != "ECS" or not service.deployments:
            return
        primary = service.deployments[0]
        if primary.get("rolloutState") != "IN_PROGRESS" or (
                utcnow() - primary["createdAt"]).total_seconds() < _rollout_seconds():
            return
        if _failing(_task_definition_images(backend, primary["taskDefinition"])):
            breaker = (service.deployment_configuration or {}).get(
                "deploymentCircuitBreaker") or {}
            if not breaker.get("enable"):
                return  # ECS keeps starting tasks that fail, for ever
            primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON,
                           failedTasks=service.desired_count, pendingCount=0, runningCount=0,
                           updatedAt=utcnow())
            _service_event(service, f"(deployment {primary['id']}) deployment failed: tasks "
                                    "failed to start.")
            previous = next((deployment for deployment in service.deployments[1:]
                             if deployment.get("rolloutState") == "COMPLETED"), None)
            if breaker.get("rollback") and previous is not None:
                _service_event(service, f"rolling back to deployment {previous['id']}.")
                service.task_definition = previous["taskDefinition"]
                service.deployments[:] = [primary]  # the rollback takes the old tasks' place
                start_deployment(service, previous["taskDefinition"])
            return
        primary.update(rolloutState="COMPLETED", runningCount=service.desired_count,
                       pendingCount=0, updatedAt=utcnow(),
                       rolloutStateReason=f"ECS deployment {primary['id']} completed.")
        service.deployments[:] = [primary]
        service.running_count, service.pending_count = service.desired_count, 0
        _service_event(service, "has reached a steady state.")

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
    _wrap(EC2ContainerServiceBackend, "update_service", update_service)
    _wrap(EC2ContainerServiceBackend, "describe_services", describe_services)


def _run_codedeploy_ecs_deployments() -> None:
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
                        "InvalidRevisionException", f"invalid AppSpec content (want Resources: - TargetService: Properties:"
                        f" TaskDefinition: ...): {error!r}") from None
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
        if (utcnow() - deployment.ops_started).total_seconds() < _rollout_seconds():
            return
        ecs = ecs_backends[backend.account_id][backend.region_name]
        (target,) = deployment.deployment_group.ecs_services
        service = ecs._get_service(target["clusterName"], target["serviceName"])
        if _failing(_task_definition_images(ecs, task_definition)):
            deployment.status = "Failed"
            deployment.ops_error = {"code": "ECS_UPDATE_ERROR", "message": "The ECS replacement "
                                    "task set failed its health checks: tasks failed to start"}
            deployment.ops_rollback = {"rollbackMessage": "Automatic rollback: the original task"
                                       " set keeps the production traffic"}
        else:
            deployment.status = "Succeeded"
            service.task_definition = ecs.describe_task_definition(task_definition).arn
            service.running_count, service.pending_count = service.desired_count, 0
            _service_event(service, f"(CodeDeploy deployment {deployment.deployment_id}) "
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
    _wrap(CodeDeployBackend, "create_deployment", create_deployment)
    _wrap(CodeDeployBackend, "get_deployment", reading)
    _wrap(CodeDeployBackend, "batch_get_deployments", reading)
    _wrap(DeploymentInfo, "to_dict", to_dict)


def put_test_image(ecr, repository: str, tag: str) -> str:
    """Push a stand-in image (a manifest, no layers' content) tagged `tag` to `repository` with
    the boto3 ECR client `ecr`; returns its digest. The emulator runs no containers, so this is
    all a release needs there."""
    import hashlib

    layer = "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    manifest = {"schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "size": 2, "digest": layer},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "size": 2, "digest": layer}]}
    image = ecr.put_image(repositoryName=repository, imageTag=tag,
                          imageManifest=json.dumps(manifest))["image"]
    return image["imageId"]["imageDigest"]


# --- The server ------------------------------------------------------------------------------


class _MotoServer(ThreadedMotoServer):
    """ThreadedMotoServer on a socket bound beforehand: a taken port is then a PortInUseError in
    the caller, instead of werkzeug's sys.exit(1) in the server thread (which left start()
    waiting forever)."""

    def __init__(self, listening: socket.socket):
        host, port = listening.getsockname()[:2]
        super().__init__(ip_address=host, port=port, verbose=False)
        self._listening = listening

    def _server_entry(self) -> None:
        try:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(self._ip_address, self._port, app, threaded=True,
                                       fd=self._listening.fileno())
        finally:
            self._listening.close()  # the server works on its own duplicate of the socket
            self._server_ready_event.set()
        self._server.serve_forever()

    def start(self) -> None:
        super().start()
        if self._server is None:
            self._thread.join()
            raise EmulatorError("the emulator's HTTP server did not start")


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart right after a stop
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(port) from None
        raise EmulatorError(f"cannot listen on {HOST}:{port}: {error.strerror}") from None
    return sock


class Emulator:
    """moto on http://127.0.0.1:<port> in a thread of this process, with the patches above.

    moto's state is global to the process: emulators started in one process share it."""

    def __init__(self, port: int | None = None, log_requests: bool = False):
        self.port = default_port() if port is None else port  # 0: any free port (set on start)
        self.log_requests = log_requests
        self._server: _MotoServer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def environment(self, region: str = DEFAULT_REGION,
                    base: Mapping[str, str] | None = None) -> dict[str, str]:
        return aws_environment(self.port, region, base)

    def start(self) -> "Emulator":
        """Listen and serve; raises PortInUseError if the port is taken."""
        if self._server is not None:
            return self
        apply_patches()
        log.setLevel(logging.INFO if self.log_requests else logging.WARNING)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # ops.emulator logs the calls
        server = _MotoServer(_listen(self.port))
        server.start()
        self._server = server
        self.port = server.get_host_and_port()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.stop()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- Command line ----------------------------------------------------------------------------


def _default_file(port: int, suffix: str) -> Path:
    return Path(tempfile.gettempdir()) / f"ops-emulator-{port}{suffix}"


def _read_pid(pidfile: Path) -> int | None:
    """The pid in `pidfile` if that process is alive and is an emulator, else None."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"emulator" not in cmdline.read_bytes():
        return None  # the pid was reused by another program
    return pid


def _serve(port: int, pidfile: Path | None, quiet: bool) -> int:
    if not quiet:
        logging.basicConfig(format="%(asctime)s %(message)s", stream=sys.stderr)
    emulator = Emulator(port, log_requests=not quiet)
    try:
        emulator.start()
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    if pidfile:
        pidfile.write_text(f"{os.getpid()}\n")
    print(f"AWS emulator ready on {emulator.endpoint_url} (pid {os.getpid()})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        emulator.stop()
        if pidfile and _read_pid(pidfile) == os.getpid():
            pidfile.unlink()
    return 0


def _start(port: int, pidfile: Path, logfile: Path, timeout: float) -> int:
    pid = _read_pid(pidfile)
    if pid is not None:
        print(f"AWS emulator already running on http://{HOST}:{port} (pid {pid})")
        return 0
    pidfile.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                                    os.environ.get("PYTHONPATH")])))
    with open(logfile, "ab") as log_stream:
        child = subprocess.Popen(
            [sys.executable, "-m", "ops.emulator", "serve", "--port", str(port),
             "--pidfile", str(pidfile)],
            stdin=subprocess.DEVNULL, stdout=log_stream, stderr=log_stream, env=env,
            start_new_session=True)  # not stopped by the Ctrl-C of the shell that started it
    deadline = time.monotonic() + timeout
    while _read_pid(pidfile) != child.pid:  # `serve` writes it once it is listening
        if child.poll() is not None:
            lines = logfile.read_text(errors="replace").strip().splitlines()
            print(lines[-1] if lines else f"error: the emulator exited with status "
                  f"{child.returncode} (see {logfile})", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            child.terminate()
            print(f"error: the emulator did not start within {timeout:.0f} s (see {logfile})",
                  file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(f"AWS emulator ready on http://{HOST}:{port} (pid {child.pid}, log {logfile})")
    return 0


def _stop(pidfile: Path, timeout: float) -> int:
    pid = _read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        print(f"AWS emulator not running (no live pid in {pidfile})")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _read_pid(pidfile) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
    if _read_pid(pidfile) == pid:
        os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)
    print(f"AWS emulator stopped (pid {pid})")
    return 0


def _put_image(port: int, region: str, repository: str, tag: str) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    env = aws_environment(port, region)
    ecr = boto3.client("ecr", region_name=region, endpoint_url=env["AWS_ENDPOINT_URL"],
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    try:
        print(put_test_image(ecr, repository, tag))
    except ClientError as error:
        print(f"error: {repository}:{tag}: {error.response['Error'].get('Message')}",
              file=sys.stderr)
        return 2
    except BotoCoreError as error:
        print(f"error: no emulator on {env['AWS_ENDPOINT_URL']} ({error}); start it with "
              "`make up`", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.emulator",
                                     description="Local AWS emulator (moto) on 127.0.0.1.")
    commands = parser.add_subparsers(dest="command", required=True)
    port_help = "default: $EMULATOR_PORT, else 4566"
    serve = commands.add_parser("serve", help="run in the foreground until SIGTERM/SIGINT")
    start = commands.add_parser("start", help="run in the background, return once it answers")
    stop = commands.add_parser("stop", help="stop what `start` started")
    env = commands.add_parser("env", help="print the AWS_* variables for clients")
    put_image = commands.add_parser(
        "put-image", help="push a stand-in image to an ECR repository in the running emulator "
                          "and print its digest (for releases: python -m ops.release)")
    put_image.add_argument("--repository", required=True, help="e.g. hello-world/hello-world")
    put_image.add_argument("--tag", required=True, help="e.g. a git commit")
    for command in (serve, start, stop, env, put_image):
        command.add_argument("--port", type=int, default=default_port(), help=port_help)
    for command in (serve, start, stop):
        command.add_argument("--pidfile", type=Path,
                             help="default for start/stop: <tmp>/ops-emulator-<port>.pid")
    serve.add_argument("--quiet", action="store_true", help="do not log each AWS call")
    start.add_argument("--logfile", type=Path, help="default: <tmp>/ops-emulator-<port>.log")
    for command in (start, stop):
        command.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    for command in (env, put_image):
        command.add_argument("--region", default=DEFAULT_REGION)
    args = parser.parse_args(argv)

    if args.command == "serve":
        return _serve(args.port, args.pidfile, args.quiet)
    if args.command == "env":
        for key, value in aws_environment(args.port, args.region).items():
            print(f"{key}={value}")
        return 0
    if args.command == "put-image":
        return _put_image(args.port, args.region, args.repository, args.tag)
    pidfile = args.pidfile or _default_file(args.port, ".pid")
    if args.command == "start":
        return _start(args.port, pidfile, args.logfile or _default_file(args.port, ".log"),
                      args.timeout)
    return _stop(pidfile, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
