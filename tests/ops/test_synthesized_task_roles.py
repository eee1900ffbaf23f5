"""The app stack's task roles as synthesized, judged by the emulator's IAM (issue #21): with the
execution role's policy a task gets its secrets (an SSM SecureString under a customer managed
key, a Secrets Manager JSON key) and without one statement ECS cannot start it; with ECS Exec on,
the task role's policy lets the agent connect, and without it the session fails as on AWS."""

import json
import uuid

import pytest

from helpers import document, synth_variant, with_service
from ops.errors import Failed
from ops.service_tasks import Service, open_shell, run_one_off

REGION, ACCOUNT = "ap-south-1", "123456789012"


@pytest.fixture(scope="module")
def aws(admin_client):
    return admin_client


@pytest.fixture(scope="module")
def stored(aws):
    """A customer managed key, a SecureString under it and a Secrets Manager JSON secret."""
    run = uuid.uuid4().hex[:6]
    key = aws("kms").create_key(Description="secrets")["KeyMetadata"]["Arn"]
    aws("ssm").put_parameter(Name=f"/{run}/db-password", Value="pa55", Type="SecureString",
                             KeyId=key)
    secret = aws("secretsmanager").create_secret(
        Name=f"{run}/api", SecretString=json.dumps({"token": "t0k"}))["ARN"]
    return run, key, {"DB_PASSWORD": f"/{run}/db-password", "API_TOKEN": f"{secret}:token::"}


@pytest.fixture(scope="module")
def app(environments, stored):
    _, key, secrets = stored
    uat = with_service(environments["uat"], secrets=secrets, secrets_kms_key_arns=(key,),
                       enable_execute_command=True, read_only_root_filesystem=False)
    return synth_variant(uat)["app-uat"]


def resolved(value, log_group: str):
    """`value` with the stack's references as the emulator's account would resolve them."""
    text = json.dumps(value)
    for token, real in {
            "${data.aws_partition.partition.partition}": "aws",
            "${data.aws_caller_identity.account.account_id}": ACCOUNT,
            "${aws_cloudwatch_log_group.service_log_group.arn}":
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}",
            "${aws_cloudwatch_log_group.service_log_group.name}": log_group,
            "${aws_ssm_parameter.image_version_parameter.insecure_value}":
                "crccheck/hello-world"}.items():
        text = text.replace(token, real)
    assert "${" not in text, text
    return json.loads(text)


def role(aws, policy: dict | None) -> str:
    iam, name = aws("iam"), f"role-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def policy(app, name: str, log_group: str, without: str | None = None) -> dict:
    found = document(app["resource"]["aws_iam_role_policy"][name]["policy"])
    found["Statement"] = [one for one in found["Statement"] if one["Sid"] != without]
    return resolved(found, log_group)


def service_from(app, aws, awsvpc, *, execution: dict, task: dict | None) -> Service:
    """The synthesized task definition registered, with roles holding `execution` and `task`,
    and a service of it with ECS Exec on."""
    name = f"svc-{uuid.uuid4().hex[:6]}"
    log_group = f"/ecs/{name}"
    aws("logs").create_log_group(logGroupName=log_group)
    (definition,) = app["resource"]["aws_ecs_task_definition"].values()
    containers = resolved(document(definition["container_definitions"]), log_group)
    ecs = aws("ecs")
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(
        family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu=definition["cpu"], memory=definition["memory"],
        executionRoleArn=role(aws, execution), taskRoleArn=role(aws, task),
        containerDefinitions=containers)
    ecs.create_service(cluster=name, serviceName=name, taskDefinition=name, desiredCount=1,
                       launchType="FARGATE", networkConfiguration=awsvpc,
                       enableExecuteCommand=True)
    container = containers[0]["name"]
    return Service(cluster=name, name=name, container=container, log_group=log_group,
                   stream_prefix=container)


def check_secrets(aws, service) -> int:
    return run_one_off(aws("ecs"), aws("logs"), service, [
        "sh", "-c", 'test "$DB_PASSWORD" = pa55 && test "$API_TOKEN" = t0k'], timeout=60,
        poll=0.05, say=lambda line: None)


def test_the_execution_role_gets_the_task_its_secrets(app, aws, awsvpc):
    log_group = "/ecs/x"  # only the resource of the log statements; any group will do here
    service = service_from(app, aws, awsvpc, task=None, execution=policy(
        app, "service_execution_role_policy", log_group))
    assert check_secrets(aws, service) == 0


@pytest.mark.parametrize("statement", ["ReadSecretParameters", "ReadSecrets", "DecryptSecrets"])
def test_without_one_of_its_statements_ecs_cannot_start_the_task(app, aws, awsvpc, statement):
    service = service_from(app, aws, awsvpc, task=None, execution=policy(
        app, "service_execution_role_policy", "/ecs/x", without=statement))
    with pytest.raises(Failed, match="failed to start: ResourceInitializationError"):
        check_secrets(aws, service)


def test_with_exec_on_the_task_roles_policy_lets_the_agent_connect(app, aws, awsvpc):
    execution = policy(app, "service_execution_role_policy", "/ecs/x")
    service = service_from(app, aws, awsvpc, execution=execution, task=policy(
        app, "service_task_role_execute_command", "/ecs/x"))
    _wait_running(aws, service)
    said = []
    assert open_shell(aws("ecs"), service, region=REGION, emulator=True, say=said.append) == 0
    assert said[0].startswith("ECS Exec session ")

    without = service_from(app, aws, awsvpc, execution=execution, task=policy(
        app, "service_task_role_execute_command", "/ecs/x", without="SessionChannels"))
    _wait_running(aws, without)
    with pytest.raises(Failed, match="ECS Exec agent could not connect"):
        open_shell(aws("ecs"), without, region=REGION, emulator=True, say=said.append)


def _wait_running(aws, service):
    import time

    from ops.service_tasks import running_tasks

    deadline = time.monotonic() + 20
    while not running_tasks(aws("ecs"), service):
        assert time.monotonic() < deadline, "the service's task never ran"
        time.sleep(0.05)
