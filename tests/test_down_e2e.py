"""`make down` (ops.deploy down) per environment, on an emulator of its own (down may stop it):
it destroys only that environment, keeps the emulator up while another environment still has
stacks in it, and the last one stops it and leaves no stale local state file."""

import dataclasses
import os
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from ops import deploy, emulator
from ops.aws import client

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def variant(environments, name: str, cidr: str):
    uat = environments["uat"]
    return dataclasses.replace(
        uat, name=name, state=dataclasses.replace(uat.state, bucket=f"down-{name}-tfstate"),
        network=dataclasses.replace(uat.network, vpc_name=f"down-{name}-vpc", cidr=cidr))


@pytest.fixture
def own_emulator(monkeypatch):
    port = free_port()
    monkeypatch.setenv("EMULATOR_PORT", str(port))
    assert emulator.main(["start", "--port", str(port)]) == 0
    yield port
    emulator.main(["stop", "--port", str(port)])


def vpc_names(env) -> set[str]:
    return {tag["Value"] for vpc in client("ec2", env).describe_vpcs()["Vpcs"]
            for tag in vpc.get("Tags", []) if tag["Key"] == "Name"}


def test_down_touches_only_its_environment_and_the_last_stops_the_emulator(
        environments, own_emulator, tmp_path, capsys):
    first, second = (variant(environments, "dna", "10.60.0.0/16"),
                     variant(environments, "dnb", "10.61.0.0/16"))
    env = deploy.terraform_environment("emulator", "ap-south-1")
    deployments = {}
    for environment in (first, second):
        (tmp_path / environment.name).mkdir()
        outdir = tmp_path / environment.name / "cdktf.out"
        deploy.synthesize(environment, outdir)
        deployments[environment.name] = deploy.Deployment(environment, env, outdir)
        # Only the bucket matters here (the bootstrap has its own tests).
        client("s3", env).create_bucket(Bucket=environment.state.bucket,
                                        CreateBucketConfiguration={
                                            "LocationConstraint": "ap-south-1"})
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda d: d.apply(d.environment.stack_names["network"]),
                      deployments.values()))
    assert {"down-dna-vpc", "down-dnb-vpc"} <= vpc_names(env)

    assert deploy.down(first, "emulator", deployments["dna"].outdir) == 0
    printed = capsys.readouterr().out
    assert "emulator left running: network-dnb still deployed in it" in printed
    assert deploy._listening(own_emulator)
    names = vpc_names(env)
    assert "down-dna-vpc" not in names and "down-dnb-vpc" in names

    # What an interrupted bootstrap would have left: stale once the emulator stops.
    stale = deployments["dnb"].bootstrap_state_file("state-dnb")
    stale.write_text("{}")
    assert deploy.down(second, "emulator", deployments["dnb"].outdir) == 0
    assert "emulator stopped" in capsys.readouterr().out
    assert not deploy._listening(own_emulator)
    assert not stale.exists()

    # Nothing runs any more: a further down says so and succeeds.
    assert deploy.down(first, "emulator", deployments["dna"].outdir) == 0
    assert capsys.readouterr().out.strip() == (
        f"nothing to destroy: no emulator on port {own_emulator}, so nothing of dna is deployed")
