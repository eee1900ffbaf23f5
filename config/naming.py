"""Every name derived from an environment's config, written once: the stacks, the ops commands,
the workflows and the tools read them from here. The stacks' outputs are config/outputs.py's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .schema import EnvironmentConfig

# Every environment's stacks, in deploy order; each depends on the one before it.
STACK_KINDS = ("state", "network", "app")
# The state stack's Terraform variable: true imports the environment's ECR repository that
# already exists (made by the app stack before it moved to the state stack). An import block's
# condition must be known before any data source is read, and importing a repository that does
# not exist fails: ops.deploy sets it (TF_VAR_<name>) from whether the repository exists.
ADOPT_REPOSITORY_VARIABLE = "adopt_image_repository"
# Releases tag the digest they roll out `release-<env>-<UTC time>` (ops.release): what an
# environment runs, or may roll back to, then outlives the count of other images
# (the image repository's lifecycle policy: a rule per environment,
# ImageRepositoryProps.release_tag_prefixes).
RELEASE_TAG_PREFIX = "release-"

# The roles GitHub Actions assumes, by what they may do (constructs_lib/ci_access.py).
CI_ROLES = ("plan", "deploy", "image")
# How long a CI role's credentials last (its max_session_duration, and the workflows'
# role-duration-seconds): 3 h outlasts a deploy job's lock waits, release wait and rollback
# re-apply (~90 min), so no token expires mid-apply and leaves a lock behind. IAM allows 1-12 h.
CI_SESSION_SECONDS = 3 * 3600


def ci_role_output(kind: str) -> str:
    """The state stack's output holding the ARN of the CI role of this kind."""
    return f"github_{kind}_role_arn"


def github_variable(kind: str, environment: str) -> str:
    """The GitHub Actions variable a workflow reads the ARN of a CI role from. Plan jobs run
    outside any GitHub environment (pull requests, drift) yet each environment has its own plan
    role, so that variable is repository-level and named per environment
    (AWS_PLAN_ROLE_ARN_UAT); the deploy role's is set on the GitHub environment itself, and
    there is one image role (the repository owner's)."""
    suffix = f"_{re.sub('[^A-Z0-9]', '_', environment.upper())}" if kind == "plan" else ""
    return f"AWS_{kind.upper()}_ROLE_ARN{suffix}"


@dataclass(frozen=True)
class Names:
    """Every name derived from an environment's config, written once."""

    service: str  # <service.name>-<env>: ECS service, task family, roles, CodeDeploy
    # The cluster and the load balancer: the service's name, or with several services
    # (shared by them) <project>-<env>.
    cluster: str
    log_group: str  # the container's CloudWatch log group
    image_parameter: str  # SSM parameter holding the version of record (the image that runs)
    release_lock_parameter: str  # SSM parameter that exists while a release runs
    # The task family of the release command's one-off tasks (ops/release/task.py): apart from
    # the service's, whose revisions are Terraform's.
    release_task_family: str
    repository: str | None  # the ECR repository the service runs images from; None: none
    # The IAM roles the network and app stacks create (fargate_service.py, blue_green.py,
    # flow_logs.py spell them; tests/test_ci_access.py checks they agree).
    task_role: str  # <service>-task
    execution_role: str  # <service>-execution
    codedeploy_role: str  # <service>-codedeploy (blue/green only)
    flow_logs_role: str  # <vpc_name>-flow-logs
    # Customer managed policies of the state stack (with CI access): every role above carries
    # the boundary; the CI read policy is attached to the plan and deploy roles.
    permissions_boundary: str  # <project>-<env>-app-boundary
    ci_read_policy: str  # <project>-<env>-github-read
    ci_write_policy: str  # <project>-<env>-github-write: part of the deploy role's writes
    # The ECR pull-through cache's repository prefix for Docker Hub images; None: no cache
    docker_hub_cache: str | None = None


def names_of(environment: EnvironmentConfig) -> Names:
    service_name, env, project = environment.service.name, environment.name, environment.project
    service = f"{service_name}-{env}"
    prefix = f"/{project}/{env}/{service_name}"
    return Names(
        service=service, cluster=f"{project}-{env}" if environment.several else service,
        log_group=f"/ecs/{service}", image_parameter=f"{prefix}/image",
        release_lock_parameter=f"{prefix}/release-lock",
        release_task_family=f"{service}-release",
        repository=(f"{project}/{service_name}" if environment.service.has_repository else None),
        task_role=f"{service}-task", execution_role=f"{service}-execution",
        codedeploy_role=f"{service}-codedeploy",
        flow_logs_role=f"{environment.network.vpc_name}-flow-logs",
        permissions_boundary=f"{project}-{env}-app-boundary",
        ci_read_policy=f"{project}-{env}-github-read",
        ci_write_policy=f"{project}-{env}-github-write",
        docker_hub_cache=(f"{project}-{env}-dockerhub"
                          if environment.service.docker_hub_credentials_secret else None))


def stack_names(environment: EnvironmentConfig) -> dict[str, str]:
    """The environment's stacks by kind, in deploy order: state-<env>, network-<env>, ..."""
    return {kind: f"{kind}-{environment.name}" for kind in STACK_KINDS}


def ci_role_names(environment: EnvironmentConfig) -> dict[str, str]:
    """The roles GitHub Actions assumes, by kind: <project>-<env>-github-plan, ...; the image
    role only where the environment owns the ECR repository it pushes to."""
    return {kind: f"{environment.project}-{environment.name}-github-{kind}" for kind in CI_ROLES
            if kind != "image" or any(focused.service.ecr_repository
                                      for focused in environment.each_service())}


def target_group_name_prefix(service_name: str) -> str:
    """The app's target groups' name prefix (AWS allows 6 characters): <service.name[:5]>-."""
    return f"{service_name[:5]}-"
