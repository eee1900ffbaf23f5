"""The enforcement itself (see ops/emulator/iam/__init__.py): moto hooks, the request's checks, the
verdicts and the denials. Imported only by the server (it loads moto)."""

from __future__ import annotations

import base64
import datetime
import fnmatch
import functools
import json
import re
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Iterator

from moto.core.exceptions import ServiceException

from ops.emulator import EmulatorError, aws_environment, log
from ops.emulator.iam import arns
from ops.emulator.iam.evaluator import (Evaluator, denial_reason, web_identity_context,
                                        with_standin_keys)
from ops.emulator.patches import wrap

ADMIN_KEY = aws_environment(0)["AWS_ACCESS_KEY_ID"]  # the administrator: never evaluated
# moto's service names that differ from the IAM prefix of their actions.
IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing",
              "applicationautoscaling": "application-autoscaling", "monitoring": "cloudwatch"}
# S3 actions as moto names them (moto.s3.responses.ACTION_MAP) that IAM spells otherwise.
S3_ACTIONS = {"HeadBucket": "ListBucket", "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
              "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
              "DeletePublicAccessBlock": "PutBucketPublicAccessBlock", "HeadObject": "GetObject"}
# Calls that pass a role to a service: (IAM prefix, action) -> (parameters, iam:PassedToService).
PASSES_ROLE = {
    ("ecs", "RegisterTaskDefinition"): (("taskRoleArn", "executionRoleArn"),
                                        "ecs-tasks.amazonaws.com"),
    ("codedeploy", "CreateDeploymentGroup"): (("serviceRoleArn",), "codedeploy.amazonaws.com"),
    ("codedeploy", "UpdateDeploymentGroup"): (("serviceRoleArn",), "codedeploy.amazonaws.com"),
    ("ec2", "CreateFlowLogs"): (("DeliverLogsPermissionArn",), "vpc-flow-logs.amazonaws.com"),
}
# First use creates a service-linked role as the caller, who needs iam:CreateServiceLinkedRole
# (AWS: "Using service-linked roles for Amazon ECS", "... for Elastic Load Balancing",
# "Service-linked roles for Application Auto Scaling": "If you delete this service-linked role,
# and then need to create it again ... when you create a cluster / load balancer / register a
# scalable target"). (prefix, action) -> (service name, role name)
SERVICE_LINKED = {
    ("ecs", "CreateCluster"): ("ecs.amazonaws.com", "AWSServiceRoleForECS"),
    ("ecs", "CreateService"): ("ecs.amazonaws.com", "AWSServiceRoleForECS"),
    ("elasticloadbalancing", "CreateLoadBalancer"): ("elasticloadbalancing.amazonaws.com",
                                                     "AWSServiceRoleForElasticLoadBalancing"),
    ("application-autoscaling", "RegisterScalableTarget"): (
        "ecs.application-autoscaling.amazonaws.com",
        "AWSServiceRoleForApplicationAutoScaling_ECSService"),
}
# What AWS authorizes as the caller when Application Auto Scaling creates a target-tracking
# policy's alarms ("Permissions required for Application Auto Scaling", additional permissions).
TARGET_TRACKING_ALARM_ACTIONS = ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms",
                                 "cloudwatch:DeleteAlarms")
GITHUB_ISSUER = "token.actions.githubusercontent.com"
# ECS actions whose request context has ecs:cluster (the cluster the call names).
ECS_CLUSTER_KEY = ("RunTask", "StartTask", "StopTask", "DescribeTasks", "ListTasks",
                   "ExecuteCommand", "CreateService", "UpdateService", "DeleteService")


class AccessDeniedError(ServiceException):
    """A refusal, serialized in the service's protocol (the code is set per request)."""


# moto warns that the codes are not in every service's model: they need not be.
warnings.filterwarnings("ignore", message=r"Exception\(AccessDeniedError\)", category=UserWarning)


class Denied(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@functools.lru_cache(maxsize=512)
def _document(text: str) -> Any:
    from urllib.parse import unquote

    text = text if text.lstrip().startswith("{") else unquote(text)
    return json.loads(text)


def _doc(value: Any) -> Any:
    return _document(value) if isinstance(value, str) else value


def _action_matches(patterns: Any, action: str) -> bool:
    patterns = patterns if isinstance(patterns, list) else [patterns]
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in patterns)


