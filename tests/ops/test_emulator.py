"""The local AWS emulator (ops/emulator.py): loopback only, managed policies, each gap it fills
for the stacks, and its command line. Runs moto in this process on a free port; no Terraform."""

import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ops.emulator import HOST, Emulator, PortInUseError, apply_patches, aws_environment

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-south-1"


@pytest.fixture(scope="module")
def emulator():
    with Emulator(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def client(emulator):
    def make(service: str, **config):
        return boto3.client(service, region_name=REGION, endpoint_url=emulator.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(**config))
    return make


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops.emulator", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def ecs_service(client, **settings) -> tuple[str, str]:
    """A cluster and a service in it, created with `settings`; returns (cluster, service)."""
    ecs = client("ecs")
    cluster, service = unique("cluster"), unique("service")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(family=service, containerDefinitions=[
        {"name": "web", "image": "crccheck/hello-world", "memory": 512}])
    ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=service,
                       desiredCount=1, **settings)
    return cluster, service


def describe_service(client, cluster: str, service: str) -> dict:
    return client("ecs").describe_services(cluster=cluster, services=[service])["services"][0]


# --- Where it listens --------------------------------------------------------------------------


def test_listens_on_loopback_only(emulator):
    assert emulator.endpoint_url == f"http://127.0.0.1:{emulator.port}"
    assert emulator._server.get_host_and_port() == ("127.0.0.1", emulator.port)
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=2):
        pass
    # Linux routes all of 127.0.0.0/8 to the loopback device: a server bound to 0.0.0.0 would
    # answer on 127.0.0.2 too, one bound to 127.0.0.1 refuses.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", emulator.port), timeout=2).close()


def test_a_taken_port_is_a_clear_error_in_python(emulator):
    with pytest.raises(PortInUseError, match=rf"port {emulator.port} .* in use.*EMULATOR_PORT"):
        Emulator(port=emulator.port).start()


def test_a_taken_port_is_one_line_and_a_failure_on_the_command_line(emulator):
    result = run_cli("serve", "--port", str(emulator.port))

    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"port {emulator.port}" in lines[0] and "in use" in lines[0]
    assert "EMULATOR_PORT" in lines[0] and "make down" in lines[0]


def test_stop_frees_the_port():
    emulator = Emulator(port=0).start()
    port = emulator.port
    emulator.stop()
    with pytest.raises(OSError):
        socket.create_connection((HOST, port), timeout=2).close()
    Emulator(port=port).start().stop()


def test_start_and_stop_in_the_background(tmp_path):
    port, pidfile, logfile = free_port(), tmp_path / "emulator.pid", tmp_path / "emulator.log"
    files = ("--pidfile", str(pidfile))
    try:
        started = run_cli("start", "--port", str(port), *files, "--logfile", str(logfile))
        assert started.returncode == 0, started.stderr
        assert f"ready on http://127.0.0.1:{port}" in started.stdout
        assert pidfile.exists()
        with socket.create_connection((HOST, port), timeout=2):
            pass
        again = run_cli("start", "--port", str(port), *files, "--logfile", str(logfile))
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        stopped = run_cli("stop", "--port", str(port), *files)
    assert stopped.returncode == 0, stopped.stderr
    assert not pidfile.exists()
    with pytest.raises(OSError):
        socket.create_connection((HOST, port), timeout=2).close()


# --- What clients need -------------------------------------------------------------------------


def test_environment_for_terraform_and_boto3():
    env = aws_environment(4566)
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "ap-south-1"
    assert aws_environment(4566, region="eu-west-1")["AWS_REGION"] == "eu-west-1"

    merged = aws_environment(4566, base={"PATH": "/bin", "AWS_PROFILE": "prod",
                                         "AWS_SESSION_TOKEN": "real"})
    assert merged["PATH"] == "/bin"
    assert "AWS_PROFILE" not in merged and "AWS_SESSION_TOKEN" not in merged


def test_env_command_prints_the_variables():
    result = run_cli("env", "--port", "4599")
    assert result.returncode == 0
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:4599" in result.stdout.splitlines()


def test_patches_apply_once(emulator):
    from moto.core.responses import BaseResponse

    patched = BaseResponse.call_action
    apply_patches()
    apply_patches()
    assert BaseResponse.call_action is patched


# --- The gaps it fills -------------------------------------------------------------------------


