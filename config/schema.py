"""The environment file's shape: one dataclass per TOML table, with what only the config knows
validated on construction (`FieldError`; the loader adds the file and the dotted field path).

A key the constructs use is a field that defaults to None, "unset": its default and its checks
are the construct's props' (constructs_lib/props/), which stacks/props.py maps the set keys onto,
and which the loader builds to check them. A key's comment is its documentation
(docs/configuration.md is generated from them, with the props' defaults).
This module imports nothing from cdktf so that bad input fails before the provider loads.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from constructs_lib.props.ci_access import GITHUB_OIDC_HOST
from constructs_lib.props.network import NatGateways

from .naming import ci_role_names, names_of, stack_names, Names


class FieldError(ValueError):
    """A bad value for one field; `path` is dotted, relative to the dataclass that raised it."""

    def __init__(self, path: str, value: Any, allowed: str):
        super().__init__(f"{path} = {value!r}: {allowed}")
        self.path, self.value, self.allowed = path, value, allowed

    def under(self, prefix: str) -> "FieldError":
        return FieldError(f"{prefix}.{self.path}" if prefix else self.path, self.value, self.allowed)


class ConfigError(Exception):
    """A bad environment file; the message is the one line shown to the user."""


def _require(ok: bool, path: str, value: Any, allowed: str) -> None:
    if not ok:
        raise FieldError(path, value, allowed)


_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
                        r"(\.cn)?/(?P<repository>[^:@]+)")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IMAGE_TAG = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$")
_DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]"
                          r"[a-z0-9-]{0,61}[a-z0-9]$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
# GitHub: owner 1-39 letters, digits, '-' (not first); repository 1-100 letters, digits, '.-_'.
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_GITHUB_REPOSITORY_IDS = re.compile(r"^[1-9][0-9]{0,19}/[1-9][0-9]{0,19}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
# ECR pull-through cache credentials: a Secrets Manager secret whose name ECR requires to start
# with ecr-pullthroughcache/ (AWS ECR User Guide, "Storing your upstream repository credentials").
_PULL_THROUGH_SECRET = re.compile(
    r"^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache/.+$")
_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:iam::(?P<account>\d{12}):oidc-provider/" + re.escape(GITHUB_OIDC_HOST) + "$")
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def image_reference(repository_url: str, version: str) -> str:
    """`<repository>:<tag>`, or `<repository>@sha256:...` for a digest."""
    return f"{repository_url}{'@' if version.startswith('sha256:') else ':'}{version}"


@dataclass(frozen=True)
class NetworkConfig:
    """The VPC: one public and one private subnet per AZ, carved from `cidr` by mask."""

    vpc_name: str  # Name tag of the VPC; the application stack finds the VPC by it
    cidr: str | None = None  # the VPC's IPv4 CIDR, /16 to /28; disjoint across environments
    availability_zones: tuple[str, ...] = ()  # at least 2, all in the environment's region
    subnet_prefix_length: int | None = None  # every subnet's mask
    # Public subnets take CIDR slots 0..N-1 and private subnets N..2N-1, by AZ letter (a=0), so
    # adding or removing an AZ never renumbers another AZ's subnets; the default reproduces the guide.
    max_availability_zones: int | None = None
    nat_gateways: NatGateways | None = None  # one NAT in the first AZ, or one per AZ
    flow_logs: bool | None = None  # VPC flow logs (all traffic) to CloudWatch Logs
    flow_logs_retention_days: int | None = None  # days the flow logs are kept
    # S3 gateway and ECR, CloudWatch Logs, STS and Secrets Manager interface endpoints: private
    # tasks reach those services without NAT per-GB charges (interface endpoints bill per hour).
    vpc_endpoints: bool | None = None


@dataclass(frozen=True)
class HealthCheckConfig:
    """The target group's health check."""

    path: str | None = None  # the path the target group's health check requests
    matcher: str | None = None  # HTTP codes that count as healthy: "200", "200-299", "200,302"
    interval_seconds: int | None = None  # seconds between checks
    timeout_seconds: int | None = None  # seconds before a check fails
    healthy_threshold: int | None = None  # passes before a target is healthy
    unhealthy_threshold: int | None = None  # failures before a target is unhealthy


