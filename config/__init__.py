"""Typed, validated environment configuration, loaded from `environments/<env>.toml`.

Every field carries its default next to it. Each dataclass validates itself on construction and
raises `FieldError`; the loader adds the file and the dotted field path, so a bad value becomes
one line: `environments/uat.toml: network.cidr = '10.0.0.0/33': expected an IPv4 network ...`.
This module imports nothing from cdktf so that bad input fails before the provider loads.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import enum
import ipaddress
import os
import re
import string
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from constructs_lib.alarm_set import ALARM_NAMES  # noqa: F401 (read by the tools through the config)


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


def _require_range(path: str, value: int | float, low: int | float, high: int | float) -> None:
    _require(low <= value <= high, path, value, f"must be between {low} and {high}")


# Fargate's allowed task sizes: cpu units -> memory MiB values.
FARGATE_SIZES: Mapping[int, tuple[int, ...]] = MappingProxyType({
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
})

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_MANAGED_POLICY = re.compile(r"^([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$")
_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
                        r"(\.cn)?/(?P<repository>[^:@]+)")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IMAGE_TAG = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$")
_DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]"
                          r"[a-z0-9-]{0,61}[a-z0-9]$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# GitHub: owner 1-39 letters, digits, '-' (not first); repository 1-100 letters, digits, '.-_'.
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
# ECR pull-through cache credentials: a Secrets Manager secret whose name ECR requires to start
# with ecr-pullthroughcache/ (AWS ECR User Guide, "Storing your upstream repository credentials").
_PULL_THROUGH_SECRET = re.compile(
    r"^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache/.+$")
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def image_reference(repository_url: str, version: str) -> str:
    """`<repository>:<tag>`, or `<repository>@sha256:...` for a digest."""
    return f"{repository_url}{'@' if version.startswith('sha256:') else ':'}{version}"


# What network.vpc_endpoints creates besides the free S3 gateway endpoint: what a Fargate task
# pulling from ECR, logging, assuming roles and reading secrets calls.
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager")


class NatGateways(str, enum.Enum):
    """How many NAT gateways carry the private subnets' outbound traffic."""

    SINGLE = "single"  # one, in the first AZ: cheapest; other AZs cross AZs and share its fate
    ONE_PER_AZ = "one_per_az"  # one per AZ: each private subnet routes through its own AZ's NAT


