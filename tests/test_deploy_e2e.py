"""ops/deploy.py end to end: the uat stacks applied with real Terraform to the local AWS emulator,
re-planned, inspected, locked, interrupted and destroyed. The tests run in file order and share
one deployment; the last one destroys it."""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from ops.deploy import Deployment, DeployError

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def aws(service: str):
    return boto3.client(service, region_name="ap-south-1")


@pytest.fixture(scope="session")
def deployments(synthesized, environments, emulator):
    return {name: Deployment(env, dict(os.environ), synthesized.outdir)
            for name, env in environments.items()}


@pytest.fixture(scope="session")
def state_buckets(deployments):
    """Both environments' state stacks, in parallel: the provider waits ~55 s for each bucket's
    lifecycle configuration to settle, on AWS as here."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda d: d.apply(d.environment.stack_names["state"]),
                             deployments.values()))


@pytest.fixture(scope="session")
def uat(deployments, state_buckets):
    """uat's network and app stacks applied (after its state stack)."""
    deployment = deployments["uat"]
    for stack in ("network-uat", "app-uat"):
        deployment.apply(stack)
    return deployment


def resource_count(deployment, stack) -> int:
    synthesized = json.loads((deployment.stack_dir(stack) / "cdk.tf.json").read_text())
    return sum(len(group) for group in synthesized["resource"].values())


