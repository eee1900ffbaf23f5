"""Ship a version of the application: release, promote, roll back, and see what runs where.

    python -m ops.release deploy   --env E --version V    (V: an image tag, or sha256:<digest>)
    python -m ops.release promote  --from uat --to prod
    python -m ops.release rollback --env E
    python -m ops.release status   [--env E]
    python -m ops.release unlock   --env E                 (clear the lock of a release that died)
    options: --target emulator|aws (default $DEPLOY_TARGET, else emulator), --timeout S, --poll S

The version of record is the SSM parameter `/<project>/<env>/<service>/image`: the app stack
reads it for the task definition's image, so Terraform and this tool always agree on what runs,
a plain `terraform apply` never goes back to an older image, and the parameter's history is the
release history (rollback, audit). A release:

1. resolves V to a digest in the environment's ECR repository (refused when it is not there);
2. takes the environment's release lock (an SSM parameter created only if absent);
3. refuses while a CodeDeploy deployment runs, or when the app stack, planned with the current
   version of record, has changes a release does not make (those go through review first):
   every refusal comes before anything is written;
4. tags the digest `release-<env>-<UTC time>` (the repository's lifecycle policy keeps those
   images) and writes `<repository url>@sha256:...` as the version of record, saying who
   released what;
5. plans the app stack and applies that saved plan (it replaces the task definition and
   updates the service, nothing else);
6. rolling mode: waits until ECS reports the deployment COMPLETED with every task running;
   blue/green mode: creates the CodeDeploy deployment (AppSpec naming the new task definition,
   container and port) and waits for it: the traffic shift, then the termination wait (the
   original task set kept for a rollback), reported as its own phase. The default wait is the
   deployment config's shift plus termination wait plus a margin for task start (--timeout
   overrides it); when it ends during the termination wait, the release counts as done;
7. when the rollout fails (circuit breaker or CodeDeploy rollback), writes the previous version
   of record back and re-applies, so the stack matches what runs.

Exit status: 0 done, 1 the rollout failed and was rolled back (or did not finish in time),
2 refused: bad input or a state that forbids the release; nothing was changed.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from config import RELEASE_TAG_PREFIX, TRAFFIC_SHIFTS, EnvironmentConfig, delivery_order
from ops.aws import client
from ops.deploy import DeployError, Deployment, synthesize
from ops.image import git_commit
from ops.terraform import PlannedChange

DONE, FAILED, REFUSED = 0, 1, 2
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# Description prefix of a version of record written back after a refused or failed release:
# the value before it never ran, so rollback skips it.
RESTORE = "restore:"
# The manifests a retag accepts (Docker v2 and OCI, single images and indexes).
MANIFEST_TYPES = ["application/vnd.docker.distribution.manifest.v2+json",
                  "application/vnd.docker.distribution.manifest.list.v2+json",
                  "application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.oci.image.index.v1+json"]
PLAN_FILE = "release.tfplan"
# What a release may change in the app stack: the task definition (a new revision: Terraform
# replaces it) and the service (now running that revision). Anything else is pending
# infrastructure work, which goes through review, never along with a release.
RELEASE_ACTIONS = {"aws_ecs_task_definition": ("replace",), "aws_ecs_service": ("update",)}
CODEDEPLOY_RUNNING = ("Created", "Queued", "InProgress", "Baking", "Ready")
BATCH_GET_DEPLOYMENTS = 25  # deployment ids per BatchGetDeployments call (AWS's maximum)
# How long a release waits, besides the traffic shift and the termination wait (blue/green):
# Fargate starting the replacement tasks (image pull included) and the target group's health
# checks passing. A rolling release waits ROLLING_WAIT_SECONDS.
START_MARGIN_SECONDS = 600
ROLLING_WAIT_SECONDS = 1800


class Refused(Exception):
    """Bad input, or a state that forbids the release; nothing was changed (exit 2)."""


class RolloutFailed(Exception):
    """The rollout failed and was rolled back, or did not finish in time (exit 1)."""


@dataclass
class Target:
    """One environment to release to: its config, the AWS environment (credentials, region,
    endpoint) that boto3 and Terraform share, and its synthesized stacks (made on first use)."""

    environment: EnvironmentConfig
    env: dict[str, str]
    deployment: Deployment | None = None

    @property
    def name(self) -> str:
        return self.environment.name

    @property
    def names(self):
        return self.environment.names

    @property
    def app_stack(self) -> str:
        return self.environment.stack_names["app"]

    @property
    def blue_green(self) -> bool:
        return self.environment.service.blue_green.enabled

    def client(self, service: str):
        return client(service, self.env)

    def stacks(self) -> Deployment:
        if self.deployment is None:
            synthesize(self.environment, reuse=True)  # skipped when cdktf.out is current
            self.deployment = Deployment(self.environment, self.env)
        return self.deployment


@dataclass(frozen=True)
class Image:
    reference: str  # <repository url>@sha256:...
    digest: str
    tags: tuple[str, ...]

    @property
    def label(self) -> str:
        # The release-<env>-<time> tags are bookkeeping for the lifecycle rule, not names.
        names = [tag for tag in self.tags if not tag.startswith(RELEASE_TAG_PREFIX)]
        return f"{', '.join(names) or 'untagged'} ({self.digest[:19]})"


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def released_by() -> str:
    return (os.environ.get("RELEASED_BY") or os.environ.get("GITHUB_ACTOR")
            or os.environ.get("USER") or getpass.getuser())


def commit() -> str:
    """The commit the release runs from (its infrastructure code)."""
    try:
        return os.environ.get("GITHUB_SHA", "")[:12] or git_commit()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --- Reading: images, the version of record and its history --------------------------------


def require_repository(target: Target) -> str:
    repository = target.names.repository
    if repository is None:
        raise Refused(
            f"{target.name}: runs the public image {target.environment.service.image!r} and has "
            "no ECR repository to release from; set service.ecr_repository = true (or "
            f"ecr_repository_owner) in environments/{target.name}.toml")
    return repository


def find_image(target: Target, version: str) -> Image:
    """`version` (a tag or sha256:digest) in the environment's repository."""
    repository = require_repository(target)
    if not (_TAG.match(version) or _DIGEST.match(version)):
        raise Refused(f"--version {version!r}: not an image tag or sha256:<64 hex digits>")
    ecr = target.client("ecr")
    image_id = {"imageDigest": version} if version.startswith("sha256:") else \
        {"imageTag": version}
    try:
        (detail,) = ecr.describe_images(repositoryName=repository,
                                        imageIds=[image_id])["imageDetails"]
        (found,) = ecr.describe_repositories(repositoryNames=[repository])["repositories"]
    except ClientError as error:
        if _code(error) == "ImageNotFoundException":
            raise Refused(f"{target.name}: version {version!r} is not in ECR repository "
                          f"{repository}; push it first (python -m ops.image push --env "
                          f"{target.name})") from None
        if _code(error) == "RepositoryNotFoundException":
            owner = target.environment.service.ecr_repository_owner or target.name
            raise Refused(f"{target.name}: ECR repository {repository} does not exist; {owner}'s "
                          f"state stack creates it: python -m ops.deploy up --env {owner}, "
                          "then push (python -m ops.image push) and release again") from None
        raise
    digest = detail["imageDigest"]
    return Image(f"{found['repositoryUri']}@{digest}", digest,
                 tuple(sorted(detail.get("imageTags") or [])))


