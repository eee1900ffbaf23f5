"""Deploy an environment's stacks with plain Terraform, in order: state, network, app.

    python -m ops up   [--env uat] [--stack app-uat ...] [--target emulator|aws]
    python -m ops down [--env uat] [--target emulator|aws]

`up` synthesizes once, then per stack runs `terraform init` and `terraform apply -auto-approve`
(which applies only what it planned to change), so a second `up` changes nothing; the next stacks
start as soon as the state bucket is ready. The state stack's first `up` is its bootstrap:
applied with a local state file, whose content then moves into the bucket it made
(ops/core/runner.py); a bootstrap interrupted after it made the bucket, whose local state was
lost, is recovered (re-initialized on the bucket, what exists imported). `down` destroys app and
network (the state bucket is protected by `prevent_destroy`); what in them protects data or
another environment (ALB deletion protection, objects in a bucket, images in a repository, a
repository another environment runs from) refuses it on AWS before anything is destroyed (exit
2, one line saying what to do), and is lifted on the emulator (a throwaway), said in one line.
With `--target emulator` (the default) both run against the local AWS emulator (ops/emulator/),
which `up` starts when it is not running and `down` stops unless another environment still has
stacks in it; the JSON is the same one real AWS gets: only the environment (`AWS_ENDPOINT_URL`,
fake credentials) differs. Failures end in one line saying what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from config import EnvironmentConfig, outputs
from ops import emulator
from ops.aws import target_environment
from ops.core import OUTDIR
from ops.core.environments import load
from ops.core.runner import Runner
from ops.core.synth import synthesize
from ops.core.terraform import mirror_in_use
from ops.errors import Refused


def up(environment: EnvironmentConfig, stacks: list[str], target: str) -> int:
    started = time.monotonic()
    if target == "emulator" and emulator.main(["start", "--port", str(emulator.default_port())]):
        return 1
    deployment = Runner(environment, target_environment(target, environment.region))
    print(f"synthesizing {environment.name} ...", flush=True)
    synthesize(environment)
    print(f"  done ({time.monotonic() - started:.1f}s)", flush=True)
    deployment.apply_in_order(stacks, say=lambda line: print(line, flush=True))
    app = environment.stack_names["app"]
    if app in stacks:
        print(f"\nALB URL: {deployment.outputs(app).get(outputs.ALB_URL)}")
    print("\nInspect the state with the plain Terraform CLI, e.g.:")
    prefix = "env $(.venv/bin/python -m ops.emulator env) " if target == "emulator" else ""
    if mirror_in_use(deployment.env):  # absolute: terraform -chdir
        prefix += f"TF_CLI_CONFIG_FILE={deployment.env['TF_CLI_CONFIG_FILE']} "
    for stack in stacks:
        print(f"  {prefix}terraform -chdir={os.path.relpath(deployment.stack_dir(stack))} "
              "state list")
    print(f"total {time.monotonic() - started:.1f}s")
    return 0


def stacks_in_the_emulator(env: dict[str, str], besides: EnvironmentConfig) -> list[str]:
    """Network and app stacks of other environments whose state in the emulator's buckets still
    holds resources (a state stack alone holds only its bucket, which stopping may take)."""
    from ops.aws import client

    s3, found = client("s3", env), []
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for item in page.get("Contents", []):
                match = re.fullmatch(r"([^/]+)/((\w+)-\1)\.tfstate", item["Key"])
                if (not match or match.group(1) == besides.name
                        or match.group(3) == "state"):
                    continue
                state = json.loads(s3.get_object(Bucket=bucket["Name"], Key=item["Key"])
                                   ["Body"].read() or b"{}")
                if state.get("resources"):
                    found.append(match.group(2))
    return sorted(found)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((emulator.HOST, port), 1):
        return True
    return False


class DownRefused(Refused):
    """On AWS, `down` would destroy data or what another environment runs from (exit 2)."""


@dataclass
class Protection:
    """Something in a stack `down` destroys that keeps data or serves another environment."""

    stack: str
    what: str  # names it and why it stops the destroy
    fix: str  # what to do on AWS, before `down`
    lift: Callable[[], str]  # on the emulator: lift it through its API; says what it did

def protections(deployment: "Runner", stacks: list[str],
                environments: list[EnvironmentConfig]) -> list[Protection]:
    """What stops `down` of `stacks`, or should: ALB deletion protection, a bucket with objects
    in it (the ALB's access logs), an ECR repository holding images or that another deployed
    environment runs from. Read from the stacks' states and the account's answers."""
    from ops.aws import client

    env, environment = deployment.env, deployment.environment
    file = f"environments/{environment.name}.toml"
    found: list[Protection] = []
    for stack in stacks:
        for resource in deployment.state_resources(stack):
            kind, attributes = resource["type"], resource["attributes"]
            if kind == "aws_lb":
                elb, arn = client("elbv2", env), attributes["arn"]
                settings = {item["Key"]: item["Value"] for item in
                            elb.describe_load_balancer_attributes(LoadBalancerArn=arn)
                            ["Attributes"]}
                if settings.get("deletion_protection.enabled") == "true":
                    found.append(Protection(
                        stack, f"load balancer {attributes['name']} has deletion protection on",
                        f"set service.alb_deletion_protection = false in {file} and deploy it "
                        f"(make up ENV={environment.name}) first",
                        lambda elb=elb, arn=arn, name=attributes["name"]: unprotect(
                            elb, arn, name)))
            elif kind == "aws_s3_bucket":
                bucket, s3 = attributes["bucket"], client("s3", env)
                count = sum(len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
                            for page in s3.get_paginator("list_object_versions").paginate(
                                Bucket=bucket))
                if count:
                    found.append(Protection(
                        stack, f"bucket {bucket} holds {count} objects (access logs)",
                        f"keep them (aws s3 sync s3://{bucket} <folder>) and empty it: aws s3 "
                        f"rm s3://{bucket} --recursive",
                        lambda s3=s3, bucket=bucket: empty_bucket(s3, bucket)))
            elif kind == "aws_ecr_repository":
                found += repository_protections(deployment, stack, resource, environments)
    return found


def unprotect(elb, arn: str, name: str) -> str:
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "false"}])
    return f"deletion protection off on {name}"


def empty_bucket(s3, bucket: str) -> str:
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                   for item in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(objects), 1000):  # DeleteObjects takes 1000 at most
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[start:start + 1000]})
        deleted += len(objects)
    return f"emptied bucket {bucket} ({deleted} objects)"


def repository_protections(deployment: "Runner", stack: str, resource: dict,
                           environments: list[EnvironmentConfig]) -> list[Protection]:
    from ops.aws import client

    environment, env = deployment.environment, deployment.env
    name, address = resource["attributes"]["name"], f"{resource['type']}.{resource['name']}"
    ecr = client("ecr", env)
    running = [other.name for other in environments
               if other.name != environment.name
               and other.name in environment.release_environments  # (config/loading.py)
               and deployed(other, env)]
    def keep() -> str:
        deployment.init(stack)
        deployment.checked(stack, "state", "rm", address)
        return f"kept {name} ({', '.join(running)} run(s) from it) out of the destroy"

    if running:
        return [Protection(
            stack, f"ECR repository {name} is where {', '.join(running)} run(s) images from",
            f"take {', '.join(running)} down first (make down ENV=<env>), or keep the "
            f"repository: terraform -chdir={os.path.relpath(deployment.stack_dir(stack))} "
            f"state rm {address}",
            keep)]
    images = [image for page in ecr.get_paginator("list_images").paginate(repositoryName=name)
              for image in page["imageIds"]]
    if not images:
        return []

    def delete() -> str:
        for start in range(0, len(images), 100):  # BatchDeleteImage takes 100 at most
            ecr.batch_delete_image(repositoryName=name, imageIds=images[start:start + 100])
        return f"deleted {len(images)} images from {name}"
    return [Protection(stack, f"ECR repository {name} holds {len(images)} images",
                       f"delete them (aws ecr batch-delete-image --repository-name {name} "
                       "--image-ids ...) or keep the repository: terraform -chdir="
                       f"{os.path.relpath(deployment.stack_dir(stack))} state rm {address}",
                       delete)]


def deployed(environment: EnvironmentConfig, env: dict[str, str]) -> bool:
    """Whether `environment`'s ECS service exists (it runs, or is about to)."""
    from ops.aws import client

    from botocore.exceptions import ClientError

    names = environment.names
    try:
        services = client("ecs", {**env, "AWS_REGION": environment.region}).describe_services(
            cluster=names.cluster, services=[names.service])["services"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
            return False
        raise
    return any(service.get("status") == "ACTIVE" for service in services)


def check_protections(deployment: "Runner", stacks: list[str],
                      environments: list[EnvironmentConfig], target: str,
                      say=lambda line: None) -> None:
    """Before `down` destroys anything: on AWS, DownRefused naming each protection and what to
    do; on the emulator (a throwaway), lift each through its API, said in one line."""
    found = protections(deployment, stacks, environments)
    if not found:
        return
    if target != "emulator":
        raise DownRefused(f"{deployment.environment.name}: not destroyed: " + "; ".join(
            f"{protection.what}: {protection.fix}" for protection in found))
    say("emulator (a throwaway), lifted what protects data: "
        + "; ".join(protection.lift() for protection in found))


def down(environment: EnvironmentConfig, target: str, outdir: Path = OUTDIR,
         environments: list[EnvironmentConfig] | None = None,
         env: dict[str, str] | None = None) -> int:
    """Destroy this environment's app and network; on the emulator, stop it unless another
    environment still has stacks in it. `environments`: all of them (default: environments/),
    to find those that run from this one's repository; `env`: where AWS is (default: the
    target's), e.g. the emulator for a test of what `--target aws` refuses."""
    started = time.monotonic()
    deployment = Runner(environment, env or target_environment(target, environment.region),
                        outdir)
    names = environment.stack_names
    # Left only by an interrupted bootstrap; on the emulator, it describes emulated resources.
    stale = deployment.bootstrap_state_file(names["state"])
    port = emulator.default_port()
    if target == "emulator" and not _listening(port):
        stale.unlink(missing_ok=True)
        print(f"nothing to destroy: no emulator on port {port}, so nothing of "
              f"{environment.name} is deployed")
        return 0
    if not deployment.stack_dir(names["app"]).is_dir():
        synthesize(environment, outdir)
    # Everything but the protected state stack, in reverse deploy order.
    stacks = [name for kind, name in reversed(names.items()) if kind != "state"]
    check_protections(deployment, stacks, environments if environments is not None
                      else load(), target,
                      say=lambda line: print(line, flush=True))
    for stack in stacks:
        print(f"{stack} ...", flush=True)
        print(f"  destroyed {deployment.destroy(stack).changes['destroy']} resources",
              flush=True)
    if target == "emulator":
        others = stacks_in_the_emulator(deployment.env, besides=environment)
        if others:
            print(f"emulator left running: {', '.join(others)} still deployed in it; "
                  f"{names['state']} (its protected bucket, with its own state) stays too")
        else:
            emulator.main(["stop", "--port", str(port)])
            stale.unlink(missing_ok=True)
            print(f"emulator stopped; {names['state']} (the protected state bucket) went with it")
    else:
        print(f"{names['state']} kept: its bucket is protected by prevent_destroy")
    print(f"total {time.monotonic() - started:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops up, down` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"up": "up", "down": "down"})


if __name__ == "__main__":
    sys.exit(main())
