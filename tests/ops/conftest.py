"""Fixtures of the emulator's own tests: an in-process emulator that enforces IAM, one per module,
and clients with the administrator's keys (never evaluated)."""

import json
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