def release_tag(target: Target, when: datetime) -> str:
    return f"{RELEASE_TAG_PREFIX}{target.name}-{when.strftime('%Y%m%dT%H%M%SZ')}"


def tag_release(target: Target, image: str, say: Callable[[str], None]) -> None:
    """Tag the digest `image` names release-<env>-<UTC time>, which the repository's lifecycle
    policy keeps (constructs_lib/image_repository.py) while untagged and other images expire:
    the same manifest put again under the new tag (ECR's retagging)."""
    repository, digest = target.names.repository, image.rpartition("@")[2]
    if repository is None or not _DIGEST.match(digest):
        return
    ecr = target.client("ecr")
    (found,) = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}],
                                   acceptedMediaTypes=MANIFEST_TYPES)["images"]
    tag = release_tag(target, datetime.now(timezone.utc))
    try:
        ecr.put_image(repositoryName=repository, imageManifest=found["imageManifest"],
                      imageManifestMediaType=found.get("imageManifestMediaType") or
                      json.loads(found["imageManifest"]).get("mediaType", MANIFEST_TYPES[0]),
                      imageTag=tag, imageDigest=digest)
    except ClientError as error:
        if _code(error) != "ImageAlreadyExistsException":  # released this second already
            raise
    say(f"{target.name}: tagged {digest[:19]} {tag}")


