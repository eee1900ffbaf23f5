"""`make down` (ops.deploy down) per environment, on an emulator of its own (down may stop it):
it destroys only that environment, keeps the emulator up while another environment still has
stacks in it, and the last one stops it and leaves no stale local state file. And it tears down
what the README builds (uat after a release, prod with its ALB deletion protection and access
logs), leaving alone the repository prod runs from; on AWS the same protections refuse before
anything is destroyed (checked against the emulator's answers with AWS semantics)."""

import dataclasses
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from ops import deploy, emulator
from ops.aws import client, target_environment
from ops.core.runner import Runner
from ops.core.synth import synthesize

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
    env = target_environment("emulator", "ap-south-1")
    deployments = {}
    for environment in (first, second):
        (tmp_path / environment.name).mkdir()
        outdir = tmp_path / environment.name / "cdktf.out"
        synthesize(environment, outdir)
        deployments[environment.name] = Runner(environment, env, outdir)
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


@pytest.fixture(scope="module")
def built(environments, tmp_path_factory):
    """uat and prod as the README builds them (every stack, prod from uat's repository), on an
    emulator of the module's own; uat after a release, prod's ALB with a log in its bucket."""
    from ops import release
    from ops.emulator import put_test_image

    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMULATOR_PORT", str(port))
        assert emulator.main(["start", "--port", str(port)]) == 0
        try:
            env = target_environment("emulator", "ap-south-1")
            deployments = {}
            for name in ("uat", "prod"):
                outdir = tmp_path_factory.mktemp(name) / "cdktf.out"
                synthesize(environments[name], outdir)
                deployments[name] = Runner(environments[name], env, outdir)
            uat = deployments["uat"]
            uat.apply_in_order(list(environments["uat"].stack_names.values()))
            put_test_image(client("ecr", env), environments["uat"].names.repository, "v1")
            release.deploy(release.Target(environments["uat"], env, uat), "v1", timeout=120,
                           poll=0.3, say=lambda line: None)
            deployments["prod"].apply_in_order(list(environments["prod"].stack_names.values()))
            (bucket,) = [resource["attributes"]["bucket"] for resource in
                         deployments["prod"].state_resources("app-prod")
                         if resource["type"] == "aws_s3_bucket"]
            client("s3", env).put_object(Bucket=bucket, Key="AWSLogs/ELBAccessLogTestFile",
                                         Body=b"as ELB writes when access logs are enabled")
            yield {**deployments, "env": env, "port": port, "log_bucket": bucket,
                   "all": list(environments.values())}
        finally:
            emulator.main(["stop", "--port", str(port)])


def resource_counts(built) -> dict:
    return {name: {stack: len(built[name].state_resources(stack))
                   for stack in built[name].environment.stack_names.values()}
            for name in ("uat", "prod")}


def repository_in_what_down_destroys(deployment) -> bool:
    """Whether uat's repository is in a stack `down` destroys (app-uat) rather than in state-uat,
    which `down` keeps."""
    return any(resource["type"] == "aws_ecr_repository"
               for stack in ("network-uat", "app-uat")
               for resource in deployment.state_resources(stack))


def test_on_aws_what_protects_data_refuses_before_anything_is_destroyed(built):
    before = resource_counts(built)
    with pytest.raises(deploy.DownRefused) as refused:
        deploy.down(built["prod"].environment, "aws", built["prod"].outdir, built["all"],
                    env=built["env"])
    message = str(refused.value)
    assert message.startswith("prod: not destroyed: load balancer hello-world-prod has deletion "
                              "protection on: set service.alb_deletion_protection = false in "
                              "environments/prod.toml and deploy it (make up ENV=prod) first; ")
    assert (f"bucket {built['log_bucket']} holds 1 objects (access logs): keep them (aws s3 "
            f"sync s3://{built['log_bucket']} <folder>) and empty it: aws s3 rm "
            f"s3://{built['log_bucket']} --recursive") in message
    assert "\n" not in message

    uat = built["uat"]
    if repository_in_what_down_destroys(uat):
        with pytest.raises(deploy.DownRefused, match=r"^uat: not destroyed: ECR repository "
                           r"hello-world/hello-world is where prod run\(s\) images from: take "
                           r"prod down first"):
            deploy.down(uat.environment, "aws", uat.outdir, built["all"], env=built["env"])
    else:  # in state-uat, which down keeps: nothing of uat's down protects prod's images
        assert deploy.protections(uat, ["app-uat", "network-uat"], built["all"]) == []
    assert resource_counts(built) == before


def test_uat_down_after_a_release_leaves_prods_image_source_alone(built, capsys):
    env, repository = built["env"], built["uat"].environment.names.repository
    assert deploy.down(built["uat"].environment, "emulator", built["uat"].outdir,
                       built["all"]) == 0
    printed = capsys.readouterr().out
    assert "emulator left running: app-prod, network-prod still deployed in it" in printed
    tags = sorted(image["imageTag"] for image in client("ecr", env).list_images(
        repositoryName=repository)["imageIds"])
    # v1 and the tag its release gave it (release-uat-<time>, kept by the lifecycle rule)
    released = [tag for tag in tags if tag.startswith("release-uat-")]
    assert len(released) == 1 and sorted(set(tags) - set(released)) == ["v1"], tags
    counts = resource_counts(built)
    assert counts["uat"]["app-uat"] == counts["uat"]["network-uat"] == 0
    assert deploy.deployed(built["prod"].environment, env)


def test_prod_down_lifts_the_emulators_protections_in_one_line(built, capsys):
    assert deploy.down(built["prod"].environment, "emulator", built["prod"].outdir,
                       built["all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (lifted,) = [line for line in lines if line.startswith("emulator (a throwaway)")]
    assert lifted == (f"emulator (a throwaway), lifted what protects data: deletion protection "
                      f"off on hello-world-prod; emptied bucket {built['log_bucket']} (1 "
                      "objects)")
    assert "emulator stopped" in lines[-2]
    assert not deploy._listening(built["port"])