@dataclass(frozen=True)
class NetworkConfig:
    """The VPC: one public and one private subnet per AZ, carved from `cidr` by mask."""

    vpc_name: str  # Name tag of the VPC; the application stack finds the VPC by it
    cidr: str = "10.0.0.0/16"  # the VPC's IPv4 CIDR, /16 to /28; disjoint across environments
    availability_zones: tuple[str, ...] = ()  # at least 2, all in the environment's region
    subnet_prefix_length: int = 24  # every subnet's mask
    # Public subnets take CIDR slots 0..N-1 and private subnets N..2N-1, by AZ letter (a=0), so
    # adding or removing an AZ never renumbers another AZ's subnets. Default 3 reproduces the guide.
    max_availability_zones: int = 3
    nat_gateways: NatGateways = NatGateways.SINGLE  # one NAT in the first AZ, or one per AZ
    flow_logs: bool = True  # VPC flow logs (all traffic) to CloudWatch Logs
    flow_logs_retention_days: int = 30  # days the flow logs are kept
    # S3 gateway and ECR, CloudWatch Logs, STS and Secrets Manager interface endpoints: private
    # tasks reach those services without NAT per-GB charges (interface endpoints bill per hour).
    vpc_endpoints: bool = False

    def __post_init__(self) -> None:
        _require(self.flow_logs_retention_days in LOG_RETENTION_DAYS, "flow_logs_retention_days",
                 self.flow_logs_retention_days,
                 f"CloudWatch Logs allows {', '.join(map(str, LOG_RETENTION_DAYS))}")
        _require(bool(_NAME.match(self.vpc_name)) and len(self.vpc_name) <= 64, "vpc_name",
                 self.vpc_name, "lowercase letters, digits and '-', at most 64 characters")
        try:
            network = ipaddress.IPv4Network(self.cidr)
        except ValueError:
            raise FieldError("cidr", self.cidr,
                             "expected an IPv4 network with no host bits set, like 10.0.0.0/16")
        _require(16 <= network.prefixlen <= 28, "cidr", self.cidr,
                 "AWS allows VPC masks from /16 to /28")
        _require(network.is_private, "cidr", self.cidr,
                 "use a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)")
        _require_range("max_availability_zones", self.max_availability_zones, 2, 26)
        _require(len(self.availability_zones) >= 2, "availability_zones",
                 list(self.availability_zones), "list at least 2 availability zones")
        _require(len(set(self.availability_zones)) == len(self.availability_zones),
                 "availability_zones", list(self.availability_zones), "each AZ at most once")
        for zone in self.availability_zones:
            _require(zone[-1:] in string.ascii_lowercase
                     and self._slot(zone) < self.max_availability_zones,
                     "availability_zones", zone,
                     f"an AZ's letter must be one of the first max_availability_zones="
                     f"{self.max_availability_zones} letters (a-"
                     f"{string.ascii_lowercase[self.max_availability_zones - 1]})")
        # 2 tiers x max_availability_zones subnets, each at most /28 (AWS's smallest subnet).
        subnets = 2 * self.max_availability_zones
        bits = (subnets - 1).bit_length()  # slots of a power of two that hold them all
        widest_vpc = 28 - bits
        if network.prefixlen > widest_vpc:
            raise FieldError("cidr", self.cidr,
                             f"{subnets} subnets (2 tiers x max_availability_zones="
                             f"{self.max_availability_zones}) of at least /28 do not fit in a "
                             f"/{network.prefixlen}; use /{widest_vpc} or larger (e.g. "
                             f"{network.supernet(new_prefix=widest_vpc)})")
        _require(network.prefixlen + bits <= self.subnet_prefix_length <= 28,
                 "subnet_prefix_length", self.subnet_prefix_length,
                 f"must be between {network.prefixlen + bits} and 28: {subnets} subnets (2 tiers "
                 f"x max_availability_zones={self.max_availability_zones}) fit in {self.cidr}")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    @staticmethod
    def _slot(zone: str) -> int:
        return string.ascii_lowercase.index(zone[-1])

    def _subnet(self, slot: int) -> str:
        step = 2 ** (32 - self.subnet_prefix_length)
        address = self.network.network_address + slot * step
        return str(ipaddress.IPv4Network((address, self.subnet_prefix_length)))

    def public_subnet_cidr(self, zone: str) -> str:
        return self._subnet(self._slot(zone))

    def private_subnet_cidr(self, zone: str) -> str:
        return self._subnet(self.max_availability_zones + self._slot(zone))

    def nat_zone_for(self, zone: str) -> str:
        """The AZ whose NAT gateway carries `zone`'s private subnet."""
        return zone if self.nat_gateways is NatGateways.ONE_PER_AZ else self.availability_zones[0]

    @property
    def nat_zones(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.nat_zone_for(zone) for zone in self.availability_zones))


@dataclass(frozen=True)
class HealthCheckConfig:
    """The target group's health check (the ELB defaults, written out)."""

    path: str = "/"  # the path the target group's health check requests
    matcher: str = "200"  # HTTP codes that count as healthy: "200", "200-299", "200,302"
    interval_seconds: int = 30  # seconds between checks
    timeout_seconds: int = 5  # seconds before a check fails
    healthy_threshold: int = 5  # passes before a target is healthy
    unhealthy_threshold: int = 2  # failures before a target is unhealthy

    def __post_init__(self) -> None:
        _require(self.path.startswith("/") and len(self.path) <= 1024, "path", self.path,
                 "an absolute URL path like /health, at most 1024 characters")
        _require(bool(re.match(r"^\d{3}([-,]\d{3})*$", self.matcher)), "matcher", self.matcher,
                 'HTTP codes like "200", "200-299" or "200,302"')
        _require_range("interval_seconds", self.interval_seconds, 5, 300)
        _require_range("timeout_seconds", self.timeout_seconds, 2, 120)
        _require(self.timeout_seconds < self.interval_seconds, "timeout_seconds",
                 self.timeout_seconds, f"must be less than interval_seconds={self.interval_seconds}")
        _require_range("healthy_threshold", self.healthy_threshold, 2, 10)
        _require_range("unhealthy_threshold", self.unhealthy_threshold, 2, 10)


