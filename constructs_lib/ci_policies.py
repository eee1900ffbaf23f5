"""What GitHub Actions may do in an environment, derived from its config: the OIDC subjects each
CI role trusts and each role's statements (constructs_lib/ci_access.py makes the roles). Kept
apart from the construct, which takes plain role definitions, like every construct here.

- plan:   pull requests, and runs on main (drift.yml's schedule); reads everything, writes only
          the state bucket's lock files
- deploy: jobs of the GitHub environment named like this one; applies network and app, releases
- image:  pushes to main; pushes to the project's ECR repository and nothing else (only the
          environment that owns the repository, `service.ecr_repository`, has one)
"""

from __future__ import annotations

from typing import Any, Callable

from .ci_access import CiRole
from .config import EnvironmentConfig

# Roles the app and network stacks create are passed only to these services.
PASSED_TO = ("ecs-tasks.amazonaws.com", "codedeploy.amazonaws.com",
             "vpc-flow-logs.amazonaws.com")
# Service-linked roles AWS creates on first use of ECS, ELB and ECS autoscaling in an account.
SERVICE_LINKED = ("ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com",
                  "ecs.application-autoscaling.amazonaws.com")
# What the network stack does to EC2: VPC networking has no name-based ARNs to scope by.
EC2_WRITES = tuple(f"ec2:{action}" for action in (
    "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "CreateSubnet", "DeleteSubnet",
    "ModifySubnetAttribute", "CreateInternetGateway", "AttachInternetGateway",
    "DetachInternetGateway", "DeleteInternetGateway", "AllocateAddress", "ReleaseAddress",
    "AssociateAddress", "DisassociateAddress", "CreateNatGateway", "DeleteNatGateway",
    "CreateRouteTable", "DeleteRouteTable", "CreateRoute", "ReplaceRoute", "DeleteRoute",
    "AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation",
    "CreateSecurityGroup", "DeleteSecurityGroup", "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress", "CreateFlowLogs", "DeleteFlowLogs",
    "CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints", "CreateTags", "DeleteTags"))
IMAGE_PUSH = tuple(f"ecr:{action}" for action in (
    "BatchCheckLayerAvailability", "InitiateLayerUpload", "UploadLayerPart",
    "CompleteLayerUpload", "PutImage", "BatchGetImage", "DescribeImages"))


def subjects(environment: EnvironmentConfig) -> dict[str, list[str]]:
    """The OIDC `sub` values each role trusts, by role kind: exact kinds of run of one repo."""
    repo = environment.ci.github_repository
    main = f"repo:{repo}:ref:refs/heads/main"
    return {"plan": [f"repo:{repo}:pull_request", main],  # read-only: reviews and drift checks
            "deploy": [f"repo:{repo}:environment:{environment.name}"],
            "image": [main]}


def state_statements(environment: EnvironmentConfig, bucket_arn: str, arn: Callable[..., str],
                     write_state: bool) -> list[dict[str, Any]]:
    """The state bucket: read, write the lock files (plan locks too), and with write_state the
    environment's state objects."""
    state = environment.state
    statements = [
        {"Sid": "StateLockFiles", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"{bucket_arn}/*.tflock"},
    ]
    if write_state:
        statements.append({"Sid": "StateObjects", "Effect": "Allow",
                           "Action": ["s3:GetObject", "s3:PutObject"],
                           "Resource": f"{bucket_arn}/{environment.name}/*"})
    if state.lock_table:
        statements.append({"Sid": "StateLockTable", "Effect": "Allow",
                           "Action": ["dynamodb:GetItem", "dynamodb:PutItem",
                                      "dynamodb:DeleteItem"],
                           "Resource": arn("dynamodb", f"table/{state.lock_table_name}",
                                           region=state.region)})
    return statements


