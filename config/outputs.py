"""The output contract: every output a stack may declare, by stack kind, and who reads it: a tool
(by the constant below, which its file imports; tests/test_stacks.py checks it does) or PEOPLE
(`terraform output`, the stack's documented interface, as a Terraform module's outputs). The
stacks declare outputs only through `output_name`. A value the config already holds (the
container's name and port, the service's names) is read from the config, never back from an
output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .naming import CI_ROLES, ci_role_output

if TYPE_CHECKING:
    from .schema import EnvironmentConfig

# Read by the tools
ALB_URL = "alb_url"  # `up` prints it; smoke checks it
ALB_DNS_NAME = "alb_dns_name"  # smoke connects here while an https domain does not resolve
TASK_DEFINITION_ARN = "task_definition_arn"  # the revision a release rolls out
CODEDEPLOY_APPLICATION = "codedeploy_application"  # blue/green: where a release deploys
CODEDEPLOY_DEPLOYMENT_GROUP = "codedeploy_deployment_group"

APP = (ALB_URL, ALB_DNS_NAME, TASK_DEFINITION_ARN)  # every app stack
BLUE_GREEN = (CODEDEPLOY_APPLICATION, CODEDEPLOY_DEPLOYMENT_GROUP)  # a blue/green app stack

PEOPLE = "terraform output"
OUTPUTS: dict[str, dict[str, str]] = {
    "state": {"state_bucket": PEOPLE, "state_bucket_arn": PEOPLE, "lock_table": PEOPLE,
              "ecr_repository_url": PEOPLE, "github_oidc_provider_arn": PEOPLE,
              **{ci_role_output(kind): "ops/ci_access.py" for kind in CI_ROLES}},
    "network": {"vpc_id": PEOPLE, "vpc_cidr": PEOPLE, "public_subnet_ids": PEOPLE,
                "private_subnet_ids": PEOPLE, "nat_gateway_public_ips": PEOPLE},
    "app": {ALB_DNS_NAME: "ops/smoke.py", ALB_URL: "ops/smoke.py", "cluster_name": PEOPLE,
            "service_name": PEOPLE, "log_group_name": PEOPLE, "alarm_topic_arn": PEOPLE,
            "image_parameter_name": PEOPLE, "task_definition_family": PEOPLE,
            TASK_DEFINITION_ARN: "ops/release/deploy.py", "ecr_repository_url": PEOPLE,
            CODEDEPLOY_APPLICATION: "ops/release/deploy.py",
            CODEDEPLOY_DEPLOYMENT_GROUP: "ops/release/deploy.py"},
}


# An app stack's outputs of one service: with several services, each service's are named
# <service>_<name> (service_output).
SERVICE_OUTPUTS = ("service_name", "log_group_name", "alarm_topic_arn", "image_parameter_name",
                   "task_definition_family", TASK_DEFINITION_ARN, "ecr_repository_url")


def service_output(environment: "EnvironmentConfig", name: str) -> str:
    """The focused service's output `name` (of SERVICE_OUTPUTS) as its app stack names it."""
    if name not in SERVICE_OUTPUTS:
        raise ValueError(f"output {name!r} is not one of a service's (SERVICE_OUTPUTS)")
    return f"{environment.service_key}_{name}" if environment.several else name


def output_name(kind: str, name: str) -> str:
    """`name`, if the contract lets a `kind` stack declare it; else ValueError."""
    if name not in OUTPUTS[kind] and not any(
            name.endswith(f"_{each}") for each in SERVICE_OUTPUTS if each in OUTPUTS[kind]):
        raise ValueError(f"output {name!r} is not in config/outputs.py's OUTPUTS[{kind!r}]")
    return name