def test_aws_managed_policies_exist(client):
    iam = client("iam")
    arn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == "AmazonS3FullAccess"

    role = unique("role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [arn]


def test_autoscaling_target_tags_round_trip(client):
    cluster, service = ecs_service(client)
    autoscaling = client("application-autoscaling")
    arn = autoscaling.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=f"service/{cluster}/{service}",
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=3,
        Tags={"Environment": "uat"})["ScalableTargetARN"]

    def tags():
        return autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"]

    assert tags() == {"Environment": "uat"}
    autoscaling.tag_resource(ResourceARN=arn, Tags={"Team": "platform", "Environment": "prod"})
    assert tags() == {"Environment": "prod", "Team": "platform"}
    autoscaling.untag_resource(ResourceARN=arn, TagKeys=["Environment"])
    assert tags() == {"Team": "platform"}


def test_autoscaling_tags_of_an_unknown_target_are_not_found(client):
    arn = f"arn:aws:application-autoscaling:{REGION}:123456789012:scalable-target/0123abcd"
    with pytest.raises(ClientError) as error:
        client("application-autoscaling").list_tags_for_resource(ResourceARN=arn)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_ecs_service_keeps_its_settings_on_create_and_update(client):
    deployment = {"maximumPercent": 200, "minimumHealthyPercent": 100,
                  "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    cluster, service = ecs_service(client, healthCheckGracePeriodSeconds=60,
                                   availabilityZoneRebalancing="ENABLED",
                                   deploymentConfiguration=deployment)
    described = describe_service(client, cluster, service)
    assert described["healthCheckGracePeriodSeconds"] == 60
    assert described["availabilityZoneRebalancing"] == "ENABLED"
    assert described["deploymentConfiguration"] == deployment

    updated = client("ecs").update_service(
        cluster=cluster, service=service, healthCheckGracePeriodSeconds=90,
        availabilityZoneRebalancing="DISABLED",
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": False,
                                                              "rollback": False}})["service"]
    assert updated["healthCheckGracePeriodSeconds"] == 90
    described = describe_service(client, cluster, service)
    assert described["healthCheckGracePeriodSeconds"] == 90
    assert described["availabilityZoneRebalancing"] == "DISABLED"
    # As in AWS, an update merges into the deployment configuration rather than replacing it.
    assert described["deploymentConfiguration"] == {
        **deployment, "deploymentCircuitBreaker": {"enable": False, "rollback": False}}


def test_rule_referencing_a_security_group_keeps_its_description(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    alb, tasks = (ec2.create_security_group(GroupName=unique(name), Description=name,
                                            VpcId=vpc)["GroupId"] for name in ("alb", "tasks"))
    ec2.authorize_security_group_ingress(GroupId=tasks, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000,
        "UserIdGroupPairs": [{"GroupId": alb, "Description": "Container port from the ALB"}]}])

    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [tasks]}])["SecurityGroupRules"]
    [ingress] = [rule for rule in rules if not rule["IsEgress"]]
    assert ingress["ReferencedGroupInfo"]["GroupId"] == alb
    assert ingress["Description"] == "Container port from the ALB"


def test_load_balancer_deletion_protection_is_enforced(client):
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.91.{index}.0/24",
                                 AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
               for index, zone in enumerate("ab")]
    arn = elbv2.create_load_balancer(Name=unique("alb"), Subnets=subnets,
                                     Type="application")["LoadBalancers"][0]["LoadBalancerArn"]

    def protect(enabled: str):
        elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "deletion_protection.enabled", "Value": enabled}])

    protect("true")
    with pytest.raises(ClientError) as error:
        elbv2.delete_load_balancer(LoadBalancerArn=arn)
    assert error.value.response["Error"]["Code"] == "OperationNotPermitted"
    protect("false")
    elbv2.delete_load_balancer(LoadBalancerArn=arn)
    remaining = elbv2.describe_load_balancers()["LoadBalancers"]
    assert arn not in [balancer["LoadBalancerArn"] for balancer in remaining]