def tf(deployment, stack, *args, check=True):
    result = deployment.terraform(stack, *args)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_apply_creates_the_network_and_the_service(uat, environments):
    vpcs = aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["uat-vpc"]}])["Vpcs"]
    assert [vpc["CidrBlock"] for vpc in vpcs] == ["10.0.0.0/16"]
    vpc_id = vpcs[0]["VpcId"]
    subnets = aws("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    assert len(subnets["Subnets"]) == 6
    nats = aws("ec2").describe_nat_gateways(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
    assert len([nat for nat in nats if nat["State"] == "available"]) == 1
    (balancer,) = aws("elbv2").describe_load_balancers(Names=["hello-world-uat"])["LoadBalancers"]
    assert (balancer["Type"], balancer["VpcId"]) == ("application", vpc_id)
    (service,) = aws("ecs").describe_services(cluster="hello-world-uat",
                                              services=["hello-world-uat"])["services"]
    assert service["launchType"] == "FARGATE"
    assert service["desiredCount"] == 1
    targets = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets
            if t["ResourceId"] == "service/hello-world-uat/hello-world-uat"] == [(1, 3)]


def test_a_second_run_changes_nothing(uat):
    for stack in uat.environment.stack_names.values():
        plan = tf(uat, stack, "plan", "-detailed-exitcode", "-no-color", "-input=false",
                  check=False)
        assert plan.returncode == 0, f"{stack} plans changes after apply:\n{plan.stdout}"
        assert uat.apply(stack).changes == {}


def test_state_is_readable_with_the_plain_terraform_cli(uat):
    listed = tf(uat, "network-uat", "state", "list").stdout.split()
    assert "aws_vpc.network_vpc" in listed
    assert "aws_nat_gateway.network_nat_gateway_ap-south-1a" in listed
    assert len(listed) == resource_count(uat, "network-uat")
    shown = tf(uat, "network-uat", "state", "show", "-no-color", "aws_vpc.network_vpc").stdout
    assert 'cidr_block                           = "10.0.0.0/16"' in shown
    outputs = json.loads(tf(uat, "app-uat", "output", "-json").stdout)
    assert outputs["alb_url"]["value"] == "http://" + outputs["alb_dns_name"]["value"]
    assert outputs["alb_dns_name"]["value"].startswith("hello-world-uat-")
    network = json.loads(tf(uat, "network-uat", "output", "-json").stdout)
    assert len(network["private_subnet_ids"]["value"]) == 3


def test_state_lives_in_the_emulated_bucket(uat):
    s3 = aws("s3")
    for stack in ("network-uat", "app-uat"):
        state = json.loads(s3.get_object(Bucket="hello-world-uat-tfstate",
                                         Key=f"uat/{stack}.tfstate")["Body"].read())
        assert state["resources"], stack
    versioning = s3.get_bucket_versioning(Bucket="hello-world-uat-tfstate")
    assert versioning["Status"] == "Enabled"


def test_every_stack_passes_cdktf_to_be_valid_terraform(synthesized, state_buckets):
    from cdktf import Testing
    assert Testing.to_be_valid_terraform(str(synthesized.outdir))


def test_a_concurrent_apply_is_refused_by_the_lock(uat):
    apply = ["terraform", "apply", "-auto-approve", "-no-color", "-input=false",
             "-lock-timeout=0s"]
    cwd = uat.stack_dir("network-uat")
    lock_key = "uat/network-uat.tfstate.tflock"
    first = subprocess.Popen(apply, cwd=cwd, env=uat.env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = aws("s3").list_objects_v2(Bucket="hello-world-uat-tfstate", Prefix=lock_key)
        if listed.get("KeyCount"):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the first apply never took the lock")
    second = subprocess.run(apply, cwd=cwd, env=uat.env, capture_output=True, text=True)
    first_output = first.communicate(timeout=300)[0]
    assert first.returncode == 0, first_output
    assert second.returncode == 1
    assert "Error acquiring the state lock" in second.stdout + second.stderr
    assert len(tf(uat, "network-uat", "state", "list").stdout.split()) == resource_count(
        uat, "network-uat")
    assert tf(uat, "network-uat", "plan", "-detailed-exitcode", "-no-color",
              check=False).returncode == 0
    released = aws("s3").list_objects_v2(Bucket="hello-world-uat-tfstate", Prefix=lock_key)
    assert released["KeyCount"] == 0


def test_an_interrupted_apply_converges_when_run_again(deployments, state_buckets):
    """Ctrl-C (SIGINT, also what CI sends on cancel) halfway through creating prod's network:
    Terraform stops gracefully and saves what it made, and the rerun completes it."""
    prod = deployments["prod"]
    total = resource_count(prod, "network-prod")
    prod.init("network-prod")
    process = subprocess.Popen(
        ["terraform", "apply", "-auto-approve", "-no-color", "-input=false"],
        cwd=prod.stack_dir("network-prod"), env=prod.env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        created = 0
        for line in process.stdout:
            created += "Creation complete" in line
            if created == 5:
                process.send_signal(signal.SIGINT)
                break
        process.communicate(timeout=300)
        assert created == 5
        saved = tf(prod, "network-prod", "state", "list").stdout.split()
        assert 5 <= len(saved) < total
        rerun = prod.apply("network-prod").changes
        # What was half made when interrupted is tainted and replaced; nothing is made twice.
        assert rerun["add"] - rerun["destroy"] == total - len(saved)
        assert len(tf(prod, "network-prod", "state", "list").stdout.split()) == total
        assert tf(prod, "network-prod", "plan", "-detailed-exitcode", "-no-color",
                  check=False).returncode == 0
        ec2 = aws("ec2")
        (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["prod-vpc"]}])["Vpcs"]
        nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                                  {"Name": "state", "Values": ["available"]}])
        assert len(nats["NatGateways"]) == 3
        assert len(ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]) == 6
    finally:
        process.kill()
        prod.destroy("network-prod")
    assert not aws("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": ["prod-vpc"]}])["Vpcs"]


