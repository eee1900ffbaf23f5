"""BlueGreenProps (constructs_lib/blue_green.py) and CodeDeploy's traffic shifts."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from . import require, require_range

# CodeDeploy's predefined ECS traffic shifts, by the name the props take.
TRAFFIC_SHIFTS = MappingProxyType({
    "all_at_once": "CodeDeployDefault.ECSAllAtOnce",
    "linear_10_percent_every_1_minute": "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "linear_10_percent_every_3_minutes": "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
    "canary_10_percent_for_5_minutes": "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "canary_10_percent_for_15_minutes": "CodeDeployDefault.ECSCanary10Percent15Minutes",
})


@dataclass(frozen=True)
class BlueGreenProps:
    """The service CodeDeploy deploys and the two target groups and listeners it switches."""

    name: str  # names the CodeDeploy application, deployment group and role
    partition: str  # the AWS partition, for the managed policy ARN
    cluster_name: str  # the ECS cluster of the service
    service_name: str  # the service, with the CODE_DEPLOY deployment controller
    production_listener_arn: str  # the listener production traffic comes through
    test_listener_arn: str  # the listener that reaches the new task set before the shift
    blue_target_group_name: str  # the target group the service starts behind
    green_target_group_name: str  # the idle target group a new task set starts behind
    rollback_alarm_names: list[str]  # a deploy rolls back when any of these fires
    # @default "all_at_once": how production traffic moves to the new version, a key of
    # TRAFFIC_SHIFTS (all_at_once, linear_10_percent_every_1_minute,
    # linear_10_percent_every_3_minutes, canary_10_percent_for_5_minutes,
    # canary_10_percent_for_15_minutes)
    traffic_shift: str = "all_at_once"
    # @default 5: minutes the old task set stays ready for a rollback
    termination_wait_minutes: int = 5
    permissions_boundary: str | None = None  # @default None: the role's boundary policy ARN

    def __post_init__(self) -> None:
        require(self.traffic_shift in TRAFFIC_SHIFTS, self, "traffic_shift",
                f"one of {', '.join(TRAFFIC_SHIFTS)}")
        require_range(self, "termination_wait_minutes", 0, 2880)
