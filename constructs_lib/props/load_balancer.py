"""HealthCheckProps and LoadBalancerProps (constructs_lib/load_balancer.py)."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from . import PropError, require, require_range

HTTPS_PORT = 443

# The provider allows a bucket_prefix of 63 - 26 characters: it appends a 26-character suffix
# and S3 names are at most 63.
_BUCKET_PREFIX_LIMIT = 37
_LOGS_SUFFIX = "-alb-logs-"


def access_log_bucket_prefix(name: str) -> str:
    """The access-log bucket's prefix for load balancer `name`: `<name>-alb-logs-`, or, past
    the provider's 37 characters, the name cut short and a digest of the whole of it, so no
    other name gets this prefix (the CI deploy role's S3 pattern is made of it too)."""
    prefix = f"{name}{_LOGS_SUFFIX}"
    if len(prefix) <= _BUCKET_PREFIX_LIMIT:
        return prefix
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    kept = name[:_BUCKET_PREFIX_LIMIT - len(_LOGS_SUFFIX) - len(digest) - 1].rstrip("-")
    return f"{kept}-{digest}{_LOGS_SUFFIX}"


@dataclass(frozen=True)
class HealthCheckProps:
    """The target group's health check: the ELB defaults, written out."""

    path: str = "/"  # @default "/": the path the health check requests
    matcher: str = "200"  # @default "200": healthy HTTP codes, like "200", "200-299", "200,302"
    interval_seconds: int = 30  # @default 30: seconds between checks
    timeout_seconds: int = 5  # @default 5: seconds before a check fails
    healthy_threshold: int = 5  # @default 5: passes before a target is healthy
    unhealthy_threshold: int = 2  # @default 2: failures before a target is unhealthy

    def __post_init__(self) -> None:
        require(self.path.startswith("/") and len(self.path) <= 1024, self, "path",
                "an absolute URL path like /health, at most 1024 characters")
        require(bool(re.match(r"^\d{3}([-,]\d{3})*$", self.matcher)), self, "matcher",
                'HTTP codes like "200", "200-299" or "200,302"')
        require_range(self, "interval_seconds", 5, 300)
        require_range(self, "timeout_seconds", 2, 120)
        require(self.timeout_seconds < self.interval_seconds, self, "timeout_seconds",
                f"must be less than interval_seconds={self.interval_seconds}")
        require_range(self, "healthy_threshold", 2, 10)
        require_range(self, "unhealthy_threshold", 2, 10)


@dataclass(frozen=True)
class LoadBalancerProps:
    """What a LoadBalancer needs: where it lives, what it listens on, what its targets are."""

    name: str  # the load balancer's name (at most 32 characters); prefixes its other names
    vpc_id: str  # the VPC of the load balancer and its target groups
    public_subnet_ids: list[str]  # where the load balancer's nodes are (one per AZ)
    # The port the default targets (containers) listen on; None: no default target group, and
    # a request no ServiceRoute matches gets a 404.
    target_port: int | None
    # Target group names are generated from this prefix (6 characters at most), so a changed
    # port can replace a target group before the old one is deleted.
    target_group_name_prefix: str
    listener_port: int = 80  # @default 80: the HTTP listener, open to the internet
    # @default None: HTTP only. An ACM certificate ARN: HTTPS on 443, and HTTP redirects to it.
    certificate_arn: str | None = None
    # @default None: no blue/green. A port: a test listener and a second (green) target group
    # for CodeDeploy, which then owns the listeners' forwarding.
    test_listener_port: int | None = None
    # @default (): with a test listener, who may reach it: `vpc_cidr` (inside the VPC) and
    # these IPv4 CIDRs; never the whole internet, as it serves a version not yet released.
    test_listener_cidrs: tuple[str, ...] = ()
    vpc_cidr: str | None = None  # @default None: the VPC's CIDR, needed with a test listener
    # @default the ELB defaults, written out (HealthCheckProps)
    health_check: HealthCheckProps = field(default_factory=HealthCheckProps)
    deregistration_delay_seconds: int = 30  # @default 30: connection draining (ELB's is 300)
    deletion_protection: bool = False  # @default False: the ALB refuses deletion when True
    access_logs: bool = False  # @default False: access logs to an encrypted private bucket

    def __post_init__(self) -> None:
        object.__setattr__(self, "test_listener_cidrs", tuple(self.test_listener_cidrs))
        require(len(self.name) <= 32, self, "name", "at most 32 characters (AWS's limit)")
        if self.target_port is not None:
            require_range(self, "target_port", 1, 65535)
        require(self.target_port is not None or self.test_listener_port is None, self,
                "test_listener_port", "blue/green needs a default target (target_port)")
        require_range(self, "listener_port", 1, 65535)
        require_range(self, "deregistration_delay_seconds", 0, 3600)
        for index, cidr in enumerate(self.test_listener_cidrs):
            try:
                ipaddress.IPv4Network(cidr)
            except ValueError:
                raise PropError(type(self).__name__, f"test_listener_cidrs[{index}]", cidr,
                                "an IPv4 network with no host bits set, like 203.0.113.0/24"
                                ) from None
        if self.test_listener_port is not None:
            require_range(self, "test_listener_port", 1, 65535)
            used = {self.listener_port} | ({HTTPS_PORT} if self.certificate_arn else set())
            require(self.test_listener_port not in used, self, "test_listener_port",
                    f"must differ from the production listener port(s) {sorted(used)}")
            require(self.vpc_cidr is not None, self, "vpc_cidr", "needed with a test listener")


# ELB: at most 5 condition values per rule (paths and hosts together), 128 characters each.
MAX_ROUTE_VALUES = 5
_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?&=;%]{0,127}$")
_HOST_PATTERN = re.compile(r"^(\*\.)?([a-z0-9*?]([a-z0-9*?-]{0,61}[a-z0-9*?])?\.)*"
                           r"[a-z0-9*?]([a-z0-9*?-]{0,61}[a-z0-9*?])?$")


