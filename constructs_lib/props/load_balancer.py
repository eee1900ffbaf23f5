"""HealthCheckProps and LoadBalancerProps (constructs_lib/load_balancer.py)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from . import PropError, require, require_range

HTTPS_PORT = 443


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
    target_port: int  # the port the targets (containers) listen on
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
        require_range(self, "target_port", 1, 65535)
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
