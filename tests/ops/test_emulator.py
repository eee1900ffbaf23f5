"""The local AWS emulator (ops/emulator/): loopback only, managed policies, each gap it fills
for the stacks, and its command line. Runs moto in this process on a free port; no Terraform."""

import json
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ops.emulator import (HOST, Emulator, EmulatorError, PortInUseError, apply_patches,
                          aws_environment)

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
                       **{"desiredCount": 1, **settings})
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


def test_the_aws_path_imports_nothing_of_moto():
    code = ("import sys, ops.deploy, ops.release, ops.plan, ops.apply, ops.image, ops.aws\n"
            "print(sorted({name.split('.')[0] for name in sys.modules} & {'moto', 'werkzeug'}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_patches_refuse_a_moto_version_they_were_not_written_for(monkeypatch):
    from ops.emulator import patches

    monkeypatch.setattr(patches.metadata, "version", lambda name: "5.3.0")
    with pytest.raises(EmulatorError) as error:
        patches.apply_patches()
    assert str(error.value).startswith(
        "moto 5.3.0 is installed, but the emulator's patches were written for moto 5.2.1: "
        "install moto==5.2.1")
    assert "\n" not in str(error.value)


def test_a_patch_whose_moto_attribute_is_gone_fails_naming_it(monkeypatch):
    from moto.elbv2.models import ELBv2Backend

    from ops.emulator.patches import elbv2

    monkeypatch.delattr(ELBv2Backend, "delete_load_balancer")
    with pytest.raises(EmulatorError, match=r"^cannot patch moto\.elbv2\.models\.ELBv2Backend"
                                            r"\.delete_load_balancer: moto no longer has it"):
        elbv2.enforce_deletion_protection()


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


def policy_of_size(characters: int, indent: int = 0) -> str:
    """A policy document of exactly `characters` characters other than whitespace (pretty
    printed with `indent`, whose whitespace IAM does not count)."""
    def document(name: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]},
            indent=indent or None, separators=None if indent else (",", ":"))
    bare = len(json.dumps(json.loads(document("")), separators=(",", ":")))
    return document("b" * (characters - bare))


def test_iam_refuses_policies_past_its_size_quotas_not_counting_whitespace(client):
    iam = client("iam")
    role = unique("quota")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    # A role's inline policies: 10,240 characters together.
    iam.put_role_policy(RoleName=role, PolicyName="a", PolicyDocument=policy_of_size(6000, 4))
    iam.put_role_policy(RoleName=role, PolicyName="b", PolicyDocument=policy_of_size(4240))
    with pytest.raises(ClientError) as error:
        iam.put_role_policy(RoleName=role, PolicyName="c", PolicyDocument=policy_of_size(100))
    assert error.value.response["Error"]["Code"] == "LimitExceeded"
    assert f"Maximum policy size of 10240 bytes exceeded for role {role}" in str(error.value)
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["a", "b"]
    iam.put_role_policy(RoleName=role, PolicyName="b", PolicyDocument=policy_of_size(4000))
    # A managed policy: 6,144; and 10 of them attached to a role.
    with pytest.raises(ClientError) as error:
        iam.create_policy(PolicyName=unique("big"), PolicyDocument=policy_of_size(6145))
    assert "Cannot exceed quota for PolicySize: 6144" in str(error.value)
    arns = [iam.create_policy(PolicyName=unique("fits"), PolicyDocument=policy_of_size(
        6144, 2))["Policy"]["Arn"] for _ in range(11)]
    with pytest.raises(ClientError) as error:
        iam.create_policy_version(PolicyArn=arns[0], PolicyDocument=policy_of_size(6145))
    assert error.value.response["Error"]["Code"] == "LimitExceeded"
    for arn in arns[:10]:
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arns[0])  # attached already: no change
    with pytest.raises(ClientError) as error:
        iam.attach_role_policy(RoleName=role, PolicyArn=arns[10])
    assert "Cannot exceed quota for PoliciesPerRole: 10" in str(error.value)
    assert len(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]) == 10
    # A trust policy: 2,048.
    with pytest.raises(ClientError) as error:
        iam.create_role(RoleName=unique("trust"), AssumeRolePolicyDocument=json.dumps(
            {**json.loads(trust), "Id": "x" * 2048}))
    assert "Cannot exceed quota for ACLSizePerRole: 2048" in str(error.value)