def image_of_reference(target: Target, reference: str) -> Image:
    """A version of record's value (`<repo url>@sha256:...` or `<repo url>:<tag>`) as an Image
    of the environment's repository; Refused for any other image (a public one)."""
    repository = target.names.repository
    match = re.match(r"^[^/]+/(?P<repository>[^:@]+)(?P<separator>[:@])(?P<version>.+)$",
                     reference)
    if repository is None or not match or match["repository"] != repository:
        raise Refused(f"{target.name}: its version of record {reference!r} is not an image of "
                      f"{repository or 'an ECR repository'}")
    return find_image(target, match["version"])


def version_of_record(target: Target) -> str:
    try:
        return target.client("ssm").get_parameter(
            Name=target.names.image_parameter)["Parameter"]["Value"]
    except ClientError as error:
        if _code(error) == "ParameterNotFound":
            raise Refused(f"{target.name}: not deployed (no version of record "
                          f"{target.names.image_parameter}); deploy it first: python -m "
                          f"ops.deploy up --env {target.name}") from None
        raise


def history(target: Target) -> list[dict]:
    """The version of record's versions, oldest first."""
    pages = target.client("ssm").get_paginator("get_parameter_history").paginate(
        Name=target.names.image_parameter)
    return sorted((entry for page in pages for entry in page["Parameters"]),
                  key=lambda entry: entry["Version"])


def previous_version(versions: list[dict]) -> str | None:
    """The value before the current one that last ran: versions that a `restore:` entry
    replaced never ran (refused or rolled back) and are skipped."""
    ran = [entry for entry, following in zip(versions, versions[1:] + [None])
           if not (following and following.get("Description", "").startswith(RESTORE))]
    current = versions[-1]["Value"] if versions else None
    return next((entry["Value"] for entry in reversed(ran[:-1]) if entry["Value"] != current),
                None)


def release_entry(versions: list[dict]) -> dict | None:
    """The entry that released the current value: a `restore:` entry only puts back a value
    released earlier, so the last other entry with that value (None without history)."""
    if not versions:
        return None
    current = versions[-1]["Value"]
    return next((entry for entry in reversed(versions) if entry["Value"] == current
                 and not entry.get("Description", "").startswith(RESTORE)), versions[-1])


# --- The release lock ----------------------------------------------------------------------


@contextmanager
def release_lock(target: Target, version: str) -> Iterator[None]:
    """Hold the environment's release lock: an SSM parameter that PutParameter creates only if
    it does not exist (atomic), deleted when the release ends."""
    ssm, name = target.client("ssm"), target.names.release_lock_parameter
    value = json.dumps({"holder": released_by(), "host": socket.gethostname(),
                        "pid": os.getpid(), "since": _now(), "version": version})
    try:
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=False,
                          Description="A release is in progress (python -m ops.release)")
    except ClientError as error:
        if _code(error) != "ParameterAlreadyExists":
            raise
        raise Refused(f"{target.name}: a release is already in progress ({describe_lock(target)}"
                      f"); if it died, clear it: python -m ops.release unlock --env "
                      f"{target.name}") from None
    try:
        yield
    finally:
        try:
            if ssm.get_parameter(Name=name)["Parameter"]["Value"] == value:
                ssm.delete_parameter(Name=name)
        except ClientError:
            pass  # already cleared by `unlock`