@dataclass(frozen=True)
class ScalingConfig:
    """CPU target tracking on the service's desired count."""

    min_capacity: int = 1  # fewest tasks
    max_capacity: int = 3  # most tasks
    cpu_target_percent: float = 70  # the service's average CPU to hold
    scale_in_cooldown_seconds: int = 60  # wait after scaling in
    scale_out_cooldown_seconds: int = 60  # wait after scaling out

    def __post_init__(self) -> None:
        _require_range("min_capacity", self.min_capacity, 1, 1000)
        _require_range("max_capacity", self.max_capacity, 1, 1000)
        _require(self.min_capacity <= self.max_capacity, "min_capacity", self.min_capacity,
                 f"must not exceed max_capacity={self.max_capacity}")
        _require_range("cpu_target_percent", self.cpu_target_percent, 1, 100)
        _require_range("scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0, 3600)
        _require_range("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600)


@dataclass(frozen=True)
class AlarmsConfig:
    """CloudWatch alarms on the service; all go to one SNS topic."""

    email: str = ""  # subscribed to the alarm topic when set (AWS mails a confirmation link)
    evaluation_minutes: int = 3  # consecutive bad minutes before an alarm fires
    alb_5xx_per_minute: int = 10  # load balancer's own 5xx responses
    target_5xx_per_minute: int = 10  # the application's 5xx responses
    unhealthy_hosts: int = 1  # unhealthy targets
    p90_latency_seconds: float = 1.0  # target response time, 90th percentile
    cpu_percent: float = 85  # service average CPU
    memory_percent: float = 85  # service average memory

    def __post_init__(self) -> None:
        _require(not self.email or bool(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", self.email)),
                 "email", self.email, "an email address, or empty for no subscription")
        _require_range("evaluation_minutes", self.evaluation_minutes, 1, 60)
        _require_range("alb_5xx_per_minute", self.alb_5xx_per_minute, 1, 100000)
        _require_range("target_5xx_per_minute", self.target_5xx_per_minute, 1, 100000)
        _require_range("unhealthy_hosts", self.unhealthy_hosts, 1, 1000)
        _require_range("p90_latency_seconds", self.p90_latency_seconds, 0.01, 60)
        _require_range("cpu_percent", self.cpu_percent, 1, 100)
        _require_range("memory_percent", self.memory_percent, 1, 100)


# Releases tag the digest they roll out `release-<env>-<UTC time>` (ops.release): what an
# environment runs, or may roll back to, then outlives the count of other images
# (constructs_lib/image_repository.py's lifecycle policy).
RELEASE_TAG_PREFIX = "release-"
# CodeDeploy's predefined ECS traffic shifts, by the name the config uses.
TRAFFIC_SHIFTS = MappingProxyType({
    "all_at_once": "CodeDeployDefault.ECSAllAtOnce",
    "linear_10_percent_every_1_minute": "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "linear_10_percent_every_3_minutes": "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
    "canary_10_percent_for_5_minutes": "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "canary_10_percent_for_15_minutes": "CodeDeployDefault.ECSCanary10Percent15Minutes",
})


@dataclass(frozen=True)
class BlueGreenConfig:
    """CodeDeploy blue/green deploys instead of ECS rolling deploys."""

    enabled: bool = False  # CodeDeploy (CODE_DEPLOY controller) runs each deploy
    test_listener_port: int = 0  # required when enabled: where the new version is tested first
    # How production traffic moves to the new version: all_at_once,
    # linear_10_percent_every_1_minute, linear_10_percent_every_3_minutes,
    # canary_10_percent_for_5_minutes or canary_10_percent_for_15_minutes (TRAFFIC_SHIFTS).
    traffic_shift: str = "all_at_once"
    termination_wait_minutes: int = 5  # how long the old version stays ready for a rollback
    # Who may reach the test listener (the new version before it takes traffic) besides the
    # VPC itself: IPv4 CIDRs, e.g. the runner that tests a deployment; none: the VPC only.
    # Never the internet.
    test_listener_cidrs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for index, cidr in enumerate(self.test_listener_cidrs):
            try:
                ipaddress.IPv4Network(cidr)
            except ValueError:
                raise FieldError(f"test_listener_cidrs[{index}]", cidr,
                                 "an IPv4 network with no host bits set, like 203.0.113.0/24")
        if self.enabled:
            _require(1 <= self.test_listener_port <= 65535, "test_listener_port",
                     self.test_listener_port,
                     "blue/green needs a second listener port (1-65535) for the test traffic")
        _require(self.traffic_shift in TRAFFIC_SHIFTS, "traffic_shift", self.traffic_shift,
                 f"one of {', '.join(TRAFFIC_SHIFTS)}")
        _require_range("termination_wait_minutes", self.termination_wait_minutes, 0, 2880)


@dataclass(frozen=True)
class ServiceConfig:
    """The Fargate service and the load balancer in front of it."""

    name: str = "hello-world"  # names the cluster, service, ALB, log group, roles: <name>-<env>
    # The image the service starts with (a public one, or any registry's; an ECR image also gets
    # pull permissions). With a repository (below) it runs until the first release
    # (`python -m ops.release`) replaces it.
    image: str = "crccheck/hello-world:latest"
    # Create the ECR repository `<project>/<name>` for the service's versioned images, which
    # releases run images from (immutable tags, scan on push, KMS).
    ecr_repository: bool = False
    # Instead of creating one, run images from the repository this other environment creates
    # (same region and account): promotion then moves a digest, never rebuilds.
    ecr_repository_owner: str = ""
    # With a repository: start from this tag (a git commit) or sha256:<digest> instead of `image`.
    image_tag: str = ""
    ecr_keep_images: int = 30  # images kept besides released ones; untagged expire after a day
    # Released images kept (tagged release-<env>-..., in any environment sharing the
    # repository): what runs and what a rollback returns to never expire with the others.
    ecr_keep_released_images: int = 100
    container_name: str = "web"  # the container's name in the task definition
    container_port: int = 8000  # the port the container listens on
    listener_port: int = 80  # the ALB's HTTP listener, open to the internet
    cpu: int = 2048  # Fargate cpu units (1024 = 1 vCPU)
    memory: int = 4096  # MiB; must be a size Fargate allows for `cpu`
    environment: Mapping[str, str] = field(default_factory=dict)  # container environment variables
    # AWS managed policy names (e.g. "AmazonS3ReadOnlyAccess") attached to the task role.
    task_role_managed_policies: tuple[str, ...] = ()
    log_retention_days: int = 30  # days the container's CloudWatch logs are kept
    container_insights: bool = True  # ECS Container Insights on the cluster
    alb_deletion_protection: bool = False  # the ALB refuses deletion until this is lifted
    health_check_grace_period_seconds: int = 60  # a new task's time before health checks count
    # Rolling deploys keep full capacity: new tasks start before old ones stop.
    deployment_minimum_healthy_percent: int = 100
    deployment_maximum_percent: int = 200  # rolling deploy ceiling
    deployment_circuit_breaker: bool = True  # roll back a deploy whose tasks never get healthy
    deregistration_delay_seconds: int = 30  # time to drain a task's connections (ELB default 300)
    read_only_root_filesystem: bool = True  # turn off only for images that write to their disk
    # HTTPS listener on 443 (TLS 1.2/1.3 policy) with certificate_arn; HTTP redirects to it.
    https: bool = False
    certificate_arn: str = ""  # an ACM certificate in the environment's region; required with https
    # The name the site is served at, which the certificate covers (required with https): the
    # smoke check verifies the certificate for it, never for the ALB's *.elb.amazonaws.com name.
    domain_name: str = ""
    # ALB access logs to an encrypted private S3 bucket, expired after access_logs.RETENTION_DAYS.
    alb_access_logs: bool = False
    # Docker Hub allows 10 anonymous pulls an hour per IPv4 address, and every task pulls
    # through the one NAT address. A secret's ARN (ecr-pullthroughcache/..., holding a Docker
    # Hub username and accessToken): a Docker Hub `image` is then pulled through an ECR
    # pull-through cache in the account, authenticated, and cached after the first pull.
    docker_hub_credentials_secret: str = ""
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    scaling: ScalingConfig = field(default_factory=ScalingConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    blue_green: BlueGreenConfig = field(default_factory=BlueGreenConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "environment", MappingProxyType(dict(self.environment)))
        _require(bool(_NAME.match(self.name)) and len(self.name) <= 24, "name", self.name,
                 "lowercase letters, digits and '-', at most 24 characters")
        _require(bool(self.image) and " " not in self.image, "image", self.image,
                 "an image reference like repository:tag or repository@sha256:digest")
        _require(bool(re.match(r"^[A-Za-z0-9_-]{1,255}$", self.container_name)),
                 "container_name", self.container_name, "letters, digits, '_' and '-'")
        _require_range("container_port", self.container_port, 1, 65535)
        _require_range("listener_port", self.listener_port, 1, 65535)
        _require(self.cpu in FARGATE_SIZES, "cpu", self.cpu,
                 f"Fargate allows {', '.join(map(str, FARGATE_SIZES))}")
        allowed_memory = FARGATE_SIZES[self.cpu]
        _require(self.memory in allowed_memory, "memory", self.memory,
                 f"with cpu={self.cpu} Fargate allows {allowed_memory[0]}-{allowed_memory[-1]} "
                 f"MiB in steps of {allowed_memory[1] - allowed_memory[0]}")
        for key in self.environment:
            _require(bool(_ENV_VAR.match(key)), f"environment.{key}", self.environment[key],
                     "variable names are letters, digits and '_', not starting with a digit")
        for policy in self.task_role_managed_policies:
            _require(bool(_MANAGED_POLICY.match(policy)), "task_role_managed_policies", policy,
                     "an AWS managed policy name like AmazonS3ReadOnlyAccess or service-role/X")
        _require(self.log_retention_days in LOG_RETENTION_DAYS, "log_retention_days",
                 self.log_retention_days,
                 f"CloudWatch Logs allows {', '.join(map(str, LOG_RETENTION_DAYS))}")
        _require_range("health_check_grace_period_seconds",
                       self.health_check_grace_period_seconds, 0, 2147483647)
        _require_range("deployment_minimum_healthy_percent",
                       self.deployment_minimum_healthy_percent, 0, 100)
        _require_range("deployment_maximum_percent", self.deployment_maximum_percent, 100, 200)
        _require_range("deregistration_delay_seconds", self.deregistration_delay_seconds, 0, 3600)
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
        _require_range("ecr_keep_images", self.ecr_keep_images, 1, 1000)
        _require_range("ecr_keep_released_images", self.ecr_keep_released_images, 1, 1000)
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
        if self.blue_green.enabled:
            used = {self.listener_port, 443} if self.https else {self.listener_port}
            _require(self.blue_green.test_listener_port not in used,
                     "blue_green.test_listener_port", self.blue_green.test_listener_port,
                     f"must differ from the production listener port(s) {sorted(used)}")

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
    noncurrent_version_expiration_days: int = 90  # how long overwritten state versions are kept
    # A DynamoDB lock table, for Terraform older than 1.10; newer versions lock with a lock
    # file next to the state (use_lockfile), which is always on.
    lock_table: bool = False

    def __post_init__(self) -> None:
        _require(bool(_BUCKET.match(self.bucket)) and ".." not in self.bucket, "bucket",
                 self.bucket, "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'")
        _require(not self.region or bool(_REGION.match(self.region)), "region", self.region,
                 "an AWS region code like ap-south-1, or empty for the environment's region")
        _require_range("noncurrent_version_expiration_days",
                       self.noncurrent_version_expiration_days, 1, 3650)

    @property
    def lock_table_name(self) -> str:
        return f"{self.bucket}-lock"


# GitHub Actions' OIDC issuer, and the audience aws-actions/configure-aws-credentials asks for.
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:iam::(?P<account>\d{12}):oidc-provider/" + re.escape(GITHUB_OIDC_HOST) + "$")
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
class CiConfig:
    """The AWS roles GitHub Actions assumes by OIDC; nothing is created while
    github_repository is empty."""

    # "owner/repo" whose GitHub Actions get AWS roles, spelled as GitHub does (the OIDC `sub` is
    # compared exactly); empty: no CI resources.
    github_repository: str = ""
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


# --- Delivery order (deploy.yml): which environment each one is promoted from. ----------------
@dataclass(frozen=True)
class DeliveryConfig:
    """How deploy.yml brings a new version to this environment."""

    # The environment whose released version this one receives (prod: "uat"), after it; empty:
    # this environment gets each new build first.
    promote_from: str = ""

    def __post_init__(self) -> None:
        _require(not self.promote_from or bool(_NAME.match(self.promote_from)), "promote_from",
                 self.promote_from, "another environment's name, or empty for the new build")


def delivery_order(environments: list[EnvironmentConfig]) -> list[EnvironmentConfig]:
    """`environments` in deploy order (each after the one it is promoted from, else by name);
    ConfigError for a `delivery.promote_from` naming an unknown environment or closing a cycle."""
    import graphlib

    known = {env.name: env for env in environments}
    sorter = graphlib.TopologicalSorter()
    for name in sorted(known):  # so that environments with no order between them go by name
        sorter.add(name)
    for env in environments:
        source = env.delivery.promote_from
        if source and source not in known.keys() - {env.name}:
            raise ConfigError(
                f"environments/{env.name}.toml: delivery.promote_from = {source!r}: unknown "
                f"environment; allowed: {', '.join(sorted(known.keys() - {env.name}))}, or empty")
        sorter.add(env.name, *([source] if source else []))
    try:
        return [known[name] for name in sorter.static_order()]
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise ConfigError(f"delivery.promote_from: a cycle, each promoting to the next: {cycle}; "
                          "one of them must take the new build (no promote_from)") from None
# --- end of the delivery order block ----------------------------------------------------------


# Every environment's stacks, in deploy order; each depends on the one before it.
STACK_KINDS = ("state", "network", "app")
# The state stack's Terraform variable: true imports the environment's ECR repository that
# already exists (made by the app stack before it moved to the state stack). An import block's
# condition must be known before any data source is read, and importing a repository that does
# not exist fails: ops.deploy sets it (TF_VAR_<name>) from whether the repository exists.
ADOPT_REPOSITORY_VARIABLE = "adopt_image_repository"


@dataclass(frozen=True)
class Names:
    """Every name derived from an environment's config, written once: the stacks, the ops
    commands and the tools read them from here."""

    service: str  # <service.name>-<env>: cluster, ECS service, task family, ALB, roles, CodeDeploy
    log_group: str  # the container's CloudWatch log group
    image_parameter: str  # SSM parameter holding the version of record (the image that runs)
    release_lock_parameter: str  # SSM parameter that exists while a release runs
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


@dataclass(frozen=True)
class EnvironmentConfig:
    """One deployable environment: `environments/<name>.toml`."""

    name: str  # from the file name; suffixes stack names: network-<name>, app-<name>
    region: str  # AWS region of every stack
    network: NetworkConfig
    state: StateConfig
    project: str = "hello-world"  # the Project tag on every resource
    service: ServiceConfig = field(default_factory=ServiceConfig)
    ci: CiConfig = field(default_factory=CiConfig)

    @property
    def ci_role_names(self) -> dict[str, str]:
        """The roles GitHub Actions assumes, by kind: <project>-<env>-github-plan, ...; the
        image role only where the environment owns the ECR repository it pushes to."""
        return {kind: f"{self.project}-{self.name}-github-{kind}" for kind in CI_ROLES
                if kind != "image" or self.service.ecr_repository}


    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)  # deploy.yml's order

    @property
    def stack_names(self) -> dict[str, str]:
        """This environment's stacks by kind, in deploy order: state-<env>, network-<env>, ..."""
        return {kind: f"{kind}-{self.name}" for kind in STACK_KINDS}

    @property
    def names(self) -> Names:
        service = f"{self.service.name}-{self.name}"
        prefix = f"/{self.project}/{self.name}/{self.service.name}"
        return Names(
            service=service, log_group=f"/ecs/{service}", image_parameter=f"{prefix}/image",
            release_lock_parameter=f"{prefix}/release-lock",
            repository=(f"{self.project}/{self.service.name}"
                        if self.service.has_repository else None),
            task_role=f"{service}-task", execution_role=f"{service}-execution",
            codedeploy_role=f"{service}-codedeploy",
            flow_logs_role=f"{self.network.vpc_name}-flow-logs",
            permissions_boundary=f"{self.project}-{self.name}-app-boundary",
            ci_read_policy=f"{self.project}-{self.name}-github-read",
            ci_write_policy=f"{self.project}-{self.name}-github-write",
            docker_hub_cache=(f"{self.project}-{self.name}-dockerhub"
                              if self.service.docker_hub_credentials_secret else None))

    def __post_init__(self) -> None:
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
        # ECR limits a pull-through cache's repository prefix to 30 characters.
        _require(len(self.names.docker_hub_cache or "") <= 30,
                 "service.docker_hub_credentials_secret", self.service.docker_hub_credentials_secret,
                 f"its cache prefix {self.names.docker_hub_cache!r} ('<project>-<env>-dockerhub') "
                 "is longer than ECR's 30 characters; shorten the project name")
        # AWS limits load balancer and target group names to 32 characters.
        _require(len(self.names.service) <= 32, "service.name", self.service.name,
                 f"'<service.name>-{self.name}' names the load balancer and must be at most 32 "
                 "characters")
        if self.ci.enabled:
            longest = max(self.ci_role_names.values(), key=len)
            _require(len(longest) <= 64, "project", self.project,
                     f"names the CI role '{longest}', which IAM allows at most 64 characters")


def _known_regions() -> tuple[str, ...]:
    """The regions botocore knows (asked only to explain an AZ that is not in the region: a
    region newer than botocore is never refused for being unknown)."""
    try:
        from botocore.loaders import Loader
        partitions = Loader().load_data("endpoints")["partitions"]
    except Exception:  # no botocore: nothing to compare with
        return ()
    return tuple(sorted({region for partition in partitions for region in partition["regions"]}))


# ---------------------------------------------------------------------------------------------
# Loading: TOML tables -> dataclasses, with unknown keys and wrong types reported by field path.


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if hint is bool:
        return "true or false"
    if hint is int:
        return "a whole number"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in hint)
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(hint)[0])}s"
    if origin in (collections.abc.Mapping, dict):
        return "a table of strings"
    if dataclasses.is_dataclass(hint):
        return "a table"
    return str(hint)


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    wrong = FieldError(path, value, f"expected {_describe(hint)}")
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise wrong
        return _build(hint, value, path)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise wrong from None
    if origin is tuple:
        if not isinstance(value, list):
            raise wrong
        item = typing.get_args(hint)[0]
        return tuple(_convert(item, element, path) for element in value)
    if origin in (collections.abc.Mapping, dict):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise wrong
        return dict(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
        return value
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise wrong
    return value


def _build(cls: type, data: Mapping[str, Any], path: str = "", **given: Any) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in given}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise FieldError(key, data[key], f"unknown key; {hint}allowed: {', '.join(fields)}"
                             ).under(path)
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise FieldError(missing[0], None, "required, but missing").under(path)
    values = {name: _convert(hints[name], data[name], f"{path}.{name}" if path else name)
              for name in fields if name in data}
    try:
        return cls(**given, **values)
    except FieldError as error:
        raise error.under(path) from None