def test_a_bucket_with_versioning_suspended_can_be_emptied_version_by_version(client):
    """What Terraform's force_destroy does after destroying the bucket's versioning: a key with
    versions and delete markers (an S3 lock file) deleted by version ID."""
    s3 = client("s3")
    bucket = unique("tfstate")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for _ in range(2):
        s3.put_object(Bucket=bucket, Key="uat/app.tfstate.tflock", Body=b"{}", IfNoneMatch="*")
        s3.delete_object(Bucket=bucket, Key="uat/app.tfstate.tflock")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    listed = s3.list_object_versions(Bucket=bucket)
    objects = [{"Key": item["Key"], "VersionId": item["VersionId"]}
               for item in listed["Versions"] + listed["DeleteMarkers"]]
    assert len(objects) == 4
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    assert len(deleted["Deleted"]) == 4 and not deleted.get("Errors")
    s3.delete_bucket(Bucket=bucket)


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


# ops.emulator.patches.errors filters this warning of moto's out at import, which pytest's own filters undo.
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


# --- Rollouts (ops/release.py) -------------------------------------------------------------------

# Emulator seconds per AWS second: a task's start (60 AWS seconds, no load balancer here)
# takes 0.6 s, long enough to see a rollout in progress on a busy machine.
TIME_SCALE = 0.01
TASK_START = 60  # AWS seconds (ops/emulator/patches/ecs.py TASK_START_SECONDS)
CIRCUIT_BREAKER = {"maximumPercent": 200, "minimumHealthyPercent": 100,
                   "deploymentCircuitBreaker": {"enable": True, "rollback": True}}


@pytest.fixture
def quick_rollouts(monkeypatch):
    """Rollouts at TIME_SCALE; images ending in :broken fail."""
    monkeypatch.setenv("EMULATOR_TIME_SCALE", str(TIME_SCALE))
    monkeypatch.setenv("EMULATOR_FAILING_IMAGES", "*:broken, *@sha256:0bad*")


@contextmanager
def real_time(monkeypatch):
    """The emulator at AWS's pace (scale 1) for the block, so a rollout read there as in
    progress cannot finish while a busy machine answers slowly. Back at TIME_SCALE after: a
    rollout's AWS seconds count from its start, so whatever is due by then happens at once."""
    monkeypatch.setenv("EMULATOR_TIME_SCALE", "1")
    try:
        yield
    finally:
        monkeypatch.setenv("EMULATOR_TIME_SCALE", str(TIME_SCALE))


def aws_sleep(seconds: float) -> None:
    """Let `seconds` AWS seconds pass in the emulator (and a little more)."""
    time.sleep(seconds * TIME_SCALE + 0.1)


def task_definition(client, family: str, image: str) -> str:
    return client("ecs").register_task_definition(family=family, containerDefinitions=[
        {"name": "web", "image": image, "memory": 512}])["taskDefinition"]["taskDefinitionArn"]


def settled(client, cluster: str, service: str, seconds: float = TASK_START) -> dict:
    """The service once the deployment in progress had `seconds` AWS seconds to finish."""
    aws_sleep(seconds)
    return describe_service(client, cluster, service)