def test_bucket_policy_denying_plain_http_lets_the_state_backend_in(client):
    s3 = client("s3")
    bucket = unique("tfstate")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    arn = f"arn:aws:s3:::{bucket}"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyReadsOfSecrets", "Effect": "Deny", "Principal": "*",
         "Action": "s3:GetObject", "Resource": f"{arn}/secret/*"}]}))

    # As over HTTPS in AWS: the plain-HTTP Deny does not apply...
    s3.put_object(Bucket=bucket, Key="uat/network.tfstate", Body=b"{}")
    assert s3.get_object(Bucket=bucket, Key="uat/network.tfstate")["Body"].read() == b"{}"
    s3.head_object(Bucket=bucket, Key="uat/network.tfstate")
    # ...while the rest of the policy still does.
    s3.put_object(Bucket=bucket, Key="secret/key", Body=b"x")
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket=bucket, Key="secret/key")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# ops.emulator filters this warning of moto's out at import, which pytest's own filters undo.
@pytest.mark.filterwarnings(r"ignore:Exception\(UnsupportedCall\)")
def test_a_call_moto_lacks_fails_at_once_instead_of_being_retried(client):
    ecs = client("ecs", retries={"mode": "standard", "max_attempts": 5})
    started = time.monotonic()
    with pytest.raises(ClientError) as error:
        ecs.get_task_protection(cluster="default")
    assert error.value.response["Error"]["Code"] == "InvalidAction"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert "GetTaskProtection" in str(error.value)
    assert time.monotonic() - started < 5


def codedeploy_group(client, **settings) -> tuple[str, str]:
    """A CodeDeploy ECS application and a deployment group of the same name in it."""
    codedeploy, name = client("codedeploy"), unique("app")
    codedeploy.create_application(applicationName=name, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=name, deploymentGroupName=name,
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy", **settings)
    return name, name


def test_codedeploy_application_times_are_numbers(client, emulator):
    import urllib.request

    name, _ = codedeploy_group(client)
    # boto3 parses either form; the provider (Go SDK) accepts only the number AWS sends.
    request = urllib.request.Request(
        emulator.endpoint_url, data=json.dumps({"applicationName": name}).encode(),
        headers={"X-Amz-Target": "CodeDeploy_20141006.GetApplication",
                 "Content-Type": "application/x-amz-json-1.1",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/"
                                  f"{REGION}/codedeploy/aws4_request, SignedHeaders=host, "
                                  "Signature=x"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        application = json.loads(answer.read())["application"]
    assert isinstance(application["createTime"], (int, float))
    assert abs(application["createTime"] - time.time()) < 600


def test_codedeploy_deployment_group_keeps_its_alarms(client):
    alarms = {"enabled": True, "ignorePollAlarmFailure": False,
              "alarms": [{"name": "hello-world-uat-alb-5xx"}]}
    application, group = codedeploy_group(client, alarmConfiguration=alarms)
    described = client("codedeploy").get_deployment_group(
        applicationName=application, deploymentGroupName=group)["deploymentGroupInfo"]
    assert described["alarmConfiguration"] == alarms
    assert described["outdatedInstancesStrategy"] == "UPDATE"


def test_codedeploy_deployment_group_update_and_delete(client):
    codedeploy = client("codedeploy")
    application, group = codedeploy_group(
        client, deploymentConfigName="CodeDeployDefault.ECSAllAtOnce")
    codedeploy.update_deployment_group(
        applicationName=application, currentDeploymentGroupName=group,
        newDeploymentGroupName=f"{group}-2",
        deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
        alarmConfiguration={"enabled": True, "alarms": [{"name": "a"}]})
    described = codedeploy.get_deployment_group(
        applicationName=application, deploymentGroupName=f"{group}-2")["deploymentGroupInfo"]
    assert described["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert described["alarmConfiguration"] == {"enabled": True, "alarms": [{"name": "a"}]}
    assert codedeploy.list_deployment_groups(
        applicationName=application)["deploymentGroups"] == [f"{group}-2"]

    codedeploy.delete_deployment_group(applicationName=application,
                                       deploymentGroupName=f"{group}-2")
    assert codedeploy.list_deployment_groups(applicationName=application)["deploymentGroups"] == []
    with pytest.raises(ClientError) as error:
        codedeploy.get_deployment_group(applicationName=application,
                                        deploymentGroupName=f"{group}-2")
    assert error.value.response["Error"]["Code"] == "DeploymentGroupDoesNotExistException"


def test_codedeploy_application_update_and_delete(client):
    codedeploy = client("codedeploy")
    application, group = codedeploy_group(client)
    codedeploy.update_application(applicationName=application,
                                  newApplicationName=f"{application}-2")
    assert codedeploy.get_application(
        applicationName=f"{application}-2")["application"]["computePlatform"] == "ECS"
    assert codedeploy.list_deployment_groups(
        applicationName=f"{application}-2")["deploymentGroups"] == [group]

    codedeploy.delete_application(applicationName=f"{application}-2")
    assert f"{application}-2" not in codedeploy.list_applications()["applications"]
    with pytest.raises(ClientError) as error:
        codedeploy.get_application(applicationName=f"{application}-2")
    assert error.value.response["Error"]["Code"] == "ApplicationDoesNotExistException"