def describe_lock(target: Target) -> str:
    try:
        value = target.client("ssm").get_parameter(
            Name=target.names.release_lock_parameter)["Parameter"]["Value"]
    except ClientError:
        return "lock released meanwhile"
    try:
        held = json.loads(value)
        return (f"held by {held['holder']} on {held['host']} (pid {held['pid']}) since "
                f"{held['since']}, releasing {held['version']}")
    except (ValueError, KeyError, TypeError):
        return f"lock value {value!r}"


def unlock(target: Target) -> str:
    ssm = target.client("ssm")
    try:
        held = describe_lock(target)
        ssm.delete_parameter(Name=target.names.release_lock_parameter)
    except ClientError as error:
        if _code(error) == "ParameterNotFound":
            return f"{target.name}: no release lock held"
        raise
    return f"{target.name}: cleared the release lock ({held})"


# --- Rolling out -----------------------------------------------------------------------------


def unexpected_changes(changes: list[PlannedChange]) -> list[str]:
    """The planned changes a release may not make, as 'address (action)'."""
    return [f"{change.address} ({change.action})" for change in changes
            if change.action not in ("noop", "read")
            and change.action not in RELEASE_ACTIONS.get(change.type, ())]


def refuse_unexpected(target: Target, changes: list[PlannedChange]) -> None:
    unexpected = unexpected_changes(changes)
    if unexpected:
        raise Refused(f"{target.app_stack} has changes a release does not make: "
                      f"{', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}; "
                      f"review and apply them first (make plan ENV={target.name}, then make up "
                      f"ENV={target.name}), then release again")


def apply_version_of_record(target: Target, say: Callable[[str], None]) -> dict:
    """Plan the app stack with the current version of record; apply the saved plan if it only
    rolls out a new task definition; returns the stack's outputs."""
    stacks, stack = target.stacks(), target.app_stack
    started = time.monotonic()
    stacks.init(stack)
    changes = stacks.plan_changes(stack, PLAN_FILE)
    if changes:
        refuse_unexpected(target, changes)
        stacks.apply_saved(stack, PLAN_FILE)
        say(f"{stack}: new task definition applied ({time.monotonic() - started:.1f}s)")
    else:
        say(f"{stack}: no changes ({time.monotonic() - started:.1f}s)")
    return stacks.outputs(stack)


def describe_service(target: Target) -> dict | None:
    services = target.client("ecs").describe_services(
        cluster=target.names.service, services=[target.names.service])["services"]
    active = [service for service in services if service.get("status") == "ACTIVE"]
    return active[0] if active else None