def test_ecs_update_service_rolls_out_the_new_task_definition(
        client, quick_rollouts, monkeypatch):
    cluster, service = ecs_service(client, deploymentConfiguration=CIRCUIT_BREAKER)
    (first,) = settled(client, cluster, service)["deployments"]
    assert (first["rolloutState"], first["runningCount"]) == ("COMPLETED", 1)
    second = task_definition(client, service, "crccheck/hello-world:v2")

    with real_time(monkeypatch):
        client("ecs").update_service(cluster=cluster, service=service, taskDefinition=second)
        primary, active = describe_service(client, cluster, service)["deployments"]
    assert (primary["status"], primary["taskDefinition"], primary["rolloutState"]) == (
        "PRIMARY", second, "IN_PROGRESS")
    assert (active["status"], active["id"]) == ("ACTIVE", first["id"])

    described = settled(client, cluster, service)
    (done,) = described["deployments"]
    assert (done["id"], done["rolloutState"], done["runningCount"], done["desiredCount"]) == (
        primary["id"], "COMPLETED", 1, 1)
    assert described["taskDefinition"] == second
    assert described["runningCount"] == 1
    assert "has reached a steady state" in described["events"][0]["message"]


def test_ecs_circuit_breaker_rolls_a_failing_image_back(client, quick_rollouts):
    cluster, service = ecs_service(client, deploymentConfiguration=CIRCUIT_BREAKER)
    first = settled(client, cluster, service)["taskDefinition"]
    broken = task_definition(client, service, "crccheck/hello-world:broken")

    client("ecs").update_service(cluster=cluster, service=service, taskDefinition=broken)
    seen = watch(lambda: describe_service(client, cluster, service),
                 lambda described: described["deployments"][-1]["rolloutState"] == "FAILED")
    # Each failed launch takes TASK_START; the third is ECS's threshold. (Read as it goes: a
    # single read after a sleep can miss a 0.6 s step on a busy machine.)
    launches = [described["deployments"][0] for described in seen[:-1]]
    assert {(one["taskDefinition"], one["rolloutState"]) for one in launches} == {
        (broken, "IN_PROGRESS")}
    failures = [one["failedTasks"] for one in launches]
    assert failures == sorted(failures) and set(failures) <= {0, 1, 2}
    assert set(failures) & {1, 2}, failures  # failed launches are counted before the threshold
    described = seen[-1]
    rollback, failed = described["deployments"]
    assert (failed["taskDefinition"], failed["rolloutState"], failed["rolloutStateReason"]) == (
        broken, "FAILED", "ECS deployment circuit breaker: tasks failed to start.")
    assert (rollback["status"], rollback["taskDefinition"]) == ("PRIMARY", first)
    assert described["taskDefinition"] == first
    assert "deployment failed: tasks failed to start" in described["events"][1]["message"]
    assert "rolling back to deployment" in described["events"][0]["message"]

    (done,) = settled(client, cluster, service)["deployments"]
    assert (done["taskDefinition"], done["rolloutState"]) == (first, "COMPLETED")


def test_ecs_without_circuit_breaker_a_failing_image_never_completes(client, quick_rollouts):
    cluster, service = ecs_service(client)
    settled(client, cluster, service)
    broken = task_definition(client, service, "repo@sha256:0bad" + "0" * 60)
    client("ecs").update_service(cluster=cluster, service=service, taskDefinition=broken)
    primary = settled(client, cluster, service)["deployments"][0]
    assert (primary["taskDefinition"], primary["rolloutState"]) == (broken, "IN_PROGRESS")


