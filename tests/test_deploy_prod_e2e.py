"""prod's network interrupted halfway through its apply (SIGINT), end to end against the local
AWS emulator; it needs only prod's state bucket (ops/deploy.py's tests of the uat stacks:
test_deploy_e2e.py)."""

import signal
import subprocess
import time

import pytest

from helpers import aws, resource_count, tf

pytestmark = pytest.mark.e2e


def prod_vpcs(ec2) -> list:
    return ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["prod-vpc"]}])["Vpcs"]


def resources_in_state(deployment, stack) -> list:
    """`terraform state list` without the data sources (the flow logs' trust reads some)."""
    return [address for address in tf(deployment, stack, "state", "list").stdout.split()
            if not address.startswith("data.")]


def test_an_interrupted_apply_converges_when_run_again(deployments, state_stacks, tmp_path):
    """Ctrl-C (SIGINT, also what CI sends on cancel) halfway through creating prod's network:
    Terraform stops gracefully and saves what it made, and the rerun completes it.

    The interrupt lands while the VPC is the one operation under way, past its CreateVpc call:
    one at a time (-parallelism=1), and once the VPC exists the provider waits ~10 s for its
    attributes. An interrupt during a create call itself can leave what it made out of the
    state (seen with a subnet: the rerun then conflicts with it), on AWS as here."""
    state_stacks.bucket("prod")
    prod, ec2 = deployments["prod"], aws("ec2")
    total = resource_count(prod, "network-prod")
    prod.init("network-prod")
    with open(tmp_path / "apply.log", "w+") as log:
        process = subprocess.Popen(
            ["terraform", "apply", "-auto-approve", "-no-color", "-input=false",
             "-parallelism=1"],
            cwd=prod.stack_dir("network-prod"), env=prod.env, stdout=log,
            stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 300
            while not prod_vpcs(ec2) and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)  # CreateVpc answered: the provider is in its attribute wait
            process.send_signal(signal.SIGINT)
            process.wait(timeout=300)
            log.seek(0)
            output = log.read()
            assert process.returncode != 0 and "Interrupt received" in output, output
            saved = resources_in_state(prod, "network-prod")
            assert "aws_vpc.network_vpc" in saved and len(saved) < total, saved
            rerun = prod.apply("network-prod").changes
            # What was half made when interrupted is tainted and replaced; nothing is made twice.
            assert rerun["add"] - rerun["destroy"] == total - len(saved)
            assert len(resources_in_state(prod, "network-prod")) == total
            assert tf(prod, "network-prod", "plan", "-detailed-exitcode", "-no-color",
                      check=False).returncode == 0
            (vpc,) = prod_vpcs(ec2)
            in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
            nats = ec2.describe_nat_gateways(Filters=[*in_vpc, {"Name": "state",
                                                                "Values": ["available"]}])
            assert len(nats["NatGateways"]) == 3
            assert len(ec2.describe_subnets(Filters=in_vpc)["Subnets"]) == 6
        finally:
            process.kill()
            prod.destroy("network-prod")
    assert not prod_vpcs(ec2)