def wait_for_ecs(target: Target, task_definition: str, timeout: float, poll: float) -> str:
    """Until the ECS deployment of `task_definition` is COMPLETED with every task running;
    RolloutFailed when ECS fails it (circuit breaker) or goes back to another one."""
    deadline, state = time.monotonic() + timeout, "not started"
    while True:
        service = describe_service(target) or {}
        deployments = service.get("deployments", [])
        mine = next((d for d in deployments if d["taskDefinition"] == task_definition), None)
        if mine is not None and mine.get("rolloutState") == "FAILED":
            raise RolloutFailed(mine.get("rolloutStateReason") or "ECS failed the deployment")
        if mine is None and service.get("taskDefinition") != task_definition:
            # A rollback that finished between two polls leaves no FAILED deployment to read:
            # ECS's event says why ("(deployment ecs-svc/...) deployment failed: <reason>").
            failed = next((event["message"] for event in service.get("events", [])
                           if "deployment failed: " in event["message"]), None)
            if failed is not None:
                raise RolloutFailed(f"ECS failed the deployment: "
                                    f"{failed.split('deployment failed: ', 1)[1].rstrip('.')}; "
                                    f"the service went back to {revision(service)}")
            events = [event["message"] for event in service.get("events", [])[:2]]
            raise RolloutFailed(f"the service went back to {revision(service)}"
                                + (f" ({'; '.join(reversed(events))})" if events else ""))
        if mine is not None:
            state = f"{mine.get('rolloutState')}, {service.get('runningCount')}/" \
                    f"{service.get('desiredCount')} running"
            if mine["status"] == "PRIMARY" and mine.get("rolloutState") == "COMPLETED" and \
                    len(deployments) == 1 and \
                    service["runningCount"] == service["desiredCount"] == mine["runningCount"]:
                return state
        if time.monotonic() > deadline:
            raise TimeoutError(state)
        time.sleep(poll)


def appspec(task_definition: str, container: str, port: int) -> str:
    return json.dumps({"version": 0.0, "Resources": [{"TargetService": {
        "Type": "AWS::ECS::Service",
        "Properties": {"TaskDefinition": task_definition,
                       "LoadBalancerInfo": {"ContainerName": container,
                                            "ContainerPort": int(port)}}}}]}, indent=2)


def traffic_shift_minutes(traffic_shift: str) -> int:
    """Minutes from the first shifted traffic to all of it, read from the CodeDeploy config
    name TRAFFIC_SHIFTS gives (ECSLinear<P>PercentEvery<M>Minutes: 100/P steps, M minutes
    apart; ECSCanary<P>Percent<M>Minutes: one wait of M minutes; ECSAllAtOnce: none)."""
    config = TRAFFIC_SHIFTS[traffic_shift]
    linear = re.search(r"Linear(\d+)PercentEvery(\d+)Minutes?$", config)
    canary = re.search(r"Canary(\d+)Percent(\d+)Minutes?$", config)
    if linear:
        return (-(-100 // int(linear[1])) - 1) * int(linear[2])
    if canary:
        return int(canary[2])
    if config.endswith("AllAtOnce"):
        return 0
    raise ValueError(f"{config}: cannot tell how long its traffic shift takes")


def release_wait(target: Target) -> float:
    """Seconds a release waits for its rollout: blue/green, CodeDeploy reports Succeeded only
    after the traffic shift and the termination wait, so those plus START_MARGIN_SECONDS."""
    blue_green = target.environment.service.blue_green
    if not blue_green.enabled:
        return ROLLING_WAIT_SECONDS
    return 60 * (traffic_shift_minutes(blue_green.traffic_shift)
                 + blue_green.termination_wait_minutes) + START_MARGIN_SECONDS


def deploy_with_codedeploy(target: Target, outputs: dict, description: str, timeout: float,
                           poll: float, say: Callable[[str], None]) -> str:
    """Create the blue/green deployment of the new task definition and wait for it; returns
    the final state, RolloutFailed when CodeDeploy fails or stops (rolls back) it."""
    codedeploy = target.client("codedeploy")
    deployment = codedeploy.create_deployment(
        applicationName=outputs["codedeploy_application"],
        deploymentGroupName=outputs["codedeploy_deployment_group"],
        description=description[:100],
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(
            outputs["task_definition_arn"], outputs["container_name"],
            outputs["container_port"])}})["deploymentId"]
    say(f"{target.name}: CodeDeploy deployment {deployment} created; waiting up to "
        f"{timeout:.0f}s (traffic shift, termination wait, task start)")
    deadline, shifted = time.monotonic() + timeout, False
    while True:
        info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
        if info["status"] == "Succeeded":
            return f"CodeDeploy deployment {deployment} Succeeded: traffic shifted"
        if info["status"] in ("Failed", "Stopped"):
            why = (info.get("errorInformation") or {}).get("message") or "no reason given"
            raise RolloutFailed(f"CodeDeploy deployment {deployment} {info['status']}: {why}")
        if info.get("instanceTerminationWaitTimeStarted") and not shifted:
            shifted = True  # all traffic on the new version; the old one kept for a rollback
            say(f"{target.name}: traffic fully shifted; the original task set stays "
                f"{target.environment.service.blue_green.termination_wait_minutes} min for a "
                "rollback before CodeDeploy reports Succeeded")
        if time.monotonic() > deadline:
            if shifted:
                return (f"CodeDeploy deployment {deployment}: traffic shifted, termination wait "
                        "still running")
            raise TimeoutError(f"CodeDeploy deployment {deployment} {info['status']}")
        time.sleep(poll)


