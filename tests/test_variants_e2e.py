"""Variants of the app stack end to end, against the local AWS emulator: the blue/green one
(CodeDeploy) and a hardened one (VPC endpoints, ALB access logs, an ECR image, HTTPS). Each is
uat with its own name, VPC, CIDR and state bucket, so it never meets the uat/prod resources of
test_deploy_e2e.py (the emulator's state is shared by the whole session). Both variants are
applied, re-planned and destroyed side by side in threads, and within a variant the network
starts as soon as the state bucket exists: the provider's fixed waits (~55 s for the state
bucket's lifecycle, ~60 s for an ALB) then overlap instead of adding up. The tests run in file
order and share the deployments; the last one destroys them (the state buckets stay, protected by
prevent_destroy)."""

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from config import BlueGreenConfig
from ops.core.runner import Runner
from helpers import aws, deployable, resource_count, with_service

pytestmark = pytest.mark.e2e
REGION = "ap-south-1"
IMAGE_TAG = "3f9c2e1a7b4d"


def variant(uat, name: str, cidr: str, project: str | None = None, **service):
    """uat renamed to `name`, with its own VPC name, CIDR and state bucket, and its own project
    (default: `name`): its image repository (`<project>/hello-world`) and parameters never meet
    another module's on a shared emulator."""
    environment = dataclasses.replace(
        uat, name=name, project=project or name,
        network=dataclasses.replace(uat.network, vpc_name=f"{name}-vpc", cidr=cidr,
                                    **service.pop("network", {})),
        state=dataclasses.replace(uat.state, bucket=f"hello-world-{name}-tfstate"))
    return with_service(environment, **service)


def synth(tmp_path: Path, environment) -> Runner:
    """The variant's stacks in tmp_path/cdktf.out; the state stack's local state lands in
    tmp_path (its backend path is ../../../ from the stack folder)."""
    return deployable(environment, tmp_path / "cdktf.out")


@dataclasses.dataclass
class Variant:
    deployment: Runner
    seconds: dict = dataclasses.field(default_factory=dict)  # step -> seconds
    destroyed: dict = dataclasses.field(default_factory=dict)  # stack -> resources destroyed

    @property
    def names(self) -> dict:
        return self.deployment.environment.stack_names

    def timed(self, step: str, run):
        started = time.monotonic()
        try:
            return run()
        finally:
            self.seconds[step] = round(time.monotonic() - started, 1)