def blue_green_service(client) -> tuple[str, str, str]:
    """A CODE_DEPLOY-controlled service and a deployment group for it: (cluster, name, task
    definition ARN)."""
    cluster, name = ecs_service(client, deploymentController={"type": "CODE_DEPLOY"})
    client("codedeploy").create_application(applicationName=name, computePlatform="ECS")
    client("codedeploy").create_deployment_group(
        applicationName=name, deploymentGroupName=name,
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN",
                         "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"clusterName": cluster, "serviceName": name}])
    return cluster, name, describe_service(client, cluster, name)["taskDefinition"]


def deploy_with_appspec(client, name: str, task_definition_arn: str) -> str:
    appspec = {"version": 0.0, "Resources": [{"TargetService": {
        "Type": "AWS::ECS::Service", "Properties": {
            "TaskDefinition": task_definition_arn,
            "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8000}}}}]}
    return client("codedeploy").create_deployment(
        applicationName=name, deploymentGroupName=name,
        revision={"revisionType": "AppSpecContent",
                  "appSpecContent": {"content": json.dumps(appspec)}})["deploymentId"]


def codedeploy_of(client, image: str) -> tuple[str, str, str, str, str]:
    """A blue/green service, and a CodeDeploy deployment of `image` to it just started:
    (cluster, name, the task definition it runs, the one deployed, the deployment's id)."""
    cluster, name, first = blue_green_service(client)
    deployed = task_definition(client, name, image)
    return cluster, name, first, deployed, deploy_with_appspec(client, name, deployed)


def test_codedeploy_ecs_deployment_shifts_the_service_to_the_new_task_definition(
        client, quick_rollouts, monkeypatch):
    codedeploy = client("codedeploy")
    with real_time(monkeypatch):
        cluster, name, first, second, deployment = codedeploy_of(
            client, "crccheck/hello-world:v2")
        assert codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"][
            "status"] == "InProgress"
        with pytest.raises(ClientError) as error:  # one active deployment per group, as in AWS
            deploy_with_appspec(client, name, second)
        assert error.value.response["Error"]["Code"] == "DeploymentLimitExceededException"
        assert describe_service(client, cluster, name)["taskDefinition"] == first

    aws_sleep(TASK_START)
    (info,) = codedeploy.batch_get_deployments(deploymentIds=[deployment])["deploymentsInfo"]
    assert info["status"] == "Succeeded"
    described = describe_service(client, cluster, name)
    assert described["taskDefinition"] == second
    assert described["runningCount"] == described["desiredCount"] == 1


def test_codedeploy_ecs_deployment_of_a_failing_image_fails_and_keeps_the_service(
        client, quick_rollouts):
    cluster, name, first, _, deployment = codedeploy_of(client, "crccheck/hello-world:broken")
    aws_sleep(TASK_START)
    info = client("codedeploy").get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert "tasks failed to start" in info["errorInformation"]["message"]
    assert describe_service(client, cluster, name)["taskDefinition"] == first


def test_codedeploy_deployment_without_an_appspec_task_definition_is_refused(client):
    _, name, _ = blue_green_service(client)
    with pytest.raises(ClientError) as error:
        client("codedeploy").create_deployment(
            applicationName=name, deploymentGroupName=name,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}})
    assert error.value.response["Error"]["Code"] == "InvalidRevisionException"


# --- Rollouts take AWS's time, scaled (ops/emulator/patches/clock.py) -------------------------


def watch(read, done, timeout: float = 20.0, poll: float = 0.02) -> list:
    """read() every `poll` seconds until done(its value): every value read, in order."""
    seen, deadline = [], time.monotonic() + timeout
    while True:
        seen.append(read())
        if done(seen[-1]):
            return seen
        assert time.monotonic() < deadline, f"not done after {timeout}s: {seen[-1]}"
        time.sleep(poll)


def load_balanced(client, cidr: str, **group_settings) -> dict:
    """An ALB with a production listener (port 80) and a test listener (8080) and two target
    groups, blue (behind both) and green, health checked healthy after 2 x 5 s."""
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{index}.0/24",
                                 AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
               for index, zone in enumerate("ab")]
    alb = elbv2.create_load_balancer(Name=unique("alb"), Subnets=subnets, Type="application")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    groups = {}
    for color in ("blue", "green"):
        group = elbv2.create_target_group(
            Name=unique(color), Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip",
            HealthCheckIntervalSeconds=5, HealthyThresholdCount=2, **group_settings)
        groups[color] = group["TargetGroups"][0]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=groups[color]["TargetGroupArn"],
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    listeners = {port: elbv2.create_listener(
        LoadBalancerArn=alb, Protocol="HTTP", Port=port, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": groups["blue"]["TargetGroupArn"]}])[
        "Listeners"][0]["ListenerArn"] for port in (80, 8080)}
    return {"groups": groups, "production": listeners[80], "test": listeners[8080],
            "subnets": subnets}


def weights(client, listener: str, stack: dict) -> dict:
    """The listener's traffic per target group color, in percent."""
    (action,) = client("elbv2").describe_listeners(ListenerArns=[listener])["Listeners"][0][
        "DefaultActions"]
    names = {group["TargetGroupArn"]: color for color, group in stack["groups"].items()}
    forwarded = action.get("ForwardConfig", {}).get("TargetGroups") or [
        {"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
    total = sum(group["Weight"] for group in forwarded)
    return {names[group["TargetGroupArn"]]: 100 * group["Weight"] // total
            for group in forwarded if group["Weight"]}


def blue_green_deployment_group(client, stack: dict, config: str, wait_minutes: int,
                                **settings) -> tuple[str, str, str, str]:
    """A CODE_DEPLOY service behind the stack's blue group and its deployment group;
    (cluster, name, its task definition, a new task definition to deploy)."""
    cluster, name = ecs_service(client, deploymentController={"type": "CODE_DEPLOY"},
                                loadBalancers=[{
                                    "targetGroupArn": stack["groups"]["blue"]["TargetGroupArn"],
                                    "containerName": "web", "containerPort": 8000}])
    client("codedeploy").create_application(applicationName=name, computePlatform="ECS")
    client("codedeploy").create_deployment_group(
        applicationName=name, deploymentGroupName=name, deploymentConfigName=config,
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN",
                         "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE", "terminationWaitTimeInMinutes": wait_minutes}},
        loadBalancerInfo={"targetGroupPairInfoList": [{
            "targetGroups": [{"name": stack["groups"][color]["TargetGroupName"]}
                             for color in ("blue", "green")],
            "prodTrafficRoute": {"listenerArns": [stack["production"]]},
            "testTrafficRoute": {"listenerArns": [stack["test"]]}}]},
        ecsServices=[{"clusterName": cluster, "serviceName": name}], **settings)
    first = describe_service(client, cluster, name)["taskDefinition"]
    return cluster, name, first, task_definition(client, name, "crccheck/hello-world:v2")


def test_codedeploy_linear_shift_takes_its_steps_then_the_termination_wait(client,
                                                                           monkeypatch):
    """Linear 10% every 3 minutes + a 5-minute wait (32 AWS minutes) at 0.002: ~4 s."""
    scale = 0.002
    monkeypatch.setenv("EMULATOR_TIME_SCALE", str(scale))
    codedeploy, stack = client("codedeploy"), load_balanced(client, "10.92")
    cluster, name, first, second = blue_green_deployment_group(
        client, stack, "CodeDeployDefault.ECSLinear10PercentEvery3Minutes", wait_minutes=5)
    started = time.monotonic()
    deployment = deploy_with_appspec(client, name, second)
    (target,) = codedeploy.list_deployment_targets(deploymentId=deployment)["targetIds"]
    assert target == f"{cluster}:{name}"

    def read() -> dict:  # in this order: each read may see the deployment a moment later
        asked = time.monotonic() - started  # (a lower bound of the moment the reads show)
        service = describe_service(client, cluster, name)["taskDefinition"]
        info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
        ecs_target = codedeploy.get_deployment_target(
            deploymentId=deployment, targetId=target)["deploymentTarget"]["ecsTarget"]
        return {"status": info["status"], "asked": asked,
                "seconds": time.monotonic() - started,
                "waiting": info["instanceTerminationWaitTimeStarted"],
                "target": ecs_target["status"],
                "events": {event["lifecycleEventName"]: event["status"]
                           for event in ecs_target["lifecycleEvents"]},
                "green": {task_set["taskSetLabel"]: task_set["trafficWeight"]
                          for task_set in ecs_target["taskSetsInfo"]}["Green"],
                "listener": weights(client, stack["production"], stack),
                "test": weights(client, stack["test"], stack), "service": service}

    seen = watch(read, lambda state: state["status"] != "InProgress")
    assert seen[-1]["status"] == "Succeeded"
    # Install (60 s + health checks 2 x 5 s), 9 steps of 3 minutes, 5 minutes' wait.
    assert seen[-1]["seconds"] >= (70 + 27 * 60 + 5 * 60) * scale
    assert all(state["status"] == "InProgress" for state in seen[:-1])

    shifting = [state for state in seen if 0 < state["green"] < 100]
    partial = {state["green"] for state in shifting}  # steps of 10 (a slow read skips one)
    assert len(partial) >= 3 and partial <= {10.0 * step for step in range(1, 10)}
    for state in shifting:  # the listener is read a moment after the target: as far or further
        green = state["listener"].get("green", 0)
        assert state["green"] <= green and green % 10 == 0
        assert state["listener"] in ({"blue": 100 - green, "green": green}, {"green": 100})
        assert state["test"] == {"green": 100}
        assert state["events"]["Install"] == state["events"]["AllowTestTraffic"] == "Succeeded"
        assert (state["events"]["AllowTraffic"], state["target"]) == ("InProgress",
                                                                     "InProgress")
        assert (state["service"], state["waiting"]) == (first, False)
    assert [state["green"] for state in seen] == sorted(state["green"] for state in seen)

    # The termination wait: shifted, not yet Succeeded, for 5 AWS minutes at least.
    assert seen[-1]["seconds"] - shifting[-1]["asked"] >= 5 * 60 * scale
    waiting = [state for state in seen if state["waiting"]]
    assert waiting[0]["status"] == "InProgress" and len(waiting) >= 2
    for state in waiting[1:]:  # (the first one's service was read before the shift ended)
        assert (state["green"], state["listener"], state["target"], state["service"]) == (
            100.0, {"green": 100}, "Succeeded", second)
        assert set(state["events"].values()) == {"Succeeded"}
    assert (seen[-1]["listener"], seen[-1]["service"]) == ({"green": 100}, second)


def test_codedeploy_alarm_during_the_shift_stops_and_rolls_back(client, monkeypatch):
    scale = 0.002  # canary: 10% for 15 AWS minutes (1.8 s)
    monkeypatch.setenv("EMULATOR_TIME_SCALE", str(scale))
    codedeploy, cloudwatch = client("codedeploy"), client("cloudwatch")
    stack = load_balanced(client, "10.93")
    alarm = unique("target-5xx")
    cloudwatch.put_metric_alarm(AlarmName=alarm, MetricName="HTTPCode_Target_5XX_Count",
                                Namespace="AWS/ApplicationELB", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")
    cluster, name, first, second = blue_green_deployment_group(
        client, stack, "CodeDeployDefault.ECSCanary10Percent15Minutes", wait_minutes=5,
        alarmConfiguration={"enabled": True, "alarms": [{"name": alarm}]},
        autoRollbackConfiguration={"enabled": True, "events": [
            "DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]})
    deployment = deploy_with_appspec(client, name, second)
    watch(lambda: weights(client, stack["production"], stack),
          lambda traffic: traffic == {"blue": 90, "green": 10})

    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx")
    info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert f"Activated alarms: <{alarm}>" in info["errorInformation"]["message"]
    assert "rollback" in info["rollbackInfo"]["rollbackMessage"].lower()
    for listener in ("production", "test"):
        assert weights(client, stack[listener], stack) == {"blue": 100}
    assert describe_service(client, cluster, name)["taskDefinition"] == first
    ecs_target = codedeploy.get_deployment_target(
        deploymentId=deployment, targetId=f"{cluster}:{name}")["deploymentTarget"]["ecsTarget"]
    events = {event["lifecycleEventName"]: event["status"]
              for event in ecs_target["lifecycleEvents"]}
    assert (events["Install"], events["AllowTraffic"], events["AfterAllowTraffic"]) == (
        "Succeeded", "Failed", "Skipped")
    time.sleep(25 * 60 * scale)  # long past the canary's end: it stays stopped
    assert codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"][
        "status"] == "Stopped"
    assert weights(client, stack["production"], stack) == {"blue": 100}


def primary_task_set(client, cluster: str, name: str, stack: dict) -> tuple[str, str]:
    """(task definition, target group color) of the service's PRIMARY task set."""
    (task_set,) = [one for one in describe_service(client, cluster, name)["taskSets"]
                   if one["status"] == "PRIMARY"]
    colors = {group["TargetGroupArn"]: color for color, group in stack["groups"].items()}
    (balancer,) = task_set["loadBalancers"]
    return task_set["taskDefinition"], colors[balancer["targetGroupArn"]]


def test_codedeploy_stop_during_the_termination_wait_rolls_back(client, monkeypatch):
    monkeypatch.setenv("EMULATOR_TIME_SCALE", "0.002")
    codedeploy, stack = client("codedeploy"), load_balanced(client, "10.94")
    cluster, name, first, second = blue_green_deployment_group(
        client, stack, "CodeDeployDefault.ECSAllAtOnce", wait_minutes=60)
    deployment = deploy_with_appspec(client, name, second)
    watch(lambda: codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"],
          lambda info: info["instanceTerminationWaitTimeStarted"])
    assert weights(client, stack["production"], stack) == {"green": 100}
    assert describe_service(client, cluster, name)["taskDefinition"] == second
    # As ECS reports a CODE_DEPLOY service: production's task set, on the target group it serves.
    assert primary_task_set(client, cluster, name, stack) == (second, "green")

    assert codedeploy.stop_deployment(deploymentId=deployment, autoRollbackEnabled=True)[
        "status"] == "Succeeded"
    info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert (info["status"], info["errorInformation"]["code"]) == ("Stopped", "MANUAL_STOP")
    assert weights(client, stack["production"], stack) == {"blue": 100}
    assert describe_service(client, cluster, name)["taskDefinition"] == first
    assert primary_task_set(client, cluster, name, stack) == (first, "blue")
    with pytest.raises(ClientError) as error:
        codedeploy.stop_deployment(deploymentId=deployment)
    assert error.value.response["Error"]["Code"] == "DeploymentAlreadyCompletedException"


def test_codedeploy_refuses_a_deployment_config_it_does_not_know(client):
    stack = load_balanced(client, "10.95")
    _, name, _, second = blue_green_deployment_group(
        client, stack, "CodeDeployDefault.ECSAllAtOnce", wait_minutes=0)
    with pytest.raises(ClientError) as error:
        client("codedeploy").create_deployment(
            applicationName=name, deploymentGroupName=name,
            deploymentConfigName="Custom.Linear50PercentEvery2Minutes",
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(
                {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service",
                 "Properties": {"TaskDefinition": second}}}]})}})
    assert error.value.response["Error"]["Code"] == "DeploymentConfigDoesNotExistException"
    assert client("codedeploy").list_deployments(applicationName=name, deploymentGroupName=name)[
        "deployments"] == []


