"""The shared rolling environment end to end (tests/conftest.py `rolling`: uat deployed by the
documented `npm run cdktf -- deploy` after ops.deploy's state stack), against the local AWS
emulator: what the deploy created, re-planned and re-applied by ops/deploy.py, inspected with
the plain Terraform CLI, locked, compared with its HCL export (ops/export_hcl.py), diffed and
destroyed by the documented cdktf commands (every one in docs/delivery.md, run as written, with
the telemetry switch unset: the `npm run cdktf --` wrapper must silence it). The tests run in
file order; the last one destroys the environment. (prod's interrupted apply:
test_deploy_prod_e2e.py; the one-line errors: test_deploy_errors_e2e.py.)"""

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hcl_equivalence import compare
from helpers import DELIVERY_COMMANDS, ROLLING_GROUP, aws, cdktf_cli, resource_count, tf
from ops.core.runner import Runner
from ops.export_hcl import export

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group(ROLLING_GROUP)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def uat(rolling):
    return rolling.deployment


def test_the_docs_document_deploy_diff_and_destroy():
    assert DELIVERY_COMMANDS == ["npm run cdktf -- deploy network-uat app-uat",
                                 "npm run cdktf -- diff app-uat",
                                 "npm run cdktf -- destroy app-uat network-uat"]
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        # The bare CLI prints telemetry errors offline: only with CHECKPOINT_DISABLE=1.
        for line in page.read_text().splitlines():
            assert "npx cdktf" not in line or "CHECKPOINT_DISABLE=1 npx cdktf" in line, page


def test_the_documented_deploy_creates_the_network_and_the_service_not_the_state_stack(rolling):
    assert "state-uat" not in rolling.deployed
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
    assert service["status"] == "ACTIVE"
    assert service["launchType"] == "FARGATE"
    assert service["desiredCount"] == 1
    targets = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets
            if t["ResourceId"] == "service/hello-world-uat/hello-world-uat"] == [(1, 3)]


def test_a_second_run_changes_nothing(uat):
    def second_run(stack):
        plan = tf(uat, stack, "plan", "-detailed-exitcode", "-no-color", "-input=false",
                  check=False)
        return plan.returncode, plan.stdout, uat.apply(stack).changes

    stacks = list(uat.environment.stack_names.values())
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:  # each stack its own state
        runs = dict(zip(stacks, pool.map(second_run, stacks)))
    for stack, (code, output, changes) in runs.items():
        assert code == 0, f"{stack} plans changes after apply:\n{output}"
        assert changes == {}


def test_state_is_readable_with_the_plain_terraform_cli(uat):
    listed = tf(uat, "network-uat", "state", "list").stdout.split()
    assert "aws_vpc.network_vpc" in listed
    assert "aws_nat_gateway.network_nat_gateway_ap-south-1a" in listed
    assert len([address for address in listed if not address.startswith("data.")]) == \
        resource_count(uat, "network-uat")
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
    assert len([address for address in tf(uat, "network-uat", "state", "list").stdout.split()
                if not address.startswith("data.")]) == resource_count(uat, "network-uat")
    assert tf(uat, "network-uat", "plan", "-detailed-exitcode", "-no-color",
              check=False).returncode == 0
    released = aws("s3").list_objects_v2(Bucket="hello-world-uat-tfstate", Prefix=lock_key)
    assert released["KeyCount"] == 0


def test_the_hcl_export_plans_what_the_json_plans(uat, tmp_path):
    """Each uat stack exported as HCL (the way out of archived CDKTF) plans no change against
    what the JSON applied, with the same planned values and configuration (hcl_equivalence)."""
    out = tmp_path / "hcl"
    result = export(out, env=dict(uat.env, ENVIRONMENTS="uat"))
    assert result.returncode == 0, result.stderr
    from_hcl = Runner(uat.environment, uat.env, out)
    stacks = list(uat.environment.stack_names.values())
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:  # plans only read
        list(pool.map(lambda stack: compare(uat, from_hcl, stack), stacks))


def test_the_documented_diff_shows_no_changes(rolling):
    assert "No changes" in cdktf_cli(DELIVERY_COMMANDS[1], rolling.cli_outdir)


def uat_resources() -> dict[str, list]:
    """What the uat network and app stacks create, found in the emulator, by type."""
    ec2, elbv2, ecs = aws("ec2"), aws("elbv2"), aws("ecs")
    scaling, service = aws("application-autoscaling"), "service/hello-world-uat/hello-world-uat"
    tagged = [{"Name": "tag:Environment", "Values": ["uat"]}]  # the provider's default_tags

    def ours(found: list) -> list:  # not the workflow replays' uat (another project)
        return [item for item in found
                if {"Key": "Project", "Value": "hello-world"} in item.get("Tags", [])]

    return {
        "vpc": ours(ec2.describe_vpcs(Filters=tagged)["Vpcs"]),
        "subnet": ours(ec2.describe_subnets(Filters=tagged)["Subnets"]),
        "internet gateway": ours(
            ec2.describe_internet_gateways(Filters=tagged)["InternetGateways"]),
        "nat gateway": [n for n in ours(ec2.describe_nat_gateways(Filter=tagged)["NatGateways"])
                        if n["State"] != "deleted"],
        "elastic ip": ours(ec2.describe_addresses(Filters=tagged)["Addresses"]),
        "route table": ours(ec2.describe_route_tables(Filters=tagged)["RouteTables"]),
        "security group": ours(ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]),
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


def test_the_documented_destroy_leaves_nothing_but_the_protected_state_bucket(rolling):
    """The last test of ROLLING_GROUP. (ops.deploy's destroy, counted against what the stacks
    declare: test_variants_e2e.py.)"""
    before = uat_resources()
    assert [kind for kind, found in before.items() if not found] == []
    cdktf_cli(DELIVERY_COMMANDS[2], rolling.cli_outdir)
    assert {kind: found for kind, found in uat_resources().items() if found} == {}
    assert not aws("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": ["uat-vpc"]}])["Vpcs"]
    assert [c for c in aws("ecs").describe_clusters(clusters=["hello-world-uat"])["clusters"]
            if c["status"] == "ACTIVE"] == []
    # prevent_destroy keeps the state bucket, and the state history in it.
    assert aws("s3").head_bucket(Bucket="hello-world-uat-tfstate")