def check_release_applies(target: Target, say: Callable[[str], None]) -> None:
    """Refused when the app stack has changes a release does not make, decided on a plan with
    the current version of record, before anything is written."""
    stacks, stack = target.stacks(), target.app_stack
    started = time.monotonic()
    stacks.init(stack)
    refuse_unexpected(target, stacks.plan_changes(stack, PLAN_FILE))
    say(f"{stack}: nothing pending besides the release ({time.monotonic() - started:.1f}s)")


def release(target: Target, image: str, description: str, *, timeout: float | None,
            poll: float, say: Callable[[str], None] = print) -> str:
    """Make `image` the environment's version of record and roll it out; the summary line.
    Every refusal is decided before the version of record is written."""
    started = time.monotonic()
    wait = release_wait(target) if timeout is None else timeout
    with release_lock(target, image):
        previous = version_of_record(target)
        if target.blue_green:
            running = running_codedeploy_deployments(target)
            if running:
                raise Refused(f"{target.name}: CodeDeploy deployment "
                              f"{running[0]['deploymentId']} is {running[0]['status']}; a "
                              f"release waits for it to end (python -m ops.release status "
                              f"--env {target.name})")
        ssm = target.client("ssm")
        if previous != image:
            check_release_applies(target, say)
            tag_release(target, image, say)
            ssm.put_parameter(Name=target.names.image_parameter, Value=image, Type="String",
                              Overwrite=True, Description=description[:1024])
            say(f"{target.name}: version of record -> {image}")

        def restore(why: str) -> None:
            if previous != image:
                ssm.put_parameter(Name=target.names.image_parameter, Value=previous,
                                  Type="String", Overwrite=True,
                                  Description=f"{RESTORE} {why} (by {released_by()})"[:1024])
                say(f"{target.name}: version of record restored -> {previous}")

        try:
            outputs = apply_version_of_record(target, say)
        except (Refused, DeployError) as error:
            # Only a change made between the check and now (or a failed apply) lands here.
            restore(f"release of {image} stopped: {error}")
            raise
        try:
            if target.blue_green:
                state = deploy_with_codedeploy(target, outputs, description, wait, poll, say)
            else:
                state = wait_for_ecs(target, outputs["task_definition_arn"], wait, poll)
        except TimeoutError as error:
            raise RolloutFailed(
                f"{target.name}: the rollout of {image} did not finish within {wait:.0f}s "
                f"({error}); it goes on: watch python -m ops.release status --env "
                f"{target.name}") from None
        except RolloutFailed as error:
            restore(f"rollout of {image} failed: {error}")
            apply_version_of_record(target, say)  # the stack again matches what runs
            raise RolloutFailed(f"rolled back: {target.name}: {str(error).rstrip('.')}; the "
                                f"version of record is {previous} again") from None
    return (f"{target.name}: released {image} ({revision_name(outputs['task_definition_arn'])}"
            f"; {state}) in {time.monotonic() - started:.1f}s")


def revision_name(task_definition_arn: str) -> str:
    return task_definition_arn.rsplit("/", 1)[-1]


def revision(service: dict) -> str:
    return revision_name(service.get("taskDefinition") or "?")