def test_ecs_rolling_deployment_starts_tasks_then_drains_the_old_ones(client, monkeypatch):
    """4 tasks start over 60 s, are healthy 10 s later, the old ones drain 30 s: at 0.01,
    1 s in all."""
    scale = 0.01
    monkeypatch.setenv("EMULATOR_TIME_SCALE", str(scale))
    stack = load_balanced(client, "10.96")
    cluster, service = ecs_service(client, desiredCount=4, loadBalancers=[{
        "targetGroupArn": stack["groups"]["blue"]["TargetGroupArn"], "containerName": "web",
        "containerPort": 8000}])
    watch(lambda: describe_service(client, cluster, service)["deployments"][0],
          lambda first: first["rolloutState"] == "COMPLETED")
    second = task_definition(client, service, "crccheck/hello-world:v2")
    started = time.monotonic()
    client("ecs").update_service(cluster=cluster, service=service, taskDefinition=second)

    def read() -> dict:
        # The answer shows a moment between asking and answering: bound each side by the
        # right one (a busy machine answers tens of ms late).
        asked = time.monotonic() - started
        described = describe_service(client, cluster, service)
        primary = described["deployments"][0]
        return {"asked": asked, "seconds": time.monotonic() - started,
                "state": primary["rolloutState"],
                "running": primary["runningCount"], "deployments": len(
                    described["deployments"]), "service": described["runningCount"]}

    seen = watch(read, lambda state: state["state"] == "COMPLETED")
    assert seen[-1]["seconds"] >= (60 + 10 + 30) * scale
    assert (seen[-1]["running"], seen[-1]["deployments"], seen[-1]["service"]) == (4, 1, 4)
    progress = seen[:-1]
    assert {state["state"] for state in progress} == {"IN_PROGRESS"}
    assert {state["running"] for state in progress} & {1, 2, 3}  # one after another
    assert [state["running"] for state in progress] == sorted(
        state["running"] for state in progress)
    assert all(state["deployments"] == 2 for state in progress)  # the old one still runs
    assert max(state["service"] for state in progress) == 8
    starting = [state for state in progress if state["running"] < 4]
    assert seen[-1]["seconds"] - starting[-1]["asked"] >= (10 + 30) * scale  # health, drain
    events = [event["message"] for event in describe_service(client, cluster, service)["events"]]
    assert "has reached a steady state" in events[0]
    assert "has begun draining connections" in events[1]