@dataclass(frozen=True)
class ServiceRouteProps:
    """A listener rule sending the requests it matches (by path and/or host) to a target
    group of its own."""

    name: str  # the target group's Name tag
    vpc_id: str  # the VPC of the target group
    listener_arn: str  # the listener the rule is on (the HTTPS one with HTTPS)
    target_port: int  # the port the targets (containers) listen on
    target_group_name_prefix: str  # as LoadBalancerProps's (6 characters at most)
    priority: int  # the rule's priority on its listener: 1-50000, lower first, unique
    # @default (): URL path patterns the rule matches, like /api/*
    path_patterns: tuple[str, ...] = ()
    # @default (): host names the rule matches, like api.example.com
    host_headers: tuple[str, ...] = ()
    # @default the ELB defaults, written out (HealthCheckProps)
    health_check: HealthCheckProps = field(default_factory=HealthCheckProps)
    deregistration_delay_seconds: int = 30  # @default 30: connection draining (ELB's is 300)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_patterns", tuple(self.path_patterns))
        object.__setattr__(self, "host_headers", tuple(self.host_headers))
        require_range(self, "target_port", 1, 65535)
        require_range(self, "priority", 1, 50000)
        require_range(self, "deregistration_delay_seconds", 0, 3600)
        require(bool(self.path_patterns or self.host_headers), self, "path_patterns",
                "a routed service needs path_patterns or host_headers (or both)")
        require(len(self.path_patterns) + len(self.host_headers) <= MAX_ROUTE_VALUES, self,
                "path_patterns", f"ELB allows {MAX_ROUTE_VALUES} paths and hosts per rule in all")
        for pattern in self.path_patterns:
            require(bool(_PATH_PATTERN.match(pattern)), self, "path_patterns",
                    "URL paths like /api/* (starting with /, at most 128 characters, * and ? "
                    "as wildcards)", pattern)
        for host in self.host_headers:
            require(bool(_HOST_PATTERN.match(host)) and len(host) <= 128, self, "host_headers",
                    "host names like api.example.com or *.example.com", host)
