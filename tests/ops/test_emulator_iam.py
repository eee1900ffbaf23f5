"""IAM enforced in the emulator (ops/emulator/iam/): requests made with an assumed role's
credentials are refused where AWS would refuse them, by action, resource ARN, condition,
explicit deny and permissions boundary; what AWS authorizes as the caller on its behalf too; the
trust policy decides who assumes a role. Runs moto in this process on a free port."""

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from ops.emulator.iam import mint_token, read_denials, web_identity_environment

REGION = "ap-south-1"
ACCOUNT = "123456789012"
REPO = "acme/shop"
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def document(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **condition):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.fixture(scope="module")
def emulator(enforcing_emulator):
    return enforcing_emulator


@pytest.fixture(scope="module")
def admin(admin_client):
    make = admin_client
    admin_iam = make("iam")
    try:  # the session's emulator: another module may have made the account's provider
        admin_iam.create_open_id_connect_provider(
            Url="https://token.actions.githubusercontent.com",
            ClientIDList=["sts.amazonaws.com"],
            ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])
    except admin_iam.exceptions.EntityAlreadyExistsException:
        pass
    return make


def trusting_account():
    return document({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                     "Action": "sts:AssumeRole"})


def role(admin, *statements, boundary=None, trust=None, max_session=3600) -> str:
    """A role with `statements` inline, assumable by the account; returns its ARN."""
    iam = admin("iam")
    name = unique("role")
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust or trusting_account(),
                          MaxSessionDuration=max_session, **extra)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=document(*statements))
    return arn


def as_role(emulator, admin, role_arn):
    credentials = admin("sts").assume_role(RoleArn=role_arn, RoleSessionName="ci")["Credentials"]

    def make(service):
        return boto3.client(service, region_name=REGION, endpoint_url=emulator.endpoint_url,
                            aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])
    return make


def denied(call, code=None) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    if code:
        assert error["Code"] == code, error
    return error["Message"]


def test_admin_credentials_are_not_evaluated(admin):
    assert admin("ecs").create_cluster(clusterName=unique("c"))["cluster"]["status"] == "ACTIVE"


def test_allowed_and_denied_by_action(emulator, admin):
    client = as_role(emulator, admin, role(admin, allow("sns:ListTopics")))
    client("sns").list_topics()
    message = denied(lambda: client("sqs").list_queues())
    assert "is not authorized to perform: sqs:ListQueues" in message
    assert "because no identity-based policy allows the sqs:ListQueues action" in message


