"""ops/image.py: build, tag with the commit, push, print the digest (no Docker engine runs
here: the command sequence, the refusals, and the ECR side against the emulator)."""

import dataclasses
import json
import subprocess
import sys

import boto3
import pytest

from ops import image
from ops.core import ROOT

REGISTRY = "123456789012.dkr.ecr.ap-south-1.amazonaws.com"
MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
               "digest": "sha256:" + "1" * 64},
    "layers": []})


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ops.image", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env)


def test_build_tag_login_push_in_order():
    steps = image.commands(registry=REGISTRY, repository="hello-world/hello-world",
                           region="ap-south-1", tag="3f9c2e1a7b4d", context="app")
    name = f"{REGISTRY}/hello-world/hello-world"
    # For the tasks' platform from any machine (an arm64 laptop too), as one manifest: an
    # attestation's untagged parts would be expired by the lifecycle rule.
    assert steps == [
        ["docker", "build", "--pull", "--platform", "linux/amd64", "--provenance=false",
         "--build-arg", "VERSION=3f9c2e1a7b4d", "-t", f"{name}:3f9c2e1a7b4d", "app"],
        f"aws ecr get-login-password --region ap-south-1 | docker login --username AWS "
        f"--password-stdin {REGISTRY}",
        ["docker", "push", f"{name}:3f9c2e1a7b4d"],
    ]


def test_the_build_platform_is_the_tasks(synthesized):
    app = synthesized.parsed("app-uat")
    (task,) = app["resource"]["aws_ecs_task_definition"].values()
    architecture = {"X86_64": "amd64", "ARM64": "arm64"}[
        task["runtime_platform"]["cpu_architecture"]]
    assert image.commands(registry=REGISTRY, repository="r", region="ap-south-1", tag="t",
                          context="app")[0][4] == f"linux/{architecture}"


def test_dry_run_prints_the_steps_for_the_shared_repository(environments):
    result = run("push", "--env", "prod", "--tag", "deadbeef1234", "--dry-run",
                 "--account", "123456789012")
    assert result.returncode == 0, result.stderr
    name = f"{REGISTRY}/hello-world/hello-world"
    assert result.stdout.splitlines() == [
        f"+ docker build --pull --platform linux/amd64 --provenance=false --build-arg "
        f"VERSION=deadbeef1234 -t {name}:deadbeef1234 {ROOT / 'app'}",
        f"+ aws ecr get-login-password --region ap-south-1 | docker login --username AWS "
        f"--password-stdin {REGISTRY}",
        f"+ docker push {name}:deadbeef1234",
        "image: hello-world/hello-world:deadbeef1234",
        "digest: (known after the push)",
        "release it: python -m ops release --env prod --version deadbeef1234",
    ]


def test_an_environment_on_a_public_image_is_refused(tmp_path):
    text = (ROOT / "environments" / "uat.toml").read_text().replace(
        "ecr_repository = true\n", "")
    (tmp_path / "uat.toml").write_text(text)
    import os
    result = run("push", "--env", "uat", "--dry-run", "--account", "123456789012",
                 env={**os.environ, "ENVIRONMENTS_DIR": str(tmp_path)})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: environments/uat.toml: service.ecr_repository = false: this environment runs "
        "a public image; set ecr_repository = true (or ecr_repository_owner) to build and "
        "push\n")


def test_an_unknown_environment_is_refused():
    result = run("push", "--env", "staging", "--dry-run")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: ENVIRONMENTS = 'staging': unknown environment; allowed: prod, uat\n"


# The session's emulator is shared with the e2e modules of this worker, whose state-uat creates
# hello-world/hello-world: these tests use a project of their own, so a repository of theirs.
PROJECT = "imagetest"


@pytest.fixture
def uat(environments):
    return dataclasses.replace(environments["uat"], project=PROJECT)


@pytest.fixture
def repository(emulator, uat):
    ecr = boto3.client("ecr", region_name="ap-south-1")
    name = uat.names.repository
    ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")
    yield ecr, name
    ecr.delete_repository(repositoryName=name, force=True)


def test_a_commit_already_in_ecr_is_not_built_again(repository, uat, capsys):
    ecr, name = repository
    pushed = ecr.put_image(repositoryName=name, imageManifest=MANIFEST, imageTag="abc123")
    expected = pushed["image"]["imageId"]["imageDigest"]
    assert expected.startswith("sha256:")
    digest = image.push(uat, tag="abc123", context="app",
                        dry_run=False, env=_emulator_env())
    assert digest == expected
    assert capsys.readouterr().out == (
        f"{name}:abc123 is already in ECR (tags are immutable); not rebuilt\n")


def test_a_failed_build_stops_with_one_line_and_pushes_nothing(repository, uat, tmp_path,
                                                               capsys):
    ecr, name = repository
    docker = tmp_path / "docker"  # a docker client whose engine is not there
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(0o755)
    env = {**_emulator_env(), "PATH": f"{tmp_path}:/usr/bin:/bin"}
    with pytest.raises(image.ImageError, match=r"^docker build --pull .*: failed$"):
        image.push(uat, tag="abc999", context="app",
                   dry_run=False, env=env)
    assert capsys.readouterr().out.startswith("+ docker build")
    assert ecr.list_images(repositoryName=name)["imageIds"] == []


def test_a_missing_repository_is_one_line_naming_the_stack_that_creates_it(emulator, tmp_path):
    # prod pushes to uat's repository, which no stack has created in this emulator.
    docker = tmp_path / "docker"  # would record any build or push
    docker.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/ran\n")
    docker.chmod(0o755)
    environments = tmp_path / "environments"
    environments.mkdir()
    for name in ("uat", "prod"):  # a project of its own: no repository of that name exists
        text = (ROOT / "environments" / f"{name}.toml").read_text()
        (environments / f"{name}.toml").write_text(f'project = "{PROJECT}"\n' + text)
    env = {**_emulator_env(), "PATH": f"{tmp_path}:{_emulator_env()['PATH']}",
           "ENVIRONMENTS_DIR": str(environments)}
    result = run("push", "--env", "prod", "--tag", "abc123def456", env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: ECR repository {PROJECT}/hello-world does not exist in ap-south-1; state-uat "
        "creates it: an administrator applies it with `python -m ops up --env uat "
        "--stack state-uat`, then push again\n")
    assert not (tmp_path / "ran").exists()


def _emulator_env():
    import os
    return dict(os.environ)  # conftest points every AWS client at the session's emulator