def describe_release(action: str, image: Image) -> str:
    return f"{action} {image.label} (commit {commit()}) by {released_by()}"


# --- The commands ----------------------------------------------------------------------------


def deploy(target: Target, version: str, *, timeout: float | None, poll: float,
           say: Callable[[str], None] = print) -> str:
    image = find_image(target, version)
    return release(target, image.reference, describe_release("release", image),
                   timeout=timeout, poll=poll, say=say)


def check_healthy(target: Target, image: Image) -> None:
    """Refused unless the environment runs `image` on every desired task, with no deployment
    in progress."""
    service = describe_service(target)
    if service is None:
        raise Refused(f"{target.name}: not deployed (no ECS service {target.names.service})")
    definition = target.client("ecs").describe_task_definition(
        taskDefinition=service["taskDefinition"])["taskDefinition"]
    running = [container["image"] for container in definition["containerDefinitions"]
               if container["name"] == target.environment.service.container_name]
    if image.reference not in running and not any(
            reference.endswith(f":{tag}") for reference in running for tag in image.tags):
        raise Refused(f"{target.name}: not healthy on its version of record {image.label}: "
                      f"the service runs {', '.join(running) or 'no such container'} "
                      f"({revision(service)})")
    state = deployment_state(target, service)
    if service.get("deploymentController", {}).get("type") == "CODE_DEPLOY":
        busy = any(state.endswith(f" {status}") for status in CODEDEPLOY_RUNNING)
    else:
        busy = state != "ECS COMPLETED"
    if busy:
        raise Refused(f"{target.name}: not healthy on {image.label}: deployment {state}")
    if service["runningCount"] != service["desiredCount"]:
        raise Refused(f"{target.name}: not healthy on {image.label}: "
                      f"{service['runningCount']}/{service['desiredCount']} tasks running")


def promote(source: Target, target: Target, *, timeout: float | None, poll: float,
            say: Callable[[str], None] = print) -> str:
    for one in (source, target):
        require_repository(one)
    if (source.names.repository, source.environment.region) != (
            target.names.repository, target.environment.region):
        raise Refused(
            f"{target.name} runs images from {target.names.repository} "
            f"({target.environment.region}), {source.name} from {source.names.repository} "
            f"({source.environment.region}): promotion moves one digest within one repository; "
            f"set service.ecr_repository_owner = \"{source.name}\" in environments/"
            f"{target.name}.toml")
    image = image_of_reference(source, version_of_record(source))
    check_healthy(source, image)
    return release(target, image.reference,
                   describe_release(f"promote from {source.name}:", image),
                   timeout=timeout, poll=poll, say=say)


def rollback(target: Target, *, timeout: float | None, poll: float,
             say: Callable[[str], None] = print) -> str:
    version_of_record(target)  # refuses an environment that is not deployed
    previous = previous_version(history(target))
    if previous is None:
        raise Refused(f"{target.name}: no earlier version of record to roll back to")
    try:
        label = image_of_reference(target, previous).label
    except Refused:
        label = previous  # e.g. the public image the environment started with
    return release(target, previous, f"rollback to {label} (commit {commit()}) by "
                   f"{released_by()}", timeout=timeout, poll=poll, say=say)


def codedeploy_deployments(target: Target, statuses: tuple[str, ...] = ()) -> list[dict]:
    """The deployment group's deployments (only those in `statuses`, when given), newest first:
    every page of ListDeployments (unordered, 100 a page), read 25 at a time (the most
    BatchGetDeployments takes)."""
    codedeploy = target.client("codedeploy")
    filters = {"includeOnlyStatuses": list(statuses)} if statuses else {}
    ids = [deployment for page in codedeploy.get_paginator("list_deployments").paginate(
        applicationName=target.names.service, deploymentGroupName=target.names.service,
        **filters) for deployment in page.get("deployments", [])]
    infos = [info for start in range(0, len(ids), BATCH_GET_DEPLOYMENTS)
             for info in codedeploy.batch_get_deployments(
                 deploymentIds=ids[start:start + BATCH_GET_DEPLOYMENTS])["deploymentsInfo"]]
    if statuses:  # a status may have moved on between the two calls
        infos = [info for info in infos if info["status"] in statuses]
    return sorted(infos, key=lambda info: info["createTime"], reverse=True)