def environments_dir() -> Path:
    """Where the environment files are: $ENVIRONMENTS_DIR, else the project's environments/."""
    return Path(os.environ.get("ENVIRONMENTS_DIR")
                or Path(__file__).resolve().parent.parent / "environments")


def load_environment(path: Path) -> EnvironmentConfig:
    """Read and validate one environment file; raises ConfigError with a one-line message."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
        return _build(EnvironmentConfig, data, name=path.stem)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except FieldError as error:
        raise ConfigError(f"{path}: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def load_environments(directory: Path) -> list[EnvironmentConfig]:
    """Every `*.toml` in `directory`, validated alone and against each other."""
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise ConfigError(f"{directory}: no environment files (*.toml) found")
    environments = [load_environment(file) for file in files]
    for i, pair in enumerate(zip(files, environments)):
        for other in zip(files[i + 1:], environments[i + 1:]):
            # A clash names the file edited last: most likely the one to change.
            (first_file, first), (second_file, second) = sorted(
                (pair, other), key=lambda item: item[0].stat().st_mtime_ns)
            if first.network.network.overlaps(second.network.network):
                raise ConfigError(
                    f"{second_file}: network.cidr = {second.network.cidr!r}: overlaps "
                    f"{first_file.name}'s {first.network.cidr}; environments need disjoint CIDRs "
                    "so they can be peered later")
            if first.state.bucket == second.state.bucket:
                raise ConfigError(
                    f"{second_file}: state.bucket = {second.state.bucket!r}: already used by "
                    f"{first_file.name}; give each environment its own state bucket")
            accounts = {first.ci.account, second.ci.account}
            if (first.ci.enabled and second.ci.enabled
                    and first.ci.oidc_provider == second.ci.oidc_provider == "create"
                    and ("" in accounts or len(accounts) == 1)):
                raise ConfigError(
                    f"{second_file}: ci.oidc_provider = 'create': {first_file.name} creates the "
                    "GitHub OIDC provider too, and an AWS account holds one; set "
                    'oidc_provider = "lookup" (or its ARN) here, or distinct ci.account_id values '
                    "if the two deploy to different accounts")
            if (first.region, first.network.vpc_name) == (second.region, second.network.vpc_name):
                raise ConfigError(
                    f"{second_file}: network.vpc_name = {second.network.vpc_name!r}: already used "
                    f"by {first_file.name} in {first.region}; the application finds its VPC by it")
            if (first.service.ecr_repository and second.service.ecr_repository
                    and (first.region, first.names.repository)
                    == (second.region, second.names.repository)):
                raise ConfigError(
                    f"{second_file}: service.ecr_repository = true: repository "
                    f"'{second.names.repository}' in {second.region} is already created by "
                    f"{first_file.name}; share it with service.ecr_repository_owner = "
                    f"\"{first.name}\" (and ecr_repository = false), or give this environment "
                    "another service.name")
    by_name = dict(zip((env.name for env in environments), zip(files, environments)))
    for file, environment in zip(files, environments):
        owner_name = environment.service.ecr_repository_owner
        if not owner_name:
            continue
        field_text = f"{file}: service.ecr_repository_owner = {owner_name!r}"
        if owner_name not in by_name or owner_name == environment.name:
            others = [name for name, (_, env) in by_name.items() if env.service.ecr_repository]
            raise ConfigError(f"{field_text}: not another environment that creates a repository; "
                              f"allowed: {', '.join(others) or 'none (set ecr_repository = true in one)'}")
        owner_file, owner = by_name[owner_name]
        if not owner.service.ecr_repository:
            raise ConfigError(f"{field_text}: {owner_file.name} creates no repository; set "
                              "service.ecr_repository = true there")
        if (owner.region, owner.names.repository) != (environment.region,
                                                      environment.names.repository):
            raise ConfigError(
                f"{field_text}: {owner_file.name} creates '{owner.names.repository}' in "
                f"{owner.region}, this environment would run '{environment.names.repository}' "
                f"in {environment.region}; use the same region, project and service.name")
    delivery_order(environments)  # validates every delivery.promote_from
    return environments


def select_environments(environments: list[EnvironmentConfig], names: str | None
                        ) -> list[EnvironmentConfig]:
    """Keep the comma-separated `names` (all when empty)."""
    if not names:
        return environments
    known = {env.name: env for env in environments}
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    for name in wanted:
        if name not in known:
            raise ConfigError(f"ENVIRONMENTS = {name!r}: unknown environment; "
                              f"allowed: {', '.join(known)}")
    return [known[name] for name in wanted]