@dataclass(frozen=True)
class ScalingConfig:
    """Target tracking on the service's desired count: CPU, and for a worker also a queue's
    backlog."""

    min_capacity: int | None = None  # fewest tasks
    max_capacity: int | None = None  # most tasks
    cpu_target_percent: float | None = None  # the service's average CPU to hold
    scale_in_cooldown_seconds: int | None = None  # wait after scaling in
    scale_out_cooldown_seconds: int | None = None  # wait after scaling out
    # A worker's (load_balanced = false) SQS queue, by name, in the environment's region and
    # account: the worker also scales on the queue's backlog per running task (ECS Container
    # Insights counts the tasks: keep container_insights on). Its task role is not given the
    # queue: grant the application's access with task_role_managed_policies. Unset: CPU only.
    queue_name: str | None = None
    # with queue_name: the messages waiting per running task to hold
    queue_messages_per_task: int | None = None

    def __post_init__(self) -> None:
        _require(self.queue_messages_per_task is None or self.queue_name is not None,
                 "queue_messages_per_task", self.queue_messages_per_task,
                 "only with queue_name (the queue whose backlog per task it is)")


@dataclass(frozen=True)
class AlarmsConfig:
    """CloudWatch alarms on the service; all go to one SNS topic."""

    # subscribed to the alarm topic when set (AWS mails a confirmation link)
    email: str | None = None
    evaluation_minutes: int | None = None  # consecutive bad minutes before an alarm fires
    alb_5xx_per_minute: int | None = None  # load balancer's own 5xx responses
    target_5xx_per_minute: int | None = None  # the application's 5xx responses
    unhealthy_hosts: int | None = None  # unhealthy targets
    p90_latency_seconds: float | None = None  # target response time, 90th percentile
    cpu_percent: float | None = None  # service average CPU
    memory_percent: float | None = None  # service average memory


@dataclass(frozen=True)
class BlueGreenConfig:
    """CodeDeploy blue/green deploys instead of ECS rolling deploys."""

    enabled: bool = False  # CodeDeploy (CODE_DEPLOY controller) runs each deploy
    # required when enabled: where the new version is tested first
    test_listener_port: int | None = None
    # How production traffic moves to the new version: all_at_once,
    # linear_10_percent_every_1_minute, linear_10_percent_every_3_minutes,
    # canary_10_percent_for_5_minutes or canary_10_percent_for_15_minutes (TRAFFIC_SHIFTS).
    traffic_shift: str | None = None
    # how long the old version stays ready for a rollback
    termination_wait_minutes: int | None = None
    # Who may reach the test listener (the new version before it takes traffic) besides the
    # VPC itself: IPv4 CIDRs, e.g. the runner that tests a deployment; none: the VPC only.
    # Never the internet.
    test_listener_cidrs: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.enabled:
            _require(self.test_listener_port is not None, "test_listener_port",
                     self.test_listener_port,
                     "blue/green needs a second listener port (1-65535) for the test traffic")