@functools.lru_cache(maxsize=4096)
def _for_action(text: str, action: str) -> Any:
    """An identity policy's statements that can apply to `action` (an Action pattern matching
    it, or NotAction), None if none can: what iam-simulate gets instead of the whole policy
    (ReadOnlyAccess, thousands of actions, took ~15 ms per evaluation). Dropping a statement
    whose Action does not match the request changes no verdict."""
    document = _document(text)
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept = [statement for statement in statements
            if "NotAction" in statement or _action_matches(statement.get("Action"), action)]
    return {**document, "Statement": kept} if kept else None


class Enforcer:
    def __init__(self, denials_file: Path | None = None):
        self.evaluator = Evaluator()
        self.denials: list[dict[str, Any]] = []
        self.gaps: set[str] = set()
        self.denials_file = denials_file
        self.evaluations = 0
        self.seconds = 0.0
        self._verdicts: dict[tuple, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.evaluator.close()

    # -- principals -----------------------------------------------------------------------
    def principal(self, response: Any) -> dict[str, Any] | None:
        """The caller to evaluate, or None (the administrator, or an unsigned request)."""
        headers = response.headers
        match = re.search(r"Credential=([^/,\s]+)/", headers.get("Authorization", "")) \
            or re.search(r"X-Amz-Credential=([^/&%]+)(%2F|/)", response.uri or "")
        if not match or match.group(1) == ADMIN_KEY:
            return None
        key = match.group(1)
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        account = response.current_account
        iam = iam_backends[account]["aws"]
        assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(key)
        if assumed is not None:
            role_name = assumed.role_arn.split("/")[-1]
            role = iam.roles.get(_role_id(iam, role_name)) if _role_id(iam, role_name) else None
            return {"arn": assumed.arn, "role_arn": assumed.role_arn, "account": account,
                    "type": "AssumedRole", "entity": role, "session": assumed.policy,
                    "name": role_name}
        for user in list(iam.users.values()):
            if any(k.access_key_id == key for k in user.access_keys):
                return {"arn": user.arn, "role_arn": user.arn, "account": account,
                        "type": "User", "entity": user, "session": None, "name": user.name}
        return None  # a key moto does not know: moto's own handling applies

    def policies(self, principal: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], tuple]:
        """The principal's identity policies (name -> text), permissions boundary (name ->
        document), and a key that changes whenever any of them does (moto's stored texts)."""
        from moto.iam.models import iam_backends

        entity = principal["entity"]
        if entity is None:  # the role was deleted: nothing allows
            return {}, {}, ()
        iam = iam_backends[principal["account"]]["aws"]
        identity = {f"inline/{name}": doc for name, doc in list(entity.policies.items())}
        for arn, policy in list(entity.managed_policies.items()):
            identity[arn] = _default_version(policy)
        if principal["type"] == "User":
            for group in iam.get_groups_for_user(entity.name):
                identity.update({f"group/{group.name}/{n}": d
                                 for n, d in list(group.policies.items())})
                for arn, policy in list(group.managed_policies.items()):
                    identity[arn] = _default_version(policy)
        boundary = {}
        boundary_arn = getattr(entity, "permissions_boundary_arn", None)
        if boundary_arn:
            boundary[boundary_arn] = _default_version(iam.get_policy(boundary_arn))
        key = tuple((kind, name, text if isinstance(text, str) else json.dumps(text))
                    for kind, policies in (("identity", identity), ("boundary", boundary))
                    for name, text in sorted(policies.items()))
        return ({name: text if isinstance(text, str) else json.dumps(text)
                 for name, text in identity.items()},
                {name: _doc(text) for name, text in boundary.items()}, key)

    # -- checks ---------------------------------------------------------------------------
    def checks(self, response: Any, prefix: str, action: str, params: dict[str, Any],
               principal: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(action, resource, context) for the request and what AWS checks on its behalf."""
        region, account = response.region, principal["account"]
        partition = "aws"
        params = _known_by_id(prefix, params, account, region)
        resolve = self._resolve(prefix, action, params, account, region)
        resources, missing = arns.build(prefix, action, params, partition, region, account,
                                        resolve, variant=response.service_name)
        self.gaps.update(missing)
        context = _request_context(prefix, action, params)
        if prefix == "iam" and "iam:PermissionsBoundary" not in context and params.get("RoleName"):
            # On an existing role (PutRolePolicy, AttachRolePolicy, ...) the key is the boundary
            # the role has (IAM User Guide, "IAM and AWS STS condition context keys").
            boundary = _role_boundary(account, str(params["RoleName"]))
            if boundary:
                context = {**context, "iam:PermissionsBoundary": boundary}
        if prefix == "ecs" and action in ECS_CLUSTER_KEY and params.get("cluster"):
            # ecs:cluster: the cluster's ARN, which AWS sets for these actions (Service
            # Authorization Reference, Amazon ECS condition keys); a name given is made one.
            cluster = str(params["cluster"])
            context = {**context, "ecs:cluster": cluster if cluster.startswith("arn:") else
                       f"arn:{partition}:ecs:{region}:{account}:cluster/{cluster}"}
        for resource in resources:
            yield f"{prefix}:{action}", resource, {**context,
                                                   **_resource_tags(resource, account, region)}
        passed = PASSES_ROLE.get((prefix, action))
        if passed:
            for name in passed[0]:
                role_arn = arns._lookup(params, name)
                if role_arn:
                    yield "iam:PassRole", role_arn, {"iam:PassedToService": passed[1]}
        linked = SERVICE_LINKED.get((prefix, action))
        if linked and not _linked_role_exists(account, linked[0]):
            yield ("iam:CreateServiceLinkedRole",
                   f"arn:{partition}:iam::{account}:role/aws-service-role/{linked[0]}/{linked[1]}",
                   {"iam:AWSServiceName": linked[0]})
        if (prefix, action) == ("application-autoscaling", "PutScalingPolicy") \
                and params.get("TargetTrackingScalingPolicyConfiguration"):
            for suffix in ("AlarmHigh", "AlarmLow"):
                name = f"TargetTracking-{params.get('ResourceId')}-{suffix}-{uuid.uuid4()}"
                alarm = f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}"
                for alarm_action in TARGET_TRACKING_ALARM_ACTIONS:
                    yield alarm_action, alarm, {}

    @staticmethod
    def _resolve(prefix: str, action: str, params: dict[str, Any], account: str,
                 region: str = "") -> dict:
        resolve: dict[str, str] = {}
        if prefix == "ecs":
            if arns._values("ClusterName", params) is None:
                resolve["ClusterName"] = "default"
            task_definition = str(params.get("taskDefinition") or "")
            if ":" in task_definition.rsplit("/", 1)[-1]:
                resolve["TaskDefinitionRevisionNumber"] = task_definition.rsplit(":", 1)[-1]
        if prefix == "iam" and params.get("RoleName"):
            from moto.iam.models import iam_backends

            iam = iam_backends[account]["aws"]
            role_id = _role_id(iam, params["RoleName"])
            path = iam.roles[role_id].path if role_id else params.get("Path") or "/"
            resolve["RoleNameWithPath"] = path.lstrip("/") + params["RoleName"]
        if prefix == "ssm" and params.get("ResourceType") == "Parameter":
            resolve["ParameterNameWithoutLeadingSlash"] = str(params.get("ResourceId")).lstrip("/")
        if prefix == "iam" and params.get("PolicyArn"):
            resolve["PolicyNameWithPath"] = params["PolicyArn"].split(":policy/", 1)[-1]
        if prefix == "kms" and params.get("AliasName") and not params.get("TargetKeyId"):
            key_id = _alias_target(account, region, str(params["AliasName"]))
            if key_id:  # DeleteAlias is authorized on the alias and on the key it names
                resolve["KeyId"] = key_id
        return resolve

    # -- verdicts -------------------------------------------------------------------------
    def authorize(self, principal: dict[str, Any],
                  checks: list[tuple[str, str, dict[str, Any]]], region: str) -> None:
        """Raise Denied (and record it) for the first check AWS would refuse."""
        identity, boundary, policies_key = self.policies(principal)
        session = _doc(principal["session"]) if principal["session"] else None
        now = datetime.datetime.now(datetime.timezone.utc)
        # No aws:CurrentTime/EpochTime: verdicts are cached by policies, request and context.
        base = {"aws:PrincipalArn": principal["role_arn"],
                "aws:PrincipalAccount": principal["account"],
                "aws:PrincipalType": principal["type"], "aws:RequestedRegion": region,
                "aws:SecureTransport": "true"}
        for action, resource, context in checks:
            started = time.perf_counter()
            full = {**base, **context}
            key_policy = _key_policy(resource, principal["account"], region)
            key = (principal["arn"], policies_key, str(principal["session"]), action, resource,
                   json.dumps(full, sort_keys=True), key_policy)
            verdict = self._verdicts.get(key)
            if verdict is None:
                relevant = {name: policy for name, text in identity.items()
                            if (policy := _for_action(text, action)) is not None}
                verdict = self.evaluator.evaluate(principal["arn"], action, resource,
                                                  principal["account"], full, relevant,
                                                  boundary, session,
                                                  _document(key_policy) if key_policy else None)
                if len(self._verdicts) > 20000:
                    self._verdicts.clear()
                self._verdicts[key] = verdict
            self.evaluations += 1
            self.seconds += time.perf_counter() - started
            if verdict.get("result") == "Allowed":
                continue
            reason = denial_reason(verdict, action)
            message = (f"User: {principal['arn']} is not authorized to perform: {action} on "
                       f"resource: {resource} {reason}")
            self.record({"action": action, "resource": resource, "principal": principal["arn"],
                         "role": principal["role_arn"], "reason": reason, "message": message,
                         "context": context, "time": now.isoformat()})
            raise Denied("AccessDenied", message)

    def record(self, denial: dict[str, Any]) -> None:
        with self._lock:
            self.denials.append(denial)
            log.warning("IAM denied: %s", denial["message"])
            if self.denials_file:
                with open(self.denials_file, "a") as stream:
                    stream.write(json.dumps(denial) + "\n")

    # -- on the caller's behalf ------------------------------------------------------------
    @staticmethod
    def service_principal(account: str, role_arn: str, session: str) -> dict[str, Any]:
        """A role as a service assumes it (CodeDeploy, ECS for a task), to evaluate as."""
        from moto.iam.models import iam_backends

        iam = iam_backends[account]["aws"]
        role_name = role_arn.split("/")[-1]
        role_id = _role_id(iam, role_name)
        return {"arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
                "role_arn": role_arn, "account": account, "type": "AssumedRole",
                "entity": iam.roles.get(role_id) if role_id else None, "session": None,
                "name": role_name}

    def denial(self, principal: dict[str, Any], checks: list[tuple[str, str, dict[str, Any]]],
               region: str) -> str | None:
        """The message of AWS's refusal of the first check it would refuse (recorded), or None."""
        try:
            self.authorize(principal, checks, region)
        except Denied as denied:
            return denied.message
        return None

    def as_codedeploy(self, account: str, region: str, deployment_id: str) -> None:
        """What an ECS blue/green deployment does with its deployment group's service role
        (AWS: Amazon ECS Developer Guide, "Amazon ECS CodeDeploy IAM role": ECS task sets, the
        listeners, the rollback alarms, and iam:PassRole for the task definition's roles).
        A refusal is recorded (role: the service role); the deployment itself still runs."""
        from moto.codedeploy.models import codedeploy_backends
        from moto.ecs.models import ecs_backends

        deployment = codedeploy_backends[account][region].deployments[deployment_id]
        group = deployment.deployment_group
        if not group.ecs_services or not group.service_role_arn:
            return
        principal = self.service_principal(account, group.service_role_arn, "CodeDeploy")
        checks: list[tuple[str, str, dict[str, Any]]] = []
        for service in group.ecs_services:
            where = {"cluster": service["clusterName"], "service": service["serviceName"]}
            for action in ("DescribeServices", "CreateTaskSet", "UpdateServicePrimaryTaskSet",
                           "DeleteTaskSet"):
                checks += [(f"ecs:{action}", arn, {}) for arn in arns.build(
                    "ecs", action, where, "aws", region, account,
                    resolve={"TaskSetId": arns.NEW})[0]]  # the task sets CodeDeploy makes
        for pair in group.load_balancer_info.get("targetGroupPairInfoList", []):
            for route in ("prodTrafficRoute", "testTrafficRoute"):
                for listener in (pair.get(route) or {}).get("listenerArns", []):
                    checks.append(("elasticloadbalancing:ModifyListener", listener, {}))
        checks += [(f"elasticloadbalancing:{action}", "*", {}) for action in (
            "DescribeTargetGroups", "DescribeListeners", "DescribeRules")]
        alarms = group.alarm_configuration or {}
        if alarms.get("enabled"):
            checks += [("cloudwatch:DescribeAlarms",
                        f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm['name']}", {})
                       for alarm in alarms.get("alarms", [])]
        task_definition = _appspec_task_definition(deployment.revision)
        if task_definition:
            ecs = ecs_backends[account][region]
            definition = ecs.describe_task_definition(task_definition)
            # moto sets these only when the task definition has them
            passed_roles = {getattr(definition, "task_role_arn", None),
                            getattr(definition, "execution_role_arn", None)} - {None, ""}
            for passed in sorted(passed_roles):
                checks.append(("iam:PassRole", passed,
                               {"iam:PassedToService": "ecs-tasks.amazonaws.com"}))
        self.denial(principal, checks, region)  # recorded; the deployment still runs

    # -- STS ------------------------------------------------------------------------------
    def assume(self, response: Any, action: str, params: dict[str, Any]) -> None:
        """AWS's checks before AssumeRole / AssumeRoleWithWebIdentity: the role exists, the
        duration fits, and its trust policy lets the caller (or the token) in."""
        from moto.iam.models import iam_backends

        account = response.current_account
        role_arn = params.get("RoleArn") or ""
        iam = iam_backends[role_arn.split(":")[4] if role_arn.count(":") >= 5 else account]["aws"]
        role_id = _role_id(iam, role_arn.split("/")[-1])
        role = iam.roles.get(role_id) if role_id else None
        if role is None or role.arn != role_arn:
            raise Denied("AccessDenied",
                         f"Not authorized to perform sts:{action}: no role {role_arn}")
        duration = int(params.get("DurationSeconds") or 3600)
        maximum = int(role.max_session_duration or 3600)
        if duration > maximum:
            raise Denied("ValidationError",
                         f"The requested DurationSeconds exceeds the MaxSessionDuration set for "
                         f"this role ({duration} > {maximum}).")
        trust = _doc(role.assume_role_policy_document)
        if action == "AssumeRoleWithWebIdentity":
            claims = _claims(params.get("WebIdentityToken") or "")
            issuer = str(claims.get("iss", "")).removeprefix("https://")
            provider = iam.open_id_providers.get(
                f"arn:aws:iam::{iam.account_id}:oidc-provider/{issuer}")
            if provider is None:
                raise Denied("InvalidIdentityToken", f"No OpenIDConnect provider found in your "
                                                     f"account for https://{issuer}")
            audiences = claims.get("aud")
            audiences = audiences if isinstance(audiences, list) else [audiences]
            if not set(map(str, audiences)) & set(provider.client_id_list):
                raise Denied("InvalidIdentityToken", "Incorrect token audience")
            if claims.get("exp") and float(claims["exp"]) < time.time():
                raise Denied("ExpiredTokenException", "Token is expired")
            principal = provider.arn
            context = web_identity_context(issuer, claims)
            trust = with_standin_keys(trust)
            identity: dict[str, Any] = {}
            caller = f"token {claims.get('sub')!r} from {provider.arn}"
        else:
            caller_principal = self.principal(response)
            if caller_principal is None:  # the administrator: the account's root
                principal = f"arn:aws:iam::{account}:root"
                identity = {"admin": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}
            else:
                principal = caller_principal["arn"]
                identity = {name: _doc(text) for name, text
                            in self.policies(caller_principal)[0].items()}
            context, caller = {}, principal
        verdict = self.evaluator.evaluate(principal, f"sts:{action}", role_arn, iam.account_id,
                                          context, identity, resource_policy=trust)
        if verdict.get("result") != "Allowed":
            message = (f"Not authorized to perform sts:{action}" if "error" not in verdict
                       else f"Not authorized to perform sts:{action} ({verdict['error']})")
            self.record({"action": f"sts:{action}", "resource": role_arn, "principal": caller,
                         "role": role_arn, "reason": "the role's trust policy does not allow it",
                         "message": f"{message}: {caller} on {role_arn}", "context": context,
                         "time": datetime.datetime.now(datetime.timezone.utc).isoformat()})
            raise Denied("AccessDenied", message)


def _appspec_task_definition(revision: Any) -> str | None:
    """The TaskDefinition an ECS AppSpec (YAML or JSON) names, if any."""
    import yaml

    content = ((revision or {}).get("appSpecContent") or {}).get("content") or ""
    try:
        (resource,) = yaml.safe_load(content)["Resources"]
        return next(iter(resource.values()))["Properties"]["TaskDefinition"]
    except Exception:  # moto's patch refuses a bad AppSpec (patches/codedeploy.py)
        return None


def _known_by_id(prefix: str, params: dict[str, Any], account: str,
                 region: str) -> dict[str, Any]:
    """The names a request's ARN needs that it gives only by id, from moto's backend: a
    CodeDeploy deployment's application and group (GetDeployment, BatchGetDeployments)."""
    ids = params.get("deploymentIds") or ([params["deploymentId"]]
                                          if params.get("deploymentId") else [])
    if prefix != "codedeploy" or not ids or params.get("applicationName"):
        return params
    from moto.codedeploy.models import codedeploy_backends

    deployments = codedeploy_backends[account][region].deployments
    found = [deployments[i] for i in ids if i in deployments]
    if not found:
        return params
    return {**params,
            "applicationName": sorted({d.application_name for d in found}),
            "deploymentGroupName": sorted({d.deployment_group_name for d in found})}


def _role_id(iam: Any, name: str) -> str | None:
    for role_id, role in list(iam.roles.items()):
        if role.name == name:
            return role_id
    return None


def _resource_tags(resource: str, account: str, region: str) -> dict[str, str]:
    """aws:ResourceTag/<key> of an existing load balancing resource or KMS key (the resources
    CI policies tell apart by tag: their names or ids are AWS's)."""
    tags: dict[str, str] = {}
    if resource.startswith("arn:") and ":elasticloadbalancing:" in resource:
        from moto.elbv2.models import elbv2_backends

        tags = elbv2_backends[account][region].tagging_service.get_tag_dict_for_resource(
            resource)
    elif resource.startswith("arn:") and ":kms:" in resource and ":key/" in resource:
        from moto.kms.models import kms_backends

        backend = kms_backends[account][region]
        key_id = resource.rsplit("/", 1)[-1]
        if key_id in backend.keys:
            tags = {tag["TagKey"]: tag["TagValue"]
                    for tag in backend.list_resource_tags(key_id)["Tags"]}
    return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}


