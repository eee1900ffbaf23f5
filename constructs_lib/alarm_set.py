"""The alarms every service gets, declared once: ServiceMonitoring creates them, blue/green
rolls back on the ones marked so, and the tools count them. Plain data (no cdktf import), so
the config and the tools can read it without loading the provider."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Alarm:
    suffix: str  # the alarm is named <service>-<suffix>
    description: str
    namespace: str
    metric: str
    # "alb" (the load balancer: every target group, so right whichever of blue and green
    # serves), "target" (ALB + target group, for metrics ALB publishes per target group only;
    # summed over blue and green with blue/green) or "service" (ECS cluster + service)
    dimensions: str
    statistic: str  # Sum, Maximum, Average, or a percentile like p90
    threshold: str  # the AlarmsProps field holding the threshold
    rolls_back: bool = False  # a blue/green deploy rolls back when it fires

    @property
    def key(self) -> str:
        return self.suffix.replace("-", "_")

    def watches(self, load_balanced: bool) -> bool:
        """Whether a service has this alarm: one without a load balancer only the ECS ones."""
        return load_balanced or self.dimensions == "service"


METRIC_ALARMS = (
    Alarm("alb-5xx", "The load balancer answers 5xx", "AWS/ApplicationELB",
          "HTTPCode_ELB_5XX_Count", "alb", "Sum", "alb_5xx_per_minute", rolls_back=True),
    Alarm("target-5xx", "The application answers 5xx", "AWS/ApplicationELB",
          "HTTPCode_Target_5XX_Count", "alb", "Sum", "target_5xx_per_minute", rolls_back=True),
    Alarm("unhealthy-hosts", "Targets fail health checks", "AWS/ApplicationELB",
          "UnHealthyHostCount", "target", "Maximum", "unhealthy_hosts", rolls_back=True),
    Alarm("p90-latency", "Slow responses (p90)", "AWS/ApplicationELB", "TargetResponseTime",
          "alb", "p90", "p90_latency_seconds"),
    Alarm("cpu-high", "Service CPU high", "AWS/ECS", "CPUUtilization", "service", "Average",
          "cpu_percent"),
    Alarm("memory-high", "Service memory high", "AWS/ECS", "MemoryUtilization", "service",
          "Average", "memory_percent"),
)
# Metric math over Container Insights (desired - running), built by ServiceMonitoring itself.
TASKS_BELOW_DESIRED = "tasks-below-desired"


def alarm_names(load_balanced: bool = True) -> tuple[str, ...]:
    """The suffixes of a service's alarms."""
    return tuple(alarm.suffix for alarm in METRIC_ALARMS
                 if alarm.watches(load_balanced)) + (TASKS_BELOW_DESIRED,)


ALARM_NAMES = alarm_names()
ROLLBACK_ALARMS = tuple(alarm.key for alarm in METRIC_ALARMS if alarm.rolls_back)