def in_parallel(variants: dict, run) -> dict:
    """run(variant) for every variant in its own thread; name -> result (errors re-raised)."""
    with ThreadPoolExecutor(max_workers=len(variants)) as pool:
        futures = {name: pool.submit(run, one) for name, one in variants.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def certificate_arn(emulator) -> str:
    """An ACM certificate in the emulator, for the hardened variant's HTTPS listener."""
    return aws("acm").request_certificate(DomainName="hardened.example.com",
                                          ValidationMethod="DNS")["CertificateArn"]


@pytest.fixture(scope="module")
def variants(tmp_path_factory, environments, emulator, certificate_arn) -> dict:
    uat = environments["uat"]
    configs = {
        "bluegreen": variant(uat, "bluegreen", "10.60.0.0/16", blue_green=BlueGreenConfig(
            enabled=True, test_listener_port=8080,
            traffic_shift="canary_10_percent_for_5_minutes")),
        "hardened": variant(uat, "hardened", "10.61.0.0/16", network={"vpc_endpoints": True},
                            alb_access_logs=True, ecr_repository=True, image_tag=IMAGE_TAG,
                            https=True, certificate_arn=certificate_arn,
                            domain_name="hardened.example.com"),
    }
    built = {name: Variant(synth(tmp_path_factory.mktemp(name), config))
             for name, config in configs.items()}
    yield built
    # Whatever a failed test left deployed (destroy is idempotent; the state bucket stays).
    for one in built.values():
        for kind in ("app", "network"):
            if one.names[kind] not in one.destroyed:
                try:
                    one.deployment.destroy(one.names[kind])
                except Exception as error:  # noqa: BLE001 - best effort, report and go on
                    print(f"cleanup of {one.names[kind]} failed: {error}")


@pytest.fixture(scope="module")
def deployed(variants) -> dict:
    """State, network and app of both variants applied, side by side. Within a variant the
    network starts as soon as the state bucket exists: the S3 backend needs nothing more, and
    the state stack spends most of its time waiting for the bucket's lifecycle configuration."""
    def apply(one: Variant):
        started = time.monotonic()
        results = one.deployment.apply_in_order(list(one.names.values()))
        for kind, stack in one.names.items():
            one.seconds[f"apply {kind}"] = round(results[stack].seconds, 1)
        one.seconds["apply"] = round(time.monotonic() - started, 1)

    in_parallel(variants, apply)
    return variants


def test_the_emulators_acm_certificate_arn_passes_the_config_validation(certificate_arn,
                                                                        environments):
    """moto's ACM ARNs have the shape the config requires (arn:aws:acm:<region>:<12 digits>:
    certificate/<36 character uuid>): ServiceConfig validates it on construction."""
    service = with_service(environments["uat"], https=True, certificate_arn=certificate_arn,
                           domain_name="hardened.example.com").service
    assert service.certificate_arn == certificate_arn
    assert certificate_arn.startswith(f"arn:aws:acm:{REGION}:")


def test_blue_green_variant_hands_deploys_to_codedeploy(deployed):
    codedeploy = aws("codedeploy")
    name = "hello-world-bluegreen"
    application = codedeploy.get_application(applicationName=name)["application"]
    assert application["computePlatform"] == "ECS"
    group = codedeploy.get_deployment_group(applicationName=name,
                                            deploymentGroupName=name)["deploymentGroupInfo"]
    assert group["deploymentStyle"] == {"deploymentType": "BLUE_GREEN",
                                        "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    assert group["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert group["ecsServices"] == [{"clusterName": name, "serviceName": name}]
    assert group["alarmConfiguration"]["enabled"] is True
    assert len(group["alarmConfiguration"]["alarms"]) == 3
    pair = group["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    pair_names = [target_group["name"] for target_group in pair["targetGroups"]]
    target_groups = aws("elbv2").describe_target_groups(Names=pair_names)["TargetGroups"]
    assert len(target_groups) == 2
    assert {group["Port"] for group in target_groups} == {8000}
    assert len(pair["prodTrafficRoute"]["listenerArns"]) == 1
    assert len(pair["testTrafficRoute"]["listenerArns"]) == 1
    role = group["serviceRoleArn"].rsplit("/", 1)[1]
    attached = aws("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [policy["PolicyName"] for policy in attached] == ["AWSCodeDeployRoleForECS"]
    (service,) = aws("ecs").describe_services(cluster=name, services=[name])["services"]
    assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
    (balancer,) = aws("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    listeners = aws("elbv2").describe_listeners(
        LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    assert sorted(listener["Port"] for listener in listeners) == [80, 8080]


def test_hardened_variant_has_endpoints_access_logs_ecr_and_https(deployed, certificate_arn):
    ec2, elbv2, name = aws("ec2"), aws("elbv2"), "hello-world-hardened"
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["hardened-vpc"]}])["Vpcs"]
    assert vpc["CidrBlock"] == "10.61.0.0/16"
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["VpcEndpoints"]
    kinds = sorted((endpoint["VpcEndpointType"], endpoint["ServiceName"].rsplit(".", 1)[1])
                   for endpoint in endpoints)
    assert [kind for kind, _ in kinds].count("Gateway") == 1
    assert [kind for kind, _ in kinds].count("Interface") == 5
    assert ("Gateway", "s3") in kinds

    (balancer,) = elbv2.describe_load_balancers(Names=[name])["LoadBalancers"]
    attributes = {attribute["Key"]: attribute["Value"] for attribute in
                  elbv2.describe_load_balancer_attributes(
                      LoadBalancerArn=balancer["LoadBalancerArn"])["Attributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    log_bucket = attributes["access_logs.s3.bucket"]
    assert json.loads(aws("s3").get_bucket_policy(Bucket=log_bucket)["Policy"])["Statement"]
    listeners = {listener["Port"]: listener for listener in elbv2.describe_listeners(
        LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == certificate_arn
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"

    (repository,) = aws("ecr").describe_repositories(
        repositoryNames=["hardened/hello-world"])["repositories"]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfiguration"]["encryptionType"] == "KMS"
    assert aws("ecr").get_lifecycle_policy(repositoryName="hardened/hello-world")
    (task,) = aws("ecs").describe_task_definition(taskDefinition=name)["taskDefinition"][
        "containerDefinitions"]
    assert task["image"] == f"{repository['repositoryUri']}:{IMAGE_TAG}"


def test_both_variants_plan_no_changes_after_apply(deployed):
    """`terraform plan -detailed-exitcode` exits 0 for every stack of both variants."""
    def plan(one: Variant) -> dict:
        started, codes = time.monotonic(), {}
        for kind in ("state", "network", "app"):
            stack = one.names[kind]
            result = one.timed(f"plan {kind}", lambda: one.deployment.terraform(
                stack, "plan", "-detailed-exitcode", "-no-color", "-input=false"))
            codes[stack] = (result.returncode, result.stdout + result.stderr)
        one.seconds["plan"] = round(time.monotonic() - started, 1)
        return codes

    planned = in_parallel(deployed, plan)
    changed = {stack: output for codes in planned.values()
               for stack, (code, output) in codes.items() if code != 0}
    assert not changed, "\n\n".join(f"{stack}:\n{output}" for stack, output in changed.items())


def test_both_variants_destroy_all_but_the_state_bucket(deployed):
    def destroy(one: Variant) -> None:
        for kind in ("app", "network"):
            stack = one.names[kind]
            result = one.timed(f"destroy {kind}", lambda: one.deployment.destroy(stack))
            one.destroyed[stack] = result.changes["destroy"]
        one.seconds["destroy"] = round(one.seconds["destroy app"]
                                       + one.seconds["destroy network"], 1)

    in_parallel(deployed, destroy)
    for one in deployed.values():
        print(f"\n{one.deployment.environment.name}: {one.seconds}")
        for kind in ("app", "network"):
            stack = one.names[kind]
            assert one.destroyed[stack] == resource_count(one.deployment, stack), stack
    assert "hello-world-bluegreen" not in aws("codedeploy").list_applications()["applications"]
    balancers = [balancer["LoadBalancerName"]
                 for balancer in aws("elbv2").describe_load_balancers()["LoadBalancers"]]
    for name in ("bluegreen", "hardened"):
        assert not aws("ec2").describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": [f"{name}-vpc"]}])["Vpcs"]
        assert f"hello-world-{name}" not in balancers
        # prevent_destroy keeps the state bucket, and the state history in it.
        assert aws("s3").head_bucket(Bucket=f"hello-world-{name}-tfstate")
    # The state stack keeps the image repository (and its images) with the bucket.
    repositories = aws("ecr").describe_repositories()["repositories"]
    assert {"bluegreen/hello-world", "hardened/hello-world"} <= {
        repo["repositoryName"] for repo in repositories}
