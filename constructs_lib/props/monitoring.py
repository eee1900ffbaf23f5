"""AlarmsProps and ServiceMonitoringProps (constructs_lib/monitoring.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import require, require_range


@dataclass(frozen=True)
class AlarmsProps:
    """The alarm set's thresholds (constructs_lib/alarm_set.py names each one's field)."""

    # @default None: no subscription. An address subscribed to the alarm topic (AWS mails a
    # confirmation link).
    email: str | None = None
    evaluation_minutes: int = 3  # @default 3: consecutive bad minutes before an alarm fires
    alb_5xx_per_minute: int = 10  # @default 10: the load balancer's own 5xx responses
    target_5xx_per_minute: int = 10  # @default 10: the application's 5xx responses
    unhealthy_hosts: int = 1  # @default 1: unhealthy targets
    p90_latency_seconds: float = 1.0  # @default 1.0: target response time, 90th percentile
    cpu_percent: float = 85  # @default 85: the service's average CPU
    memory_percent: float = 85  # @default 85: the service's average memory

    def __post_init__(self) -> None:
        require(self.email is None or bool(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", self.email)),
                self, "email", "an email address, or unset for no subscription")
        require_range(self, "evaluation_minutes", 1, 60)
        require_range(self, "alb_5xx_per_minute", 1, 100000)
        require_range(self, "target_5xx_per_minute", 1, 100000)
        require_range(self, "unhealthy_hosts", 1, 1000)
        require_range(self, "p90_latency_seconds", 0.01, 60)
        require_range(self, "cpu_percent", 1, 100)
        require_range(self, "memory_percent", 1, 100)


@dataclass(frozen=True)
class ServiceMonitoringProps:
    """What ServiceMonitoring watches and how loudly."""

    name: str  # prefixes the topic, the alarms (<name>-<suffix>) and names the dashboard
    region: str  # the dashboard's metrics region
    cluster_name: str  # the ECS service's cluster (ECS and Container Insights metrics)
    service_name: str  # the ECS service watched
    # The ALB in front of it (ApplicationELB metrics); None: a worker, without load balancer
    # alarms or widgets.
    load_balancer_arn_suffix: str | None
    target_group_arn_suffix: str | None  # the service's target group (blue, with blue/green)
    # @default None: one target group. Blue/green's second one: per-target-group metrics are
    # then summed over both, so the alarms see whichever serves (and the replacement).
    green_target_group_arn_suffix: str | None = None
    # @default the AlarmsProps defaults: thresholds, evaluation minutes, no email
    alarms: AlarmsProps = field(default_factory=AlarmsProps)
    # @default False: the load balancer serves this service only. True: others too, so the
    # application's 5xx and latency are watched on the service's own target group.
    shared_load_balancer: bool = False

    def __post_init__(self) -> None:
        require((self.load_balancer_arn_suffix is None) == (self.target_group_arn_suffix is None),
                self, "target_group_arn_suffix", "give it with load_balancer_arn_suffix, or "
                "neither (a service without a load balancer)")