def test_by_resource_arn_of_an_ecs_cluster(emulator, admin):
    granted, other = unique("c"), unique("c")
    admin("ecs").create_cluster(clusterName=granted)
    admin("ecs").create_cluster(clusterName=other)
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{granted}"
    client = as_role(emulator, admin, role(admin, allow("ecs:DescribeClusters", arn)))
    assert client("ecs").describe_clusters(clusters=[granted])["clusters"][0]["clusterName"] \
        == granted
    message = denied(lambda: client("ecs").describe_clusters(clusters=[other]),
                     "AccessDeniedException")
    assert f"cluster/{other}" in message
    denial = emulator.denials()[-1]
    assert denial["action"] == "ecs:DescribeClusters"
    assert denial["resource"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{other}"
    assert denial["role"].endswith(":role/" + denial["role"].split("/")[-1])
    assert read_denials(emulator.denials_file)[-1]["resource"] == denial["resource"]


def test_query_protocol_answers_access_denied(emulator, admin):
    client = as_role(emulator, admin, role(admin))
    message = denied(lambda: client("iam").list_roles(), "AccessDenied")
    assert "iam:ListRoles" in message


def test_s3_object_by_key(emulator, admin):
    bucket = unique("state")
    admin("s3").create_bucket(Bucket=bucket,
                              CreateBucketConfiguration={"LocationConstraint": REGION})
    client = as_role(emulator, admin, role(
        admin, allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{bucket}/uat/*")))
    client("s3").put_object(Bucket=bucket, Key="uat/app.tfstate", Body=b"{}")
    client("s3").put_object(Bucket=bucket, Key="uat/app.tfstate.tflock", Body=b"{}",
                            IfNoneMatch="*")  # the S3 backend's lock file
    message = denied(lambda: client("s3").put_object(Bucket=bucket, Key="prod/app.tfstate",
                                                     Body=b"{}"), "AccessDenied")
    assert f"s3:PutObject on resource: arn:aws:s3:::{bucket}/prod/app.tfstate" in message


def test_explicit_deny_wins(emulator, admin):
    client = as_role(emulator, admin, role(
        admin, allow("sns:*"), {"Effect": "Deny", "Action": "sns:ListTopics", "Resource": "*"}))
    client("sns").list_subscriptions()
    assert "explicit deny" in denied(lambda: client("sns").list_topics())


def test_not_action(emulator, admin):
    client = as_role(emulator, admin, role(
        admin, {"Effect": "Allow", "NotAction": "sns:*", "Resource": "*"}))
    client("sqs").list_queues()
    denied(lambda: client("sns").list_topics())


def test_permissions_boundary_caps(emulator, admin):
    boundary = admin("iam").create_policy(
        PolicyName=unique("boundary"),
        PolicyDocument=document(allow("sns:ListTopics")))["Policy"]["Arn"]
    client = as_role(emulator, admin, role(admin, allow("sns:*"), allow("sqs:*"),
                                           boundary=boundary))
    client("sns").list_topics()
    assert "permissions boundary" in denied(lambda: client("sqs").list_queues())


def test_attached_managed_policy_counts(emulator, admin):
    arn = role(admin)
    admin("iam").attach_role_policy(RoleName=arn.split("/")[-1],
                                    PolicyArn="arn:aws:iam::aws:policy/AmazonSNSReadOnlyAccess")
    client = as_role(emulator, admin, arn)
    client("sns").list_topics()
    denied(lambda: client("sns").create_topic(Name=unique("t")))


def test_attach_role_policy_condition_on_policy_arn(emulator, admin):
    target = role(admin)
    allowed_policy = "arn:aws:iam::aws:policy/AmazonSNSReadOnlyAccess"
    client = as_role(emulator, admin, role(admin, allow(
        ["iam:AttachRolePolicy"], target, ArnEquals={"iam:PolicyARN": allowed_policy})))
    client("iam").attach_role_policy(RoleName=target.split("/")[-1], PolicyArn=allowed_policy)
    message = denied(lambda: client("iam").attach_role_policy(
        RoleName=target.split("/")[-1],
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"))
    assert "iam:AttachRolePolicy" in message


def register_passing_a_role(emulator, admin, passed_to: str):
    """A caller allowed to pass a task role only to `passed_to` registers a task definition
    with that role (ECS passes it to ecs-tasks.amazonaws.com): (the role's ARN, the call)."""
    task_role = role(admin)
    client = as_role(emulator, admin, role(
        admin, allow("ecs:RegisterTaskDefinition"),
        allow("iam:PassRole", task_role, StringEquals={"iam:PassedToService": passed_to})))
    return task_role, lambda: client("ecs").register_task_definition(
        family=unique("task"), taskRoleArn=task_role,
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 512}])


def test_pass_role_to_the_wrong_service(emulator, admin):
    task_role, register = register_passing_a_role(emulator, admin, "codedeploy.amazonaws.com")
    message = denied(register)
    assert f"iam:PassRole on resource: {task_role}" in message
    assert emulator.denials()[-1]["context"] == {"iam:PassedToService": "ecs-tasks.amazonaws.com"}


def test_pass_role_to_the_right_service(emulator, admin):
    _, register = register_passing_a_role(emulator, admin, "ecs-tasks.amazonaws.com")
    register()


def test_target_tracking_alarms_are_evaluated_as_the_caller(emulator, admin):
    cluster, service = unique("c"), unique("s")
    resource_id = f"service/{cluster}/{service}"
    admin("ecs").create_cluster(clusterName=cluster)
    admin("ecs").create_service(cluster=cluster, serviceName=service, desiredCount=1)
    admin("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=2)
    scaling = allow("application-autoscaling:PutScalingPolicy")
    policy = dict(PolicyName="cpu", ServiceNamespace="ecs", ResourceId=resource_id,
                  ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                  TargetTrackingScalingPolicyConfiguration={
                      "TargetValue": 60.0, "PredefinedMetricSpecification": {
                          "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    own_alarms = allow(["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms",
                        "cloudwatch:DeleteAlarms"],
                       f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{service}-*")
    client = as_role(emulator, admin, role(admin, scaling, own_alarms))
    message = denied(lambda: client("application-autoscaling").put_scaling_policy(**policy))
    assert f"cloudwatch:PutMetricAlarm on resource: arn:aws:cloudwatch:{REGION}:{ACCOUNT}:" \
           f"alarm:TargetTracking-{resource_id}-AlarmHigh-" in message
    tracking = allow(["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms",
                      "cloudwatch:DeleteAlarms"],
                     f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-{resource_id}-*")
    client = as_role(emulator, admin, role(admin, scaling, tracking))
    client("application-autoscaling").put_scaling_policy(**policy)


def test_first_cluster_needs_create_service_linked_role(emulator, admin):
    """Runs before anything creates the ECS service-linked role in this module's account."""
    iam = admin("iam")
    for existing in iam.list_roles(PathPrefix="/aws-service-role/ecs.amazonaws.com/")["Roles"]:
        iam.delete_service_linked_role(RoleName=existing["RoleName"])
    cluster = unique("c")
    clusters = allow("ecs:CreateCluster", f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/*")
    client = as_role(emulator, admin, role(admin, clusters))
    message = denied(lambda: client("ecs").create_cluster(clusterName=cluster))
    assert "iam:CreateServiceLinkedRole on resource: arn:aws:iam::123456789012:role/" \
           "aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS" in message
    client = as_role(emulator, admin, role(admin, clusters, allow(
        "iam:CreateServiceLinkedRole", "*",
        StringEquals={"iam:AWSServiceName": "ecs.amazonaws.com"})))
    client("ecs").create_cluster(clusterName=cluster)
    # AWS made the role: the next cluster needs no such permission.
    as_role(emulator, admin, role(admin, clusters))("ecs").create_cluster(
        clusterName=unique("c"))


def test_assume_role_trust_policy(emulator, admin):
    nobody = document({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                       "Action": "sts:AssumeRole"})
    arn = role(admin, trust=nobody)
    denied(lambda: admin("sts").assume_role(RoleArn=arn, RoleSessionName="ci"), "AccessDenied")
    assert emulator.denials()[-1]["action"] == "sts:AssumeRole"


def test_duration_beyond_max_session_duration(emulator, admin):
    arn = role(admin, max_session=3600)
    message = denied(lambda: admin("sts").assume_role(RoleArn=arn, RoleSessionName="ci",
                                                      DurationSeconds=7200), "ValidationError")
    assert "MaxSessionDuration" in message


def github_role(admin, *subjects, statements=()):
    trust = document({
        "Effect": "Allow", "Principal": {"Federated": OIDC},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud":
                                       "sts.amazonaws.com",
                                       "token.actions.githubusercontent.com:sub": list(subjects)}}})
    return role(admin, *statements, trust=trust)


def test_web_identity_with_the_trusted_subject(emulator, admin):
    subject = f"repo:{REPO}:environment:uat"
    arn = github_role(admin, subject, statements=[allow("sns:ListTopics")])
    env = web_identity_environment(emulator.endpoint_url, arn, mint_token(subject))
    sts = boto3.client("sts", region_name=REGION, endpoint_url=emulator.endpoint_url,
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=env["AWS_SESSION_TOKEN"])
    assert f":assumed-role/{arn.split('/')[-1]}/" in sts.get_caller_identity()["Arn"]


@pytest.mark.parametrize("subject", [f"repo:{REPO}:pull_request",
                                     f"repo:{REPO}:ref:refs/heads/main",
                                     "repo:someone/else:environment:uat"])
def test_web_identity_with_another_subject_is_refused(emulator, admin, subject):
    arn = github_role(admin, f"repo:{REPO}:environment:uat")
    with pytest.raises(ClientError) as raised:
        web_identity_environment(emulator.endpoint_url, arn, mint_token(subject))
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert subject in emulator.denials()[-1]["principal"]


def test_web_identity_with_the_wrong_audience(emulator, admin):
    subject = f"repo:{REPO}:environment:uat"
    arn = github_role(admin, subject)
    with pytest.raises(ClientError) as raised:
        web_identity_environment(emulator.endpoint_url, arn,
                                 mint_token(subject, audience="someone-else"))
    assert raised.value.response["Error"]["Code"] == "InvalidIdentityToken"


@pytest.mark.e2e
@pytest.mark.parametrize("resource, action, arn", [
    # the provider's CloudWatch Logs client speaks JSON; its CloudWatch client, per its SDK
    ("aws_cloudwatch_log_group", "logs:CreateLogGroup", "log-group:{name}"),
    ("aws_cloudwatch_metric_alarm", "cloudwatch:PutMetricAlarm", "alarm:{name}"),
])
def test_terraform_apply_under_a_role_without_the_permission_fails_naming_it(
        emulator, admin, tmp_path, resource, action, arn):
    """A small configuration, real Terraform and provider: the refusal reaches the apply."""
    from ops.emulator import aws_environment
    from ops.core.terraform import cli_environment, terraform

    name = unique("app")
    service = action.split(":")[0]
    role_arn = role(admin, allow(action, f"arn:aws:{service}:{REGION}:{ACCOUNT}:"
                                         + arn.format(name="other-*")))
    credentials = admin("sts").assume_role(RoleArn=role_arn,
                                           RoleSessionName="ci")["Credentials"]
    settings = {"aws_cloudwatch_log_group": {"name": name},
                "aws_cloudwatch_metric_alarm": {
                    "alarm_name": name, "comparison_operator": "GreaterThanThreshold",
                    "evaluation_periods": 1, "metric_name": "CPUUtilization",
                    "namespace": "AWS/ECS", "period": 60, "statistic": "Average",
                    "threshold": 80}}[resource]
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws",
                                                     "version": "5.100.0"}}},
        "provider": {"aws": {"region": REGION}},
        "resource": {resource: {"this": settings}}}))
    env = aws_environment(emulator.port, REGION, base=cli_environment())
    env.update(AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
               AWS_SESSION_TOKEN=credentials["SessionToken"], CHECKPOINT_DISABLE="1")
    assert terraform(tmp_path, "init", "-input=false", "-no-color", env=env,
                     check=False).returncode == 0
    applied = terraform(tmp_path, "apply", "-auto-approve", "-input=false", "-no-color",
                        env=env, check=False)
    assert applied.returncode == 1
    output = " ".join((applied.stdout + applied.stderr).split())
    assert (f"is not authorized to perform: {action} on resource: "
            f"arn:aws:{service}:{REGION}:{ACCOUNT}:{arn.format(name=name)}") in output, output


def test_serve_enforces_with_the_environment_variable(admin, tmp_path):
    """`python -m ops.emulator serve` with EMULATOR_ENFORCE_IAM=1: its own process, its own
    moto, and the denials file named by EMULATOR_IAM_DENIALS."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    denials = tmp_path / "denials.jsonl"
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-m", "ops.emulator", "serve", "--port", str(port), "--quiet"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "EMULATOR_ENFORCE_IAM": "1", "EMULATOR_IAM_DENIALS": str(denials)})
    try:
        assert f"IAM enforced, denials in {denials}" in server.stdout.readline()
        endpoint = f"http://127.0.0.1:{port}"

        def client(service, **keys):
            return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                                **(keys or {"aws_access_key_id": "testing",
                                            "aws_secret_access_key": "testing"}))
        name = unique("role")
        client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trusting_account())
        credentials = client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}", RoleSessionName="ci")["Credentials"]
        denied(lambda: client("sns", aws_access_key_id=credentials["AccessKeyId"],
                              aws_secret_access_key=credentials["SecretAccessKey"],
                              aws_session_token=credentials["SessionToken"]).list_topics())
        deadline = time.monotonic() + 5
        while not read_denials(denials) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [d["action"] for d in read_denials(denials)] == ["sns:ListTopics"]
        assert read_denials(denials)[0]["role"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    finally:
        server.terminate()
        # Its stop (the server and the IAM evaluator) takes well over 10 s on a saturated
        # machine (a full suite on 2 CPUs); a stop that never comes still fails here.
        server.wait(timeout=60)


def test_request_tag_conditions(emulator, admin):
    """aws:RequestTag/* from the request's tags: JSON (ECS), query (SNS) and EC2's spec."""
    tagged = {"StringEquals": {"aws:RequestTag/team": "web"}}
    iam = admin("iam")
    if not iam.list_roles(PathPrefix="/aws-service-role/ecs.amazonaws.com/")["Roles"]:
        iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    client = as_role(emulator, admin, role(
        admin, allow(["ecs:CreateCluster", "ecs:TagResource"], "*", **tagged),
        allow("sns:CreateTopic", "*", **tagged), allow("ec2:CreateVpc", "*", **tagged),
        allow("ec2:CreateTags")))
    client("ecs").create_cluster(clusterName=unique("c"), tags=[{"key": "team", "value": "web"}])
    denied(lambda: client("ecs").create_cluster(clusterName=unique("c"),
                                                tags=[{"key": "team", "value": "db"}]))
    client("sns").create_topic(Name=unique("t"), Tags=[{"Key": "team", "Value": "web"}])
    denied(lambda: client("sns").create_topic(Name=unique("t")))
    client("ec2").create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "team", "Value": "web"}]}])
    denied(lambda: client("ec2").create_vpc(CidrBlock="10.9.0.0/16"), "UnauthorizedOperation")


def test_codedeploy_deployment_by_id_is_authorized_on_its_group(emulator, admin):
    """GetDeployment names only the deployment's id; AWS authorizes it on the deployment
    group's ARN, which the emulator reads from the deployment."""
    codedeploy = admin("codedeploy")
    application, group = unique("app"), unique("group")
    codedeploy.create_application(applicationName=application, computePlatform="Server")
    codedeploy.create_deployment_group(applicationName=application,
                                       deploymentGroupName=group, serviceRoleArn=role(admin))
    deployment = codedeploy.create_deployment(
        applicationName=application, deploymentGroupName=group,
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k",
                                                       "bundleType": "zip"}})["deploymentId"]
    groups = f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:{application}/*"
    client = as_role(emulator, admin, role(admin, allow("codedeploy:GetDeployment", groups)))
    assert client("codedeploy").get_deployment(deploymentId=deployment)["deploymentInfo"][
        "deploymentGroupName"] == group
    other = as_role(emulator, admin, role(admin, allow(
        "codedeploy:GetDeployment",
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:other/*")))
    message = denied(lambda: other("codedeploy").get_deployment(deploymentId=deployment))
    assert f"deploymentgroup:{application}/{group}" in message


def blue_green_deployment(admin, service_role: str) -> str:
    """An ECS blue/green deployment (created by the administrator) whose group acts with
    `service_role`; the task definition has a task role."""
    ecs, codedeploy = admin("ecs"), admin("codedeploy")
    iam = admin("iam")
    if not iam.list_roles(PathPrefix="/aws-service-role/ecs.amazonaws.com/")["Roles"]:
        iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    name = unique("bg")
    ecs.create_cluster(clusterName=name)
    task_role = role(admin)
    definition = ecs.register_task_definition(
        family=name, taskRoleArn=task_role,
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=name, serviceName=name, taskDefinition=definition,
                       desiredCount=1, deploymentController={"type": "CODE_DEPLOY"})
    codedeploy.create_application(applicationName=name, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=name, deploymentGroupName=name, serviceRoleArn=service_role,
        deploymentStyle={"deploymentType": "BLUE_GREEN",
                         "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"clusterName": name, "serviceName": name}])
    appspec = {"version": 0.0, "Resources": [{"TargetService": {
        "Type": "AWS::ECS::Service", "Properties": {
            "TaskDefinition": definition,
            "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80}}}}]}
    codedeploy.create_deployment(
        applicationName=name, deploymentGroupName=name,
        revision={"revisionType": "AppSpecContent",
                  "appSpecContent": {"content": json.dumps(appspec)}})
    return name


def test_codedeploy_acts_with_its_service_role(emulator, admin):
    trust = document({"Effect": "Allow", "Principal": {"Service": "codedeploy.amazonaws.com"},
                      "Action": "sts:AssumeRole"})
    bare = role(admin, trust=trust)
    before = len(emulator.denials())
    blue_green_deployment(admin, bare)
    refused = emulator.denials()[before:]
    assert refused and {denial["role"] for denial in refused} == {bare}
    assert refused[0]["action"] == "ecs:DescribeServices"

    managed = role(admin, trust=trust)
    admin("iam").attach_role_policy(
        RoleName=managed.split("/")[-1],
        PolicyArn="arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS")
    before = len(emulator.denials())
    blue_green_deployment(admin, managed)
    assert emulator.denials()[before:] == []


def test_s3_list_by_prefix_condition(emulator, admin):
    bucket = unique("state")
    admin("s3").create_bucket(Bucket=bucket,
                              CreateBucketConfiguration={"LocationConstraint": REGION})
    client = as_role(emulator, admin, role(admin, allow(
        "s3:ListBucket", f"arn:aws:s3:::{bucket}", StringLike={"s3:prefix": "uat/*"})))
    client("s3").list_objects_v2(Bucket=bucket, Prefix="uat/")
    message = denied(lambda: client("s3").list_objects_v2(Bucket=bucket, Prefix="prod/"),
                     "AccessDenied")
    assert f"s3:ListBucket on resource: arn:aws:s3:::{bucket}" in message


def test_an_iam_user_other_than_the_administrator_is_evaluated(emulator, admin):
    iam = admin("iam")
    name = unique("user")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document(
        allow("sns:ListTopics")))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sns = boto3.client("sns", region_name=REGION, endpoint_url=emulator.endpoint_url,
                       aws_access_key_id=key["AccessKeyId"],
                       aws_secret_access_key=key["SecretAccessKey"])
    sns.list_topics()
    message = denied(lambda: sns.create_topic(Name=unique("t")))
    assert f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized" in message


def test_permissions_boundary_condition_on_an_existing_role_is_the_roles_boundary(
        emulator, admin):
    """PutRolePolicy names no boundary: iam:PermissionsBoundary is the one the role has (how a
    deploy role is allowed to edit only the bounded roles it created)."""
    boundary = admin("iam").create_policy(
        PolicyName=unique("boundary"),
        PolicyDocument=document(allow("sns:ListTopics")))["Policy"]["Arn"]
    bounded, unbounded = role(admin, boundary=boundary), role(admin)
    client = as_role(emulator, admin, role(admin, allow(
        "iam:PutRolePolicy", [bounded, unbounded],
        StringEquals={"iam:PermissionsBoundary": boundary})))
    put = {"PolicyName": "p", "PolicyDocument": document(allow("sns:ListTopics"))}
    client("iam").put_role_policy(RoleName=bounded.split("/")[-1], **put)
    assert "iam:PutRolePolicy" in denied(
        lambda: client("iam").put_role_policy(RoleName=unbounded.split("/")[-1], **put))


def test_kms_request_and_resource_tags(emulator, admin):
    """KMS spells tags TagKey/TagValue; a key is told apart by its tags (its id is AWS's)."""
    client = as_role(emulator, admin, role(
        admin, allow(["kms:CreateKey", "kms:TagResource"],
                     StringEquals={"aws:RequestTag/Environment": "uat"}),
        allow("kms:EnableKeyRotation", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*",
              StringEquals={"aws:ResourceTag/Environment": "uat"})))("kms")
    ours = client.create_key(Tags=[{"TagKey": "Environment", "TagValue": "uat"}])
    client.enable_key_rotation(KeyId=ours["KeyMetadata"]["KeyId"])
    assert "kms:CreateKey" in denied(lambda: client.create_key(
        Tags=[{"TagKey": "Environment", "TagValue": "prod"}]))
    theirs = admin("kms").create_key(Tags=[{"TagKey": "Environment", "TagValue": "prod"}])
    assert "kms:EnableKeyRotation" in denied(
        lambda: client.enable_key_rotation(KeyId=theirs["KeyMetadata"]["KeyId"]))


def test_target_group_resource_tags(emulator, admin):
    vpc = admin("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]

    def group(environment):
        return admin("elbv2").create_target_group(
            Name=unique("tg"), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
            Tags=[{"Key": "Environment", "Value": environment}])["TargetGroups"][0][
            "TargetGroupArn"]

    ours, theirs = group("uat"), group("prod")
    client = as_role(emulator, admin, role(admin, allow(
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        StringEquals={"aws:ResourceTag/Environment": "uat"})))("elbv2")
    attributes = [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]
    client.modify_target_group_attributes(TargetGroupArn=ours, Attributes=attributes)
    assert "ModifyTargetGroupAttributes" in denied(lambda: client.modify_target_group_attributes(
        TargetGroupArn=theirs, Attributes=attributes))


def test_a_kms_key_policy_that_does_not_delegate_to_the_account_refuses(emulator, admin):
    client = as_role(emulator, admin, role(admin, allow("kms:EnableKeyRotation")))("kms")
    delegating = admin("kms").create_key()["KeyMetadata"]["KeyId"]  # moto's default policy
    client.enable_key_rotation(KeyId=delegating)
    closed = admin("kms").create_key(Policy=document({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/someone-else"},
        "Action": "kms:*", "Resource": "*"}), BypassPolicyLockoutSafetyCheck=True)
    assert "kms:EnableKeyRotation" in denied(
        lambda: client.enable_key_rotation(KeyId=closed["KeyMetadata"]["KeyId"]))