def _alias_target(account: str, region: str, alias: str) -> str | None:
    from moto.kms.models import kms_backends

    backend = kms_backends[account][region]
    return next((key_id for key_id, aliases in backend.key_to_aliases.items()
                 if alias in aliases), None)


def _key_policy(resource: str, account: str, region: str) -> str | None:
    """The key policy of an existing KMS key: KMS allows nothing its key policy does not (the
    account's IAM policies count only where it delegates to the account)."""
    if not (resource.startswith("arn:") and ":kms:" in resource and ":key/" in resource):
        return None
    from moto.kms.models import kms_backends

    key = kms_backends[account][region].keys.get(resource.rsplit("/", 1)[-1])
    return key.policy if key is not None else None


def _role_boundary(account: str, name: str) -> str | None:
    from moto.iam.models import iam_backends

    for role in list(iam_backends[account]["aws"].roles.values()):
        if role.name == name:
            return role.permissions_boundary_arn
    return None


def _linked_role_exists(account: str, service: str) -> bool:
    from moto.iam.models import iam_backends

    path = f"/aws-service-role/{service}/"
    return any(role.path == path for role in list(iam_backends[account]["aws"].roles.values()))


def _default_version(policy: Any) -> Any:
    for version in policy.versions:
        if version.is_default:
            return version.document
    raise EmulatorError(f"moto's policy {policy.arn} has no default version")


