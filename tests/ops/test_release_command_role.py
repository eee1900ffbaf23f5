"""The deploy role's release-command statements as synthesized, judged by the emulator's IAM
(issue #21): with them the role runs a service's release command (a task of its own family in
the service's cluster, watched, its log read); without them ECS refuses the task as on AWS."""

import dataclasses
import json
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from config import CiConfig, load_environments
from helpers import document, synth_variant
from ops.release import Target
from ops.release.task import run_release_command

REGION, ACCOUNT = "ap-south-1", "123456789012"
EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "several-services"
RELEASE_SIDS = ("ReleaseCommand", "ReleaseCommandTasks", "ReleaseCommandLogs")


@pytest.fixture(scope="module")
def shop():
    (environment,) = load_environments(EXAMPLE)
    return dataclasses.replace(environment, ci=CiConfig(github_repository="acme/shop"))


@pytest.fixture(scope="module")
def release_statements(shop) -> list[dict]:
    """The deploy role's release-command statements, references resolved."""
    state = synth_variant(shop)["state-shop"]
    text = json.dumps([statement for policy in state["resource"]["aws_iam_role_policy"].values()
                       for statement in document(policy["policy"])["Statement"]
                       if statement.get("Sid") in RELEASE_SIDS])
    for token, real in {"${data.aws_partition.partition.partition}": "aws",
                        "${data.aws_caller_identity.account.account_id}": ACCOUNT}.items():
        text = text.replace(token, real)
    assert "${" not in text, text
    found = json.loads(text)
    assert sorted(one["Sid"] for one in found) == sorted(RELEASE_SIDS)
    return found


@pytest.fixture(scope="module")
def api(shop, admin_client, awsvpc):
    """The API as its stacks leave it: its roles, log group and service in the shared cluster."""
    focused = shop.focus("api")
    names = focused.names
    iam, ecs = admin_client("iam"), admin_client("ecs")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    roles = [iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
             for name in (names.task_role, names.execution_role)]
    admin_client("logs").create_log_group(logGroupName=names.log_group)
    ecs.create_cluster(clusterName=names.cluster)
    ecs.register_task_definition(
        family=names.service, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="1024", memory="2048", taskRoleArn=roles[0], executionRoleArn=roles[1],
        containerDefinitions=[{"name": "web", "image": "crccheck/hello-world:v1",
                               "essential": True, "logConfiguration": {
                                   "logDriver": "awslogs", "options": {
                                       "awslogs-group": names.log_group,
                                       "awslogs-region": REGION,
                                       "awslogs-stream-prefix": "web"}}}])
    ecs.create_service(cluster=names.cluster, serviceName=names.service,
                       taskDefinition=names.service, desiredCount=1, launchType="FARGATE",
                       networkConfiguration=awsvpc)
    return focused, roles


def deployer(admin_client, enforcing_emulator, api, statements: list[dict]) -> Target:
    """A Target whose calls are a role's holding `statements`, and what a release reads and
    registers besides them (the deploy role's other statements)."""
    focused, roles = api
    iam, name = admin_client("iam"), f"deploy-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            *statements,
            {"Effect": "Allow", "Resource": "*", "Action": [
                "ecs:DescribeServices", "ecs:DescribeTaskDefinition",
                "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition"]},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": roles}]}))
    keys = admin_client("sts").assume_role(RoleArn=arn, RoleSessionName="deploy")["Credentials"]
    return Target(focused, {"AWS_ACCESS_KEY_ID": keys["AccessKeyId"],
                            "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
                            "AWS_SESSION_TOKEN": keys["SessionToken"], "AWS_REGION": REGION,
                            "AWS_ENDPOINT_URL": enforcing_emulator.endpoint_url})


def test_the_deploy_roles_statements_run_the_release_command(admin_client, enforcing_emulator,
                                                              api, release_statements):
    said = []
    target = deployer(admin_client, enforcing_emulator, api, release_statements)
    run_release_command(target, "crccheck/hello-world:v2", timeout=60, poll=0.05,
                        say=said.append)
    assert "migrating: DB_PASSWORD" in said and said[-1].endswith("exited with 0")


@pytest.mark.parametrize("sid", ["ReleaseCommand", "ReleaseCommandTasks"])
def test_without_one_of_them_aws_refuses(admin_client, enforcing_emulator, api,
                                         release_statements, sid):
    target = deployer(admin_client, enforcing_emulator, api,
                      [one for one in release_statements if one["Sid"] != sid])
    with pytest.raises(ClientError) as error:
        run_release_command(target, "crccheck/hello-world:v2", timeout=60, poll=0.05,
                            say=lambda line: None)
    assert error.value.response["Error"]["Code"] in ("AccessDeniedException", "AccessDenied")