@dataclass(frozen=True)
class ServiceConfig:
    """The Fargate service and the load balancer in front of it."""

    name: str = "hello-world"  # names the cluster, service, ALB, log group, roles: <name>-<env>
    # The image the service starts with (a public one, or any registry's; an ECR image also gets
    # pull permissions). With a repository (below) it runs until the first release
    # (`python -m ops release`) replaces it.
    image: str = "crccheck/hello-world:latest"
    # Create the ECR repository `<project>/<name>` for the service's versioned images, which
    # releases run images from (immutable tags, scan on push, KMS).
    ecr_repository: bool = False
    # Instead of creating one, run images from the repository this other environment creates
    # (same region and account): promotion then moves a digest, never rebuilds.
    ecr_repository_owner: str = ""
    # With a repository: start from this tag (a git commit) or sha256:<digest> instead of `image`.
    image_tag: str = ""
    # The folder `python -m ops image` builds the service's image from (its docker build
    # context), relative to the repository.
    build_context: str = "app"
    # A one-off task run before each release of the service, e.g. ["./migrate", "up"]: the new
    # image with the service's task definition, network and roles. It must exit 0, or the
    # release stops before the version of record is written.
    release_command: tuple[str, ...] | None = None
    # images kept besides released ones; untagged expire after a day
    ecr_keep_images: int | None = None
    # Released images kept per environment sharing the repository (tagged release-<env>-...):
    # what runs and what a rollback returns to never expire with the others, and uat's releases
    # never push out prod's.
    ecr_keep_released_images: int | None = None
    container_name: str | None = None  # the container's name in the task definition
    container_port: int | None = None  # the port the container listens on
    listener_port: int | None = None  # the ALB's HTTP listener, open to the internet
    cpu: int | None = None  # Fargate cpu units (1024 = 1 vCPU)
    memory: int | None = None  # MiB; must be a size Fargate allows for `cpu`
    environment: Mapping[str, str] | None = None  # container environment variables
    # Container variables from secrets by reference, e.g. { DB_PASSWORD = "/acme/uat/db" }: an
    # SSM parameter's name or ARN, or a Secrets Manager secret's ARN, in the environment's
    # region. The execution role may read exactly these; values never enter the task
    # definition, a plan or the state. `python -m ops secrets list` lists them; `python -m ops
    # secrets set NAME` writes one.
    secrets: Mapping[str, str] | None = None
    # Customer managed KMS keys the secrets are encrypted with (none for AWS managed keys).
    secrets_kms_key_arns: tuple[str, ...] | None = None
    # ECS Exec (`python -m ops exec`): a shell or command in a running task. Leave off in
    # production unless break-glass access is wanted. Needs read_only_root_filesystem = false:
    # the agent ECS Exec mounts writes to the container's disk.
    enable_execute_command: bool | None = None
    # AWS managed policy names (e.g. "AmazonS3ReadOnlyAccess") attached to the task role.
    task_role_managed_policies: tuple[str, ...] | None = None
    log_retention_days: int | None = None  # days the container's CloudWatch logs are kept
    container_insights: bool | None = None  # ECS Container Insights on the cluster
    alb_deletion_protection: bool | None = None  # the ALB refuses deletion until this is lifted
    # a new task's time before health checks count
    health_check_grace_period_seconds: int | None = None
    # Rolling deploys keep full capacity: new tasks start before old ones stop.
    deployment_minimum_healthy_percent: int | None = None
    deployment_maximum_percent: int | None = None  # rolling deploy ceiling
    # roll back a deploy whose tasks never get healthy
    deployment_circuit_breaker: bool | None = None
    # time to drain a task's connections (ELB default 300)
    deregistration_delay_seconds: int | None = None
    # turn off only for images that write to their disk, or for ECS Exec
    read_only_root_filesystem: bool | None = None
    # HTTPS listener on 443 (TLS 1.2/1.3 policy) with certificate_arn; HTTP redirects to it.
    https: bool = False
    certificate_arn: str = ""  # an ACM certificate in the environment's region; required with https
    # The name the site is served at, which the certificate covers (required with https): the
    # smoke check verifies the certificate for it, never for the ALB's *.elb.amazonaws.com name.
    domain_name: str = ""
    # ALB access logs to an encrypted private S3 bucket, expired after access_logs.RETENTION_DAYS.
    alb_access_logs: bool | None = None
    # Docker Hub allows 10 anonymous pulls an hour per IPv4 address, and every task pulls
    # through the one NAT address. A secret's ARN (ecr-pullthroughcache/..., holding a Docker
    # Hub username and accessToken): a Docker Hub `image` is then pulled through an ECR
    # pull-through cache in the account, authenticated, and cached after the first pull.
    docker_hub_credentials_secret: str = ""
    # With several services ([services.<name>] tables) only, like the next three keys. false:
    # a worker, with no target group, port mapping or load balancer alarms.
    load_balanced: bool = True
    # The URL paths (e.g. ["/api/*"]) of the listener rule that sends requests here; with
    # neither these nor host_headers, the service takes every request no rule matches (one
    # service at most).
    path_patterns: tuple[str, ...] | None = None
    host_headers: tuple[str, ...] | None = None  # the rule's host names, e.g. ["api.example.com"]
    # The listener rule's priority (lower is evaluated first); unset: 100 + 10 x the service's
    # place among the routed services in the file.
    route_priority: int | None = None
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    scaling: ScalingConfig = field(default_factory=ScalingConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    blue_green: BlueGreenConfig = field(default_factory=BlueGreenConfig)

    def __post_init__(self) -> None:
        for mapping in ("environment", "secrets"):
            if getattr(self, mapping) is not None:
                object.__setattr__(self, mapping, MappingProxyType(dict(getattr(self, mapping))))
        _require(bool(_NAME.match(self.name)) and len(self.name) <= 24, "name", self.name,
                 "lowercase letters, digits and '-', at most 24 characters")
        _require(bool(self.image) and " " not in self.image, "image", self.image,
                 "an image reference like repository:tag or repository@sha256:digest")
        _require(not (self.ecr_repository and self.ecr_repository_owner),
                 "ecr_repository_owner", self.ecr_repository_owner,
                 "leave empty when ecr_repository = true (an environment creates its repository "
                 "or shares another's, not both)")
        _require(not self.ecr_repository_owner or bool(_NAME.match(self.ecr_repository_owner)),
                 "ecr_repository_owner", self.ecr_repository_owner,
                 "the name of the environment that creates the repository, like uat")
        if self.image_tag:
            _require(self.has_repository, "image_tag", self.image_tag,
                     "needs a repository: set ecr_repository = true or ecr_repository_owner")
            _require(bool(_IMAGE_TAG.match(self.image_tag)), "image_tag", self.image_tag,
                     "a git commit (e.g. 3f9c2e1a7b4d) or sha256:<64 hex digits>")
        _require(bool(self.build_context) and not self.build_context.startswith("/")
                 and ".." not in self.build_context.split("/"), "build_context",
                 self.build_context, "a folder of the repository, like app or services/worker")
        _require(self.release_command is None or (bool(self.release_command) and all(
            self.release_command)), "release_command", self.release_command,
                 'the command and its arguments, like ["./migrate", "up"]')
        _require(self.release_command is None or self.has_repository, "release_command",
                 self.release_command, "runs the released image: needs a repository "
                 "(ecr_repository = true or ecr_repository_owner)")
        _require(not self.certificate_arn or bool(_CERTIFICATE_ARN.match(self.certificate_arn)),
                 "certificate_arn", self.certificate_arn,
                 "an ACM certificate ARN like arn:aws:acm:<region>:<account>:certificate/<id>")
        if self.docker_hub_credentials_secret:
            _require(bool(_PULL_THROUGH_SECRET.match(self.docker_hub_credentials_secret)),
                     "docker_hub_credentials_secret", self.docker_hub_credentials_secret,
                     "a Secrets Manager secret ARN whose name starts with ecr-pullthroughcache/ "
                     "(ECR requires the prefix), or empty to pull from Docker Hub directly")
            _require(self.docker_hub_image is not None, "docker_hub_credentials_secret",
                     self.docker_hub_credentials_secret,
                     f"image {self.image!r} is not on Docker Hub; leave it empty")
        _require(not self.https or bool(self.certificate_arn), "https", self.https,
                 "HTTPS needs certificate_arn (an ACM certificate for the site's domain)")
        _require(not self.domain_name or bool(_DOMAIN_NAME.match(self.domain_name)),
                 "domain_name", self.domain_name, "a DNS name like app.example.com")
        _require(not self.https or bool(self.domain_name), "https", self.https,
                 "HTTPS needs domain_name (the name certificate_arn covers, e.g. "
                 "app.example.com): the smoke check verifies the certificate for it")
        _require(self.scaling.queue_name is None or not self.load_balanced, "scaling.queue_name",
                 self.scaling.queue_name, "only a worker (load_balanced = false, in a "
                 "[services.<name>] table) scales on a queue: a service behind the load "
                 "balancer is sent requests, not messages, and scales on CPU")

    @property
    def has_repository(self) -> bool:
        """Whether the service runs images from a project repository (its own or shared)."""
        return self.ecr_repository or bool(self.ecr_repository_owner)

    @property
    def docker_hub_image(self) -> str | None:
        """`image` as a path in Docker Hub with its tag or digest (official images under
        library/, as an ECR pull-through cache names them), or None for another registry."""
        host, _, rest = self.image.partition("/")
        image = rest if host in DOCKER_HUB_HOSTS else self.image
        first, _, _ = image.partition("/")
        if "/" in image and ("." in first or ":" in first or first == "localhost"):
            return None  # another registry's host
        return image if "/" in re.split(r"[:@]", image)[0] else f"library/{image}"

    @property
    def external_ecr_image(self) -> tuple[str, str, str] | None:
        """(account, region, repository) when `image` names an ECR image, else None."""
        match = _ECR_IMAGE.match(self.image)
        return match.group("account", "region", "repository") if match else None



@dataclass(frozen=True)
class StateConfig:
    """Where the network and app stacks keep their Terraform state (created by state-<env>)."""

    bucket: str  # the S3 bucket of every stack's state, made by state-<env>; globally unique
    region: str = ""  # the bucket's region; empty means the environment's region
    # how long overwritten state versions are kept
    noncurrent_version_expiration_days: int | None = None
    # A DynamoDB lock table, for Terraform older than 1.10; newer versions lock with a lock
    # file next to the state (use_lockfile), which is always on.
    lock_table: bool = False

    def __post_init__(self) -> None:
        _require(bool(_BUCKET.match(self.bucket)) and ".." not in self.bucket, "bucket",
                 self.bucket, "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'")
        _require(not self.region or bool(_REGION.match(self.region)), "region", self.region,
                 "an AWS region code like ap-south-1, or empty for the environment's region")

    @property
    def lock_table_name(self) -> str:
        return f"{self.bucket}-lock"


@dataclass(frozen=True)
class CiConfig:
    """The AWS roles GitHub Actions assumes by OIDC; nothing is created while
    github_repository is empty."""

    # "owner/repo" whose GitHub Actions get AWS roles, spelled as GitHub does (the OIDC `sub` is
    # compared exactly); empty: no CI resources.
    github_repository: str = ""
    # "<owner id>/<repository id>" (`gh api repos/OWNER/REPO --jq '"\(.owner.id)/\(.id)"'`)
    # for a repository whose OIDC `sub` carries immutable IDs, repo:owner@<id>/repo@<id>:...,
    # as GitHub's are for repositories created or renamed since 2026-07-15: the roles then
    # trust that form only. Empty: the name-only form, repo:owner/repo:...
    github_repository_ids: str = ""
    # The account's one GitHub OIDC provider: "create" (this environment owns it), "lookup" (an
    # environment sharing the account created it), or its ARN.
    oidc_provider: str = "create"
    # The AWS account this environment deploys to, when known: the state stack then refuses any
    # other, and two environments that both create the OIDC provider must name different ones.
    account_id: str = ""

    def __post_init__(self) -> None:
        _require(not self.github_repository or bool(_GITHUB_REPOSITORY.match(self.github_repository)),
                 "github_repository", self.github_repository,
                 "a GitHub repository as owner/repo (e.g. acme/hello-world), or empty for no CI "
                 "access")
        _require(not self.github_repository_ids or (
            bool(self.github_repository) and bool(_GITHUB_REPOSITORY_IDS.match(
                self.github_repository_ids))), "github_repository_ids", self.github_repository_ids,
                 "the repository owner's and the repository's numeric IDs as <owner id>/"
                 "<repository id> (gh api repos/OWNER/REPO --jq '\"\\(.owner.id)/\\(.id)\"'), "
                 "with github_repository set")
        _require(self.oidc_provider in ("create", "lookup")
                 or bool(_OIDC_PROVIDER_ARN.match(self.oidc_provider)), "oidc_provider",
                 self.oidc_provider, '"create", "lookup", or the provider\'s ARN '
                 f"(arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST})")
        _require(not self.account_id or bool(_ACCOUNT_ID.match(self.account_id)), "account_id",
                 self.account_id, "a 12-digit AWS account ID, or empty")
        provider = _OIDC_PROVIDER_ARN.match(self.oidc_provider)
        if provider and self.account_id:
            _require(provider.group("account") == self.account_id, "oidc_provider",
                     self.oidc_provider, f"must be in account_id {self.account_id}")

    @property
    def enabled(self) -> bool:
        return bool(self.github_repository)

    @property
    def account(self) -> str:
        """The account as far as the config tells: account_id, else the provider ARN's."""
        provider = _OIDC_PROVIDER_ARN.match(self.oidc_provider)
        return self.account_id or (provider.group("account") if provider else "")


@dataclass(frozen=True)
class DeliveryConfig:
    """How deploy.yml brings a new version to this environment."""

    # The environment whose released version this one receives (prod: "uat"), after it; empty:
    # this environment gets each new build first.
    promote_from: str = ""

    def __post_init__(self) -> None:
        _require(not self.promote_from or bool(_NAME.match(self.promote_from)), "promote_from",
                 self.promote_from, "another environment's name, or empty for the new build")



# ServiceConfig keys that configure what several services share (the load balancer and the
# cluster): with [services.<name>] tables they are set once, in [shared].
SHARED_KEYS = ("listener_port", "https", "certificate_arn", "domain_name",
               "alb_deletion_protection", "alb_access_logs", "container_insights")
# ServiceConfig keys only several services use.
ROUTING_KEYS = ("load_balanced", "path_patterns", "host_headers", "route_priority")


@dataclass(frozen=True)
class SharedConfig:
    """With several services ([services.<name>]): what they share, the cluster and the load
    balancer (both named <project>-<env>). The keys mean what they mean in [service]."""

    listener_port: int | None = None  # the ALB's HTTP listener, open to the internet
    https: bool = False  # HTTPS on 443 with certificate_arn; HTTP redirects to it
    certificate_arn: str = ""  # an ACM certificate in the environment's region
    domain_name: str = ""  # the name the certificate covers (required with https)
    alb_deletion_protection: bool | None = None  # the ALB refuses deletion until lifted
    alb_access_logs: bool | None = None  # ALB access logs to an encrypted private bucket
    container_insights: bool | None = None  # ECS Container Insights on the cluster

    def __post_init__(self) -> None:
        ServiceConfig(**{key: getattr(self, key) for key in SHARED_KEYS})  # the same checks


@dataclass(frozen=True)
class EnvironmentConfig:
    """One deployable environment: `environments/<name>.toml`."""

    name: str  # from the file name; suffixes stack names: network-<name>, app-<name>
    region: str  # AWS region of every stack
    network: NetworkConfig
    state: StateConfig
    project: str = "hello-world"  # the Project tag on every resource
    # The one service ([service]); with several, leave it out and give each a table instead.
    service: ServiceConfig | None = None
    # Several services, each a [services.<name>] table (the table's name is the service's
    # name) with the keys of [service] except those of [shared], plus load_balanced,
    # path_patterns, host_headers and route_priority. Each is released, promoted and rolled
    # back on its own (--service NAME). docs/services.md.
    services: Mapping[str, ServiceConfig] | None = None
    shared: SharedConfig | None = None  # with several services: the cluster and load balancer
    ci: CiConfig = field(default_factory=CiConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)  # deploy.yml's order
    # The focused service's name in `services` (focus()); None with one [service] table.
    service_key: str | None = field(default=None, compare=False, repr=False,
                                    metadata={"internal": True})  # (not a key of the file)
    # The environments that release images from the repositories this one creates, itself
    # included, the one delivered last first (load_environments sets it; () for this one alone).
    release_environments: tuple[str, ...] = field(default=(), compare=False, repr=False,
                                                  metadata={"internal": True})

    @property
    def several(self) -> bool:
        """Whether the services come from [services.<name>] tables."""
        return self.services is not None

    @property
    def service_keys(self) -> tuple[str, ...]:
        """The services' names, in the file's order."""
        return tuple(self.services) if self.several else (self.service.name,)

    def focus(self, key: str | None = None) -> "EnvironmentConfig":
        """This environment seen from one service: `service` (and `names`) are that one's,
        with [shared]'s keys. `key` None: the only service (ValueError with several)."""
        if not self.several:
            if key not in (None, self.service.name):
                raise ValueError(f"{self.name} has one service, {self.service.name}, not {key!r}")
            return self
        if key is None:
            if len(self.services) != 1:
                raise ValueError(f"{self.name} has several services: name one of "
                                 f"{', '.join(self.services)}")
            key = next(iter(self.services))
        if key not in self.services:
            raise ValueError(f"{self.name} has no service {key!r}; it has "
                             f"{', '.join(self.services)}")
        focused = copy.copy(self)
        shared = {name: getattr(self.shared, name) for name in SHARED_KEYS}
        object.__setattr__(focused, "service", dataclasses.replace(self.services[key], **shared))
        object.__setattr__(focused, "service_key", key)
        return focused

    def each_service(self) -> list["EnvironmentConfig"]:
        """focus() of every service, in the file's order."""
        return [self.focus(key) for key in self.service_keys] if self.several else [self]

    def config_path(self, path: str) -> str:
        """Where a `service.<key>` of the focused service is written in the file."""
        if not self.several or not path.startswith("service."):
            return path
        key = path.split(".")[1]
        return (f"shared.{path[len('service.'):]}" if key in SHARED_KEYS
                else f"services.{self.service_key}.{path[len('service.'):]}")

    @property
    def ci_role_names(self) -> dict[str, str]:
        return ci_role_names(self)

    @property
    def stack_names(self) -> dict[str, str]:
        return stack_names(self)

    @property
    def names(self) -> Names:
        return names_of(self)

    def __post_init__(self) -> None:
        self._choose_form()
        _require(bool(_NAME.match(self.name)) and len(self.name) <= 16, "name", self.name,
                 "file names are lowercase letters, digits and '-', at most 16 characters")
        _require(bool(_REGION.match(self.region)), "region", self.region,
                 "an AWS region code like ap-south-1")
        _require(bool(_NAME.match(self.project)), "project", self.project,
                 "lowercase letters, digits and '-'")
        for zone in self.network.availability_zones:
            if not re.fullmatch(re.escape(self.region) + "[a-z]", zone):
                _require(self.region in _known_regions() or not _known_regions(), "region",
                         self.region, "not an AWS region"
                         + "".join(f"; did you mean {close!r}?" for close in difflib
                                   .get_close_matches(self.region, _known_regions(), n=1)))
                raise FieldError("network.availability_zones", zone,
                                 f"AZs must be in region {self.region}, like {self.region}a")
        if not self.state.region:
            object.__setattr__(self, "state", dataclasses.replace(self.state, region=self.region))
        for focused in self.each_service():
            focused._check_service()
        if self.ci.enabled:
            longest = max(self.ci_role_names.values(), key=len)
            _require(len(longest) <= 64, "project", self.project,
                     f"names the CI role '{longest}', which IAM allows at most 64 characters")

    def _choose_form(self) -> None:
        """One [service] table, or [services.<name>] tables with [shared]; never both."""
        if self.services is None:
            _require(self.shared is None, "shared", "[shared]",
                     "only with several services ([services.<name>] tables); with one "
                     "[service] table set these keys there")
            if self.service is None:
                object.__setattr__(self, "service", ServiceConfig())
            defaults = ServiceConfig()
            for key in ROUTING_KEYS:
                _require(getattr(self.service, key) == getattr(defaults, key), f"service.{key}",
                         getattr(self.service, key), "only with several services "
                         "([services.<name>] tables); the one [service] takes every request")
            return
        _require(self.service is None or self.service_key is not None, "service", "[service]",
                 "give either one [service] table or [services.<name>] tables, not both")
        _require(len(self.services) > 0, "services", {}, "at least one [services.<name>] table")
        object.__setattr__(self, "services", MappingProxyType(dict(self.services)))
        if self.shared is None:
            object.__setattr__(self, "shared", SharedConfig())
        defaults = ServiceConfig()
        for key, service in self.services.items():
            _require(service.name == key, f"services.{key}.name", service.name,
                     f"the table's name is the service's name ({key}); leave name out")
            for shared in SHARED_KEYS:
                _require(getattr(service, shared) == getattr(defaults, shared),
                         f"services.{key}.{shared}", getattr(service, shared),
                         "the services share the load balancer and cluster: set it once, "
                         "in [shared]")
            _require(not service.blue_green.enabled, f"services.{key}.blue_green.enabled", True,
                     "blue/green deploys need the one [service] table; several services "
                     "deploy rolling")
            _require(not service.docker_hub_credentials_secret,
                     f"services.{key}.docker_hub_credentials_secret",
                     service.docker_hub_credentials_secret, "the Docker Hub pull-through cache "
                     "needs the one [service] table; use an ECR image (ecr_repository = true)")
        focused = self.focus(self.service_key or next(iter(self.services)))
        object.__setattr__(self, "service", focused.service)
        object.__setattr__(self, "service_key", focused.service_key)

    def _check_service(self) -> None:
        """The focused service's names (several services: each one's)."""
        # ECR limits a pull-through cache's repository prefix to 30 characters.
        _require(len(self.names.docker_hub_cache or "") <= 30,
                 self.config_path("service.docker_hub_credentials_secret"),
                 self.service.docker_hub_credentials_secret,
                 f"its cache prefix {self.names.docker_hub_cache!r} ('<project>-<env>-dockerhub') "
                 "is longer than ECR's 30 characters; shorten the project name")
        # AWS limits load balancer and target group names to 32 characters.
        _require(len(self.names.service) <= 32, self.config_path("service.name"),
                 self.service.name, f"'<service.name>-{self.name}' names the load balancer and "
                 "must be at most 32 characters")


def _known_regions() -> tuple[str, ...]:
    """The regions botocore knows (asked only to explain an AZ that is not in the region: a
    region newer than botocore is never refused for being unknown)."""
    try:
        from botocore.loaders import Loader
        partitions = Loader().load_data("endpoints")["partitions"]
    except Exception:  # no botocore: nothing to compare with
        return ()
    return tuple(sorted({region for partition in partitions for region in partition["regions"]}))