def deploy_statements(environment: EnvironmentConfig, arn: Callable[..., str], partition: str,
                      ) -> list[dict[str, Any]]:
    """What applying network-<env> and app-<env> and releasing a version write, scoped to the
    names those stacks use wherever the service has resource-level permissions."""
    service, names = environment.service, environment.names
    name = names.service
    vpc = environment.network.vpc_name
    roles = [arn("iam", f"role/{name}-*", region=""), arn("iam", f"role/{vpc}-flow-logs", region="")]
    statements = [
        {"Sid": "Network", "Effect": "Allow", "Action": list(EC2_WRITES), "Resource": "*"},
        {"Sid": "LoadBalancer", "Effect": "Allow", "Action": "elasticloadbalancing:*",
         "Resource": [arn("elasticloadbalancing", f"loadbalancer/app/{name}/*"),
                      arn("elasticloadbalancing", f"listener/app/{name}/*"),
                      arn("elasticloadbalancing", f"listener-rule/app/{name}/*"),
                      arn("elasticloadbalancing", f"targetgroup/{service.name[:5]}-*/*")]},
        {"Sid": "Service", "Effect": "Allow", "Action": "ecs:*",
         "Resource": [arn("ecs", f"cluster/{name}"), arn("ecs", f"service/{name}/*"),
                      arn("ecs", f"task-definition/{name}:*"), arn("ecs", f"task-set/{name}/*")]},
        # Task definitions and scalable targets have no resource-level permissions.
        {"Sid": "Unscoped", "Effect": "Allow",
         "Action": ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:TagResource", "application-autoscaling:UntagResource"],
         "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow", "Action": "logs:*",
         "Resource": [arn("logs", f"log-group:{names.log_group}"),
                      arn("logs", f"log-group:{names.log_group}:*"),
                      arn("logs", f"log-group:/vpc/{vpc}/flow-logs"),
                      arn("logs", f"log-group:/vpc/{vpc}/flow-logs:*")]},
        {"Sid": "Roles", "Effect": "Allow",
         "Action": ["iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole",
                    "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                    "iam:TagRole", "iam:UntagRole"],
         "Resource": roles},
        {"Sid": "PassRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": roles,
         "Condition": {"StringEquals": {"iam:PassedToService": list(PASSED_TO)}}},
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": "*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED)}}},
        {"Sid": "Alarms", "Effect": "Allow",
         "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
                    "cloudwatch:TagResource", "cloudwatch:UntagResource",
                    "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
         "Resource": [arn("cloudwatch", f"alarm:{name}-*"),
                      arn("cloudwatch", f"dashboard/{name}", region="")]},
        {"Sid": "AlarmTopic", "Effect": "Allow",
         "Action": ["sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes",
                    "sns:Subscribe", "sns:Unsubscribe", "sns:TagResource", "sns:UntagResource"],
         "Resource": arn("sns", f"{name}-alarms*")},
        {"Sid": "AccessLogBucket", "Effect": "Allow", "Action": "s3:*",
         "Resource": [f"arn:{partition}:s3:::{name}-alb-logs-*",
                      f"arn:{partition}:s3:::{name}-alb-logs-*/*"]},
        # The version of record and the release lock (constructs_lib/image_version.py, releases).
        {"Sid": "Parameters", "Effect": "Allow",
         "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory",
                    "ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource",
                    "ssm:RemoveTagsFromResource"],
         "Resource": [arn("ssm", f"parameter{parameter}")
                      for parameter in (names.image_parameter, names.release_lock_parameter)]},
        {"Sid": "BlueGreen", "Effect": "Allow", "Action": "codedeploy:*",
         "Resource": [arn("codedeploy", f"application:{name}"),
                      arn("codedeploy", f"deploymentgroup:{name}/*"),
                      arn("codedeploy", "deploymentconfig:*")]},
        # The CI roles match role/<service>-<env>-* when project and service share a name: the
        # deploy role must never edit its own (or the other CI roles') access.
        {"Sid": "NotTheCiRoles", "Effect": "Deny", "Action": "iam:*",
         "Resource": [arn("iam", f"role/{role}", region="")
                      for role in environment.ci_role_names.values()]},
    ]
    if names.repository:  # a release checks the image exists; the owner also manages it
        owner_actions = ["ecr:CreateRepository", "ecr:DeleteRepository", "ecr:PutLifecyclePolicy",
                         "ecr:DeleteLifecyclePolicy", "ecr:PutImageScanningConfiguration",
                         "ecr:PutImageTagMutability", "ecr:SetRepositoryPolicy",
                         "ecr:DeleteRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource"]
        statements.insert(-1, {
            "Sid": "ImageRepository", "Effect": "Allow",
            "Action": ["ecr:DescribeImages"] + (owner_actions if service.ecr_repository else []),
            "Resource": arn("ecr", f"repository/{names.repository}")})
    if service.ecr_repository:
        # ECR encrypts with the AWS managed KMS key through grants it asks for on our behalf.
        statements.insert(-1, {
            "Sid": "ImageRepositoryKey", "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"], "Resource": "*",
            "Condition": {"StringEquals": {
                "kms:ViaService": f"ecr.{environment.region}.amazonaws.com"}}})
    policies = service.task_role_managed_policies
    if policies:
        statements.insert(6, {
            "Sid": "TaskRolePolicies", "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": arn("iam", f"role/{name}-task", region=""),
            "Condition": {"ArnEquals": {"iam:PolicyARN": [
                f"arn:{partition}:iam::aws:policy/{policy}" for policy in policies]}}})
    return statements


def ci_roles(environment: EnvironmentConfig, state_bucket_arn: str, arn: Callable[..., str],
             partition: str) -> dict[str, CiRole]:
    """The plan, deploy and image roles of `environment`. `arn(service, resource, region=...)`
    spells an ARN in the stack's partition and account."""
    trusted = subjects(environment)
    statements = {
        "plan": state_statements(environment, state_bucket_arn, arn, write_state=False),
        "deploy": state_statements(environment, state_bucket_arn, arn, write_state=True)
        + deploy_statements(environment, arn, partition),
        "image": [
            {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
             "Resource": "*"},
            {"Sid": "Push", "Effect": "Allow", "Action": list(IMAGE_PUSH),
             "Resource": arn("ecr", f"repository/{environment.names.repository}")}],
    }
    return {kind: CiRole(name=name, subjects=trusted[kind], statements=statements[kind],
                         read_only=kind in ("plan", "deploy"))  # applying reads everything too
            for kind, name in environment.ci_role_names.items()}
