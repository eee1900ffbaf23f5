"""ops/deploy.py's one-line errors end to end, with real Terraform: no state bucket, no emulator
listening, an app before its network, the emulator's port taken."""

import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import aws, deployable
from ops.core.runner import Runner, TerraformError

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_state_bucket_says_to_deploy_the_state_stack(tmp_path, environments, emulator):
    uat = environments["uat"]
    ghost = dataclasses.replace(uat, state=dataclasses.replace(uat.state, bucket="no-such-bucket"))
    with pytest.raises(TerraformError) as error:
        deployable(ghost, tmp_path).init("network-uat")
    assert str(error.value) == (
        f"network-uat: state bucket 'no-such-bucket' does not exist at "
        f"{os.environ['AWS_ENDPOINT_URL']}; deploy state-uat first (`make up` does, in order)")


def test_an_unreachable_endpoint_says_to_start_the_emulator(synthesized, environments):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed}",
               AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard")
    deployment = Runner(environments["uat"], env, synthesized.outdir)
    with pytest.raises(TerraformError) as error:
        deployment.init("network-uat")
    assert str(error.value).startswith(f"network-uat: cannot reach http://127.0.0.1:{closed}; "
                                       "start the emulator with `make up`")


def test_an_app_before_its_network_says_to_deploy_the_network(tmp_path, environments, emulator):
    uat = environments["uat"]
    lonely = dataclasses.replace(
        uat, name="lonely", network=dataclasses.replace(uat.network, vpc_name="lonely-vpc"),
        state=dataclasses.replace(uat.state, bucket="hello-world-lonely-tfstate"))
    # A state bucket, which is all the app's backend needs; the VPC is what is missing.
    aws("s3").create_bucket(
        Bucket=lonely.state.bucket, CreateBucketConfiguration={"LocationConstraint": uat.region})
    with pytest.raises(TerraformError) as error:
        deployable(lonely, tmp_path).apply("app-lonely")
    assert str(error.value) == ("app-lonely: VPC 'lonely-vpc' not found; deploy network-lonely "
                                "first (`make up` deploys state, network, app in order)")


def test_deploy_cli_reports_a_taken_emulator_port_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "ops", "up", "--env", "uat"], cwd=ROOT,
                                env=dict(os.environ, EMULATOR_PORT=str(port)),
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use (an emulator left running?): "
        "run `make down`, or set EMULATOR_PORT to a free port"]


def test_a_bootstrap_interrupted_after_its_bucket_whose_local_state_is_gone_recovers(
        tmp_path, environments, emulator):
    """The bootstrap made the bucket (its first resource) and stopped; the local state file went
    with the machine. `make up` again must finish it, not stop at 'Backend configuration
    changed' (the local backend the bootstrap recorded) or at the bucket that already exists."""
    import json

    from ops.core.runner import RECOVERY_IMPORTS

    uat = environments["uat"]
    lost = dataclasses.replace(
        # A project of its own: its ECR repository is not the one other modules' uat makes.
        uat, name="lost", project="lost", network=dataclasses.replace(uat.network,
                                                                      vpc_name="lost-vpc"),
        state=dataclasses.replace(uat.state, bucket="hello-world-lost-tfstate"))
    deployment = deployable(lost, tmp_path)
    config = json.loads((deployment.stack_dir("state-lost") / "cdk.tf.json").read_text())
    (bucket,) = [f"aws_s3_bucket.{name}" for name in config["resource"]["aws_s3_bucket"]]
    local = deployment.bootstrap_state_file("state-lost")
    with deployment.local_backend("state-lost", local):
        for step in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false",
                                                 f"-target={bucket}"]):
            run = deployment.terraform("state-lost", *step, "-no-color")
            assert run.returncode == 0, run.stdout + run.stderr
    local.unlink()
    aws("s3").head_bucket(Bucket=lost.state.bucket)  # made, but in no state any more

    result = deployment.apply("state-lost")
    assert result.recovered == (
        "recovered an interrupted bootstrap: re-initialized on the S3 backend (the interrupted "
        f"bootstrap's local state was gone); imported what it had made: {bucket}")
    assert result.recovered in result.describe()
    assert not (deployment.stack_dir("state-lost") / RECOVERY_IMPORTS).exists()
    in_state = {f"{resource['type']}.{resource['name']}"
                for resource in deployment.state_resources("state-lost")}
    assert {f"{kind}.{name}" for kind, blocks in config["resource"].items()
            for name in blocks} <= in_state
