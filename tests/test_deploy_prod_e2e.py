"""prod's network interrupted halfway through its apply (SIGINT), and cdktf's own validation of
every synthesized stack, end to end against the local AWS emulator. Both need only the state
buckets (ops/deploy.py's tests of the uat stacks: test_deploy_e2e.py)."""

import signal
import subprocess

import pytest

from helpers import aws, resource_count, tf

pytestmark = pytest.mark.e2e


def test_an_interrupted_apply_converges_when_run_again(deployments, state_stacks):
    """Ctrl-C (SIGINT, also what CI sends on cancel) halfway through creating prod's network:
    Terraform stops gracefully and saves what it made, and the rerun completes it."""
    state_stacks.bucket("prod")
    prod = deployments["prod"]
    total = resource_count(prod, "network-prod")
    prod.init("network-prod")
    process = subprocess.Popen(
        # Two at a time: at the fifth "Creation complete" at most two more are under way, and
        # most of the stack is still to come however late this process reads the output.
        ["terraform", "apply", "-auto-approve", "-no-color", "-input=false", "-parallelism=2"],
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


def test_every_stack_passes_cdktf_to_be_valid_terraform(synthesized, state_stacks):
    from cdktf import Testing
    state_stacks.bucket("uat", "prod")  # every stack's `terraform init`: the S3 backend
    assert Testing.to_be_valid_terraform(str(synthesized.outdir))