def test_npx_cdktf_deploy_works_against_the_emulator(uat, tmp_path):
    env = dict(uat.env, PIPENV_VENV_IN_PROJECT="1", PIPENV_VERBOSITY="-1", CI="1",
               ENVIRONMENTS="uat")
    result = subprocess.run(
        ["npx", "--no-install", "cdktf", "deploy", "network-uat", "--auto-approve",
         "--ignore-missing-stack-dependencies", "--output", str(tmp_path / "cdktf.out"),
         # cdktf's `terraform providers lock` asks the registry, which this machine cannot reach.
         "--skip-provider-lock"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No changes" in output


def _synth_variant(tmp_path, environment):
    from cdktf import App

    from constructs_lib.stacks import build

    app = App(outdir=str(tmp_path))
    build(app, [environment])
    app.synth()
    return Deployment(environment, dict(os.environ), tmp_path)


def test_a_missing_state_bucket_says_to_deploy_the_state_stack(tmp_path, environments, emulator):
    uat = environments["uat"]
    ghost = dataclasses.replace(uat, state=dataclasses.replace(uat.state, bucket="no-such-bucket"))
    with pytest.raises(DeployError) as error:
        _synth_variant(tmp_path, ghost).init("network-uat")
    assert str(error.value) == (
        f"network-uat: state bucket 'no-such-bucket' does not exist at "
        f"{os.environ['AWS_ENDPOINT_URL']}; deploy state-uat first (`make up` does, in order)")


def test_an_unreachable_endpoint_says_to_start_the_emulator(synthesized, environments):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed}",
               AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard")
    deployment = Deployment(environments["uat"], env, synthesized.outdir)
    with pytest.raises(DeployError) as error:
        deployment.init("network-uat")
    assert str(error.value).startswith(f"network-uat: cannot reach http://127.0.0.1:{closed}; "
                                       "start the emulator with `make up`")


def test_an_app_before_its_network_says_to_deploy_the_network(tmp_path, environments,
                                                              state_buckets):
    uat = environments["uat"]
    lonely = dataclasses.replace(uat, name="lonely", network=dataclasses.replace(
        uat.network, vpc_name="lonely-vpc"))
    with pytest.raises(DeployError) as error:
        _synth_variant(tmp_path, lonely).apply("app-lonely")
    assert str(error.value) == ("app-lonely: VPC 'lonely-vpc' not found; deploy network-lonely "
                                "first (`make up` deploys state, network, app in order)")


def test_deploy_cli_reports_a_taken_emulator_port_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "ops.deploy", "up"], cwd=ROOT,
                                env=dict(os.environ, EMULATOR_PORT=str(port)),
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use (an emulator left running?): "
        "run `make down`, or set EMULATOR_PORT to a free port"]


def uat_resources() -> dict[str, list]:
    """What the uat network and app stacks create, found in the emulator, by type."""
    ec2, elbv2, ecs = aws("ec2"), aws("elbv2"), aws("ecs")
    scaling, service = aws("application-autoscaling"), "service/hello-world-uat/hello-world-uat"
    tagged = [{"Name": "tag:Environment", "Values": ["uat"]}]  # the provider's default_tags
    return {
        "vpc": ec2.describe_vpcs(Filters=tagged)["Vpcs"],
        "subnet": ec2.describe_subnets(Filters=tagged)["Subnets"],
        "internet gateway": ec2.describe_internet_gateways(Filters=tagged)["InternetGateways"],
        "nat gateway": [n for n in ec2.describe_nat_gateways(Filter=tagged)["NatGateways"]
                        if n["State"] != "deleted"],
        "elastic ip": ec2.describe_addresses(Filters=tagged)["Addresses"],
        "route table": ec2.describe_route_tables(Filters=tagged)["RouteTables"],
        "security group": ec2.describe_security_groups(Filters=tagged)["SecurityGroups"],
        "load balancer": [b for b in elbv2.describe_load_balancers()["LoadBalancers"]
                          if b["LoadBalancerName"] == "hello-world-uat"],
        "target group": [g for g in elbv2.describe_target_groups()["TargetGroups"]
                         if g["TargetGroupName"].startswith("hello-")],
        "ecs cluster": [c for c in ecs.describe_clusters(clusters=["hello-world-uat"])["clusters"]
                        if c["status"] == "ACTIVE"],
        "task definition": ecs.list_task_definitions(familyPrefix="hello-world-uat",
                                                     status="ACTIVE")["taskDefinitionArns"],
        "iam role": [r for r in aws("iam").list_roles()["Roles"]
                     if r["RoleName"].startswith("hello-world-uat")],
        "log group": aws("logs").describe_log_groups(
            logGroupNamePrefix="/ecs/hello-world-uat")["logGroups"],
        "scalable target": scaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[service])["ScalableTargets"],
        "scaling policy": scaling.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=service)["ScalingPolicies"],
    }


def test_destroy_leaves_nothing_but_the_protected_state_bucket(uat):
    before = uat_resources()
    assert [kind for kind, found in before.items() if not found] == []
    assert uat.destroy("app-uat").changes["destroy"] == resource_count(uat, "app-uat")
    assert uat.destroy("network-uat").changes["destroy"] == resource_count(uat, "network-uat")
    assert {kind: found for kind, found in uat_resources().items() if found} == {}
    # prevent_destroy keeps the state bucket, and the state history in it.
    assert aws("s3").head_bucket(Bucket="hello-world-uat-tfstate")