def test_a_bad_time_scale_stops_the_emulator_start_with_one_line(monkeypatch):
    monkeypatch.setenv("EMULATOR_TIME_SCALE", "fast")
    with pytest.raises(EmulatorError) as error:
        Emulator(port=0).start()
    assert str(error.value) == (
        "EMULATOR_TIME_SCALE='fast': want a number of emulator seconds per AWS second above 0 "
        "and at most 10, e.g. 0.002")


@pytest.mark.filterwarnings(r"ignore:Exception\(UnsupportedCall\)")  # moto: no such repository
def test_put_image_pushes_a_stand_in_image_and_prints_its_digest(client, emulator):
    from ops.emulator import put_test_image

    ecr, repository = client("ecr"), unique("project/app")
    ecr.create_repository(repositoryName=repository)
    digest = put_test_image(ecr, repository, "3f9c2e1a7b4d")
    run = run_cli("put-image", "--port", str(emulator.port), "--repository", repository,
                  "--tag", "v2")
    assert run.returncode == 0, run.stderr
    images = {image["imageTags"][0]: image["imageDigest"]
              for image in ecr.describe_images(repositoryName=repository)["imageDetails"]}
    assert images == {"3f9c2e1a7b4d": digest, "v2": run.stdout.strip()}
    assert digest.startswith("sha256:") and digest != images["v2"]

    missing = run_cli("put-image", "--port", str(emulator.port), "--repository", "no/such",
                      "--tag", "v1")
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: no/such:v1: ") and missing.stderr.count("\n") == 1


def test_concurrent_requests_are_answered_one_at_a_time(client):
    """moto's IAM CreateRole iterates the roles while another CreateRole adds one; Terraform
    creates roles in parallel. Every one of many concurrent creates must succeed."""
    from concurrent.futures import ThreadPoolExecutor

    iam = client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})

    def create(number: int) -> str:
        return iam.create_role(RoleName=f"concurrent-{number}",
                               AssumeRolePolicyDocument=trust)["Role"]["RoleName"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        created = list(pool.map(create, range(200)))
    assert sorted(created) == sorted(f"concurrent-{n}" for n in range(200))
