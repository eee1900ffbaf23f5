"""Fixtures of the emulator's own tests: an in-process emulator that enforces IAM, one per module,
and clients with the administrator's keys (never evaluated); a running service like the app
stack's and its log lines, for the day-two library and commands."""

import json
import time
import uuid

import boto3
import pytest

from ops.emulator import Emulator

REGION = "ap-south-1"


@pytest.fixture(scope="module")
def enforcing_emulator(tmp_path_factory):
    with Emulator(port=0, enforce_iam=True,
                  denials_file=tmp_path_factory.mktemp("iam") / "denials.jsonl") as running:
        yield running


@pytest.fixture(scope="module")
def admin_client(enforcing_emulator):
    """admin_client("ecs"): a client of the enforcing emulator with the administrator's keys."""
    def make(service):
        return boto3.client(service, region_name=REGION,
                            endpoint_url=enforcing_emulator.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return make


@pytest.fixture(scope="module")
def awsvpc(admin_client):
    """A subnet and security group for awsvpc tasks: RunTask's networkConfiguration."""
    ec2 = admin_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)
    return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group["GroupId"]]}}


@pytest.fixture(scope="module")
def task_role(admin_client):
    """task_role("ssm:GetParameters", ...): a new role ECS tasks assume, allowed `actions` on *."""
    def make(*actions) -> str:
        iam = admin_client("iam")
        name = f"role-{uuid.uuid4().hex[:8]}"
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        arn = iam.create_role(RoleName=name,
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        if actions:
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
        return arn
    return make


@pytest.fixture(scope="module")
def make_service(admin_client, awsvpc, task_role):
    """make_service(name=..., exec_enabled=..., ...): a new running service (running_service)."""
    return lambda **settings: running_service(admin_client, awsvpc, task_role, **settings)


def running_service(aws, network, role, name=None, exec_enabled=True, secrets=(),
                    role_actions=("ssmmessages:*",), running=2, read_only_root=False):
    """A service shaped like the app stack's (Fargate, awsvpc, awslogs to /ecs/<name>, container
    and stream prefix `web`) with `running` tasks; cluster and service are both `name`."""
    from ops.service_tasks import Service, running_tasks

    name = name or f"svc-{uuid.uuid4().hex[:6]}"
    service = Service(cluster=name, name=name, container="web", log_group=f"/ecs/{name}",
                      stream_prefix="web")
    ecs = aws("ecs")
    ecs.create_cluster(clusterName=name)
    aws("logs").create_log_group(logGroupName=service.log_group)
    ecs.register_task_definition(
        family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", taskRoleArn=role(*role_actions), containerDefinitions=[{
            "name": "web", "image": "crccheck/hello-world", "essential": True,
            "readonlyRootFilesystem": read_only_root,
            "secrets": [{"name": key, "valueFrom": value} for key, value in secrets],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": service.log_group, "awslogs-region": REGION,
                "awslogs-stream-prefix": "web"}}}])
    ecs.create_service(cluster=name, serviceName=name, taskDefinition=name, desiredCount=running,
                       launchType="FARGATE", networkConfiguration=network,
                       enableExecuteCommand=exec_enabled)
    deadline = time.monotonic() + 20
    while len(running_tasks(ecs, service)) < running:
        assert time.monotonic() < deadline, "the service's tasks never ran"
        time.sleep(0.05)
    return service


@pytest.fixture(scope="module")
def write_log(admin_client):
    """write_log(service, task_arn, *messages, at=None): lines in the task's awslogs stream."""
    def write(service, task_arn, *messages, at=None):
        logs = admin_client("logs")
        stream = service.stream(task_arn)
        try:
            logs.create_log_stream(logGroupName=service.log_group, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        stamp = int((at or time.time()) * 1000)
        logs.put_log_events(logGroupName=service.log_group, logStreamName=stream,
                            logEvents=[{"timestamp": stamp + i, "message": message}
                                       for i, message in enumerate(messages)])
    return write