def running_codedeploy_deployments(target: Target) -> list[dict]:
    return codedeploy_deployments(target, CODEDEPLOY_RUNNING)


def latest_codedeploy_deployment(target: Target) -> dict | None:
    """A running deployment if there is one (one short page), else the newest of all."""
    found = running_codedeploy_deployments(target) or codedeploy_deployments(target)
    return found[0] if found else None


def deployment_state(target: Target, service: dict) -> str:
    if target.blue_green or service.get("deploymentController", {}).get("type") == \
            "CODE_DEPLOY":
        latest = latest_codedeploy_deployment(target)
        if latest is None:
            return "no deployment yet"
        return f"CodeDeploy {latest['deploymentId']} {latest['status']}"
    deployments = service.get("deployments", [])
    primary = next((d for d in deployments if d["status"] == "PRIMARY"), None)
    if primary is None:
        return "no deployment"
    failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
    return (f"{len(deployments)} deployments, " if len(deployments) > 1 else "") + \
        ("last one FAILED, " if failed else "") + f"ECS {primary.get('rolloutState')}"


def status_row(target: Target) -> dict[str, str]:
    row = {"env": target.name}
    try:
        reference = version_of_record(target)
    except Refused:
        return {**row, "version": f"not deployed (python -m ops.deploy up --env {target.name})"}
    try:
        row["version"] = image_of_reference(target, reference).label
    except Refused:
        row["version"] = reference  # a public image, or one no longer in the repository
    service = describe_service(target)
    if service is None:
        row["revision"] = "no ECS service"
    else:
        row.update(revision=revision(service),
                   tasks=f"{service['runningCount']}/{service['desiredCount']}",
                   state=deployment_state(target, service))
    released = release_entry(history(target))
    if released is not None:
        when = released["LastModifiedDate"]
        row["released"] = (f"{when:%Y-%m-%d %H:%M} UTC" if isinstance(when, datetime)
                           else str(when)) + f": {released.get('Description', '')}"
    return row


STATUS_COLUMNS = ("env", "version", "revision", "tasks", "state", "released")


def in_deploy_order(targets: list[Target]) -> list[Target]:
    """`targets` in deploy order (config.delivery_order); a promotion from an
    environment not among them does not order them."""
    names = {target.name for target in targets}
    alone = [env if env.delivery.promote_from in names else dataclasses.replace(
        env, delivery=dataclasses.replace(env.delivery, promote_from=""))
        for env in (target.environment for target in targets)]
    place = {env.name: index for index, env in enumerate(delivery_order(alone))}
    return sorted(targets, key=lambda target: place[target.name])


def status(targets: list[Target]) -> str:
    """What runs where, one row per environment, in deploy order."""
    rows = []
    for target in in_deploy_order(targets):
        try:
            rows.append(status_row(target))
        except (ClientError, BotoCoreError) as error:
            rows.append({"env": target.name, "version": f"cannot read: {error}"})
    widths = {column: max(len(column), *(len(row.get(column, "")) for row in rows))
              for column in STATUS_COLUMNS}
    lines = ["  ".join(column.ljust(widths[column]) for column in STATUS_COLUMNS).rstrip()]
    lines += ["  ".join(row.get(column, "-").ljust(widths[column])
                        for column in STATUS_COLUMNS).rstrip() for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops release, promote, rollback, unlock, status` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"deploy": "release", "promote": "promote", "rollback": "rollback", "unlock": "unlock", "status": "status"})


if __name__ == "__main__":
    sys.exit(main())