def _claims(token: str) -> dict[str, Any]:
    """A JWT's claims. The signature is NOT checked: tests mint unsigned tokens."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as error:
        raise Denied("InvalidIdentityToken", f"the token is not a JWT: {error}") from None


def _tags(params: dict[str, Any]) -> dict[str, str]:
    """The tags a request sets: Tags/tags lists of Key/Value (any case), a tags map, or EC2's
    TagSpecification.N.Tag.N."""
    tags = params.get("Tags") or params.get("tags") or params.get("TagList") or {}
    specifications = params.get("TagSpecification") or params.get("TagSpecifications")
    if not tags and isinstance(specifications, list):
        tags = [tag for spec in specifications if isinstance(spec, dict)
                for tag in (spec.get("Tag") or spec.get("Tags") or [])]
    if isinstance(tags, dict):
        if "member" in tags or "Tag" in tags:
            tags = tags.get("member") or tags.get("Tag") or []
        else:
            return {str(k): str(v) for k, v in tags.items()}
    result = {}
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict):
            key = tag.get("Key", tag.get("key", tag.get("TagKey")))  # TagKey: KMS's
            if key is not None:
                result[str(key)] = str(tag.get("Value", tag.get("value",
                                                                tag.get("TagValue", ""))))
    return result


def _s3_context(response: Any) -> dict[str, Any]:
    """S3's request keys: s3:prefix, s3:delimiter, s3:max-keys (ListBucket) and
    s3:if-none-match, s3:if-match (conditional writes: the S3 backend's lock file)."""
    context = {}
    query = response.querystring or {}
    for parameter in ("prefix", "delimiter", "max-keys"):
        if query.get(parameter):
            context[f"s3:{parameter}"] = query[parameter][0]
    for header in ("If-None-Match", "If-Match"):
        if response.headers.get(header):
            context[f"s3:{header.lower()}"] = response.headers[header]
    return context


def _request_context(prefix: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    tags = _tags(params)
    if tags:
        context.update({f"aws:RequestTag/{key}": value for key, value in tags.items()})
        context["aws:TagKeys"] = sorted(tags)
    if prefix == "iam" and params.get("PolicyArn"):
        context["iam:PolicyARN"] = params["PolicyArn"]
    if prefix == "iam" and params.get("PermissionsBoundary"):
        context["iam:PermissionsBoundary"] = params["PermissionsBoundary"]
    if (prefix, action) == ("iam", "CreateServiceLinkedRole") and params.get("AWSServiceName"):
        context["iam:AWSServiceName"] = params["AWSServiceName"]
    return context


_enforcer: Enforcer | None = None


def current() -> Enforcer | None:
    return _enforcer


def enable(denials_file: Path | None = None) -> Enforcer:
    global _enforcer
    if _enforcer is None:
        _enforcer = Enforcer(denials_file)
    elif denials_file is not None:
        _enforcer.denials_file = denials_file
    return _enforcer


def disable() -> None:
    global _enforcer
    enforcer, _enforcer = _enforcer, None
    if enforcer is not None:
        enforcer.close()


def _params(response: Any) -> dict[str, Any]:
    if getattr(response, "automated_parameter_parsing", False):
        return dict(response.params or {})
    body = response.body
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:
            body = ""
    if isinstance(body, str) and body.lstrip().startswith("{"):
        try:
            return json.loads(body)
        except ValueError:
            pass
    return response._get_params()


def _protocol_error(response: Any, denied: Denied) -> tuple[int, dict, str]:
    """The protocol's AccessDenied, the shape the SDKs parse (query: AccessDenied, 403; EC2:
    UnauthorizedOperation, 403; JSON and CBOR: AccessDeniedException, 400), serialized by moto
    in the protocol of the request. Checked: hashicorp/aws 5.100.0 and boto3 1.35 both send
    CloudWatch, SNS, IAM, ELBv2 and STS as query, Logs, SSM, ECS, ECR, KMS, CodeDeploy and
    Application Auto Scaling as JSON."""
    from moto.core.responses import ActionResult

    protocol = _protocol(response)
    if denied.code in ("ValidationError", "InvalidIdentityToken", "ExpiredTokenException"):
        code, status = denied.code, 400
    elif protocol in ("query",):
        code, status = "AccessDenied", 403
    elif protocol == "ec2":
        code, status = "UnauthorizedOperation", 403
    else:
        code, status = "AccessDeniedException", 400
    _status, headers, body = response.serialized(ActionResult(AccessDeniedError(code,
                                                                                denied.message)))
    return status, headers, body


def _protocol(response: Any) -> str:
    from moto.core.responses import get_service_model

    return get_service_model(response.boto3_service_name).metadata.get("protocol", "")


def install() -> None:
    """Hook moto (process-wide, once, from apply_patches): the hooks do nothing until enable()."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import BaseResponse
    from moto.iam.models import IAMBackend
    from moto.s3.exceptions import S3ClientError
    from moto.sts.models import STSBackend

    for cls, name in ((IAMBackend, "get_policy"), (IAMBackend, "get_groups_for_user"),
                      (IAMBackend, "create_service_linked_role"),
                      (STSBackend, "get_assumed_role_from_access_key"),
                      (BaseResponse, "_get_action"), (BaseResponse, "_get_params"),
                      (BaseResponse, "serialized")):
        if not hasattr(cls, name):
            raise EmulatorError(f"IAM enforcement relies on moto's {cls.__name__}.{name}, which "
                                f"is gone: update ops/emulator/iam/")

    def make_call_action(call_action):
        def wrapper(self):
            enforcer = _enforcer
            if enforcer is None:
                return call_action(self)
            try:
                action = self._get_action()
                prefix = IAM_PREFIX.get(self.service_name, self.service_name)
                if prefix == "sts" and action in ("AssumeRole", "AssumeRoleWithWebIdentity"):
                    enforcer.assume(self, action, _params(self))
                elif not (prefix == "sts" and action == "GetCallerIdentity"):
                    principal = enforcer.principal(self)
                    if principal is not None:
                        params = _params(self)
                        checks = list(enforcer.checks(self, prefix, action, params, principal))
                        enforcer.authorize(principal, checks, self.region)
                        _after_allowed(prefix, action, principal)
            except Denied as denied:
                return _protocol_error(self, denied)
            status, headers, body = call_action(self)
            if (self.service_name, self._get_action()) == ("codedeploy", "CreateDeployment") \
                    and status == 200:
                enforcer.as_codedeploy(self.current_account, self.region,
                                       json.loads(body)["deploymentId"])
            return status, headers, body

        return wrapper

    def make_s3(original):
        def wrapper(self, bucket_name=None, key_name=None):
            enforcer = _enforcer
            if enforcer is not None:
                principal = enforcer.principal(self)
                if principal is not None:
                    name = self.data.get("Action") or self._get_action()
                    action = "s3:" + S3_ACTIONS.get(name, name)
                    path = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
                    try:
                        enforcer.authorize(principal, [(action, f"arn:aws:s3:::{path}",
                                                        _s3_context(self))], self.region)
                    except Denied as denied:
                        raise S3ClientError("AccessDenied", denied.message) from None
            return original(self, bucket_name=bucket_name, key_name=key_name)

        return wrapper

    wrap(BaseResponse, "call_action", make_call_action)
    wrap(ActionAuthenticatorMixin, "_authenticate_and_authorize_s3_action", make_s3)


def _after_allowed(prefix: str, action: str, principal: dict[str, Any]) -> None:
    """What AWS does once the caller may: create the service-linked role on first use."""
    linked = SERVICE_LINKED.get((prefix, action))
    if linked and not _linked_role_exists(principal["account"], linked[0]):
        from moto.iam.models import iam_backends

        iam = iam_backends[principal["account"]]["aws"]
        iam.create_service_linked_role(linked[0], "", "")
