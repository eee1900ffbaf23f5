"""Typed, validated environment configuration, loaded from `environments/<env>.toml`.

- schema.py: the file's shape, one dataclass per table; what only the config knows is checked
  there, and a key the constructs use defaults to None ("unset": the props' default applies)
- loading.py: TOML -> dataclasses, each file checked as the props it maps onto, and against the
  others; one line per bad value: `environments/uat.toml: network.cidr = '10.0.0.0/33': ...`
- naming.py: every name derived from the config, and the stacks' output contract
- delivery.py: the order deploy.yml brings a version through the environments

This package's public names are re-exported here; nothing in it imports cdktf, so that bad input
fails before the provider loads.
"""

from constructs_lib.alarm_set import ALARM_NAMES
from constructs_lib.props import LOG_RETENTION_DAYS
from constructs_lib.props.blue_green import TRAFFIC_SHIFTS
from constructs_lib.props.ci_access import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from constructs_lib.props.fargate_service import FARGATE_SIZES
from constructs_lib.props.network import NatGateways

from .delivery import delivery_order
from .loading import environments_dir, load_environment, load_environments, select_environments
from .naming import (ADOPT_REPOSITORY_VARIABLE, CI_ROLES, CI_SESSION_SECONDS,
                     RELEASE_TAG_PREFIX, STACK_KINDS, Names, ci_role_output, github_variable)
from .outputs import OUTPUTS
from .schema import (DOCKER_HUB_HOSTS, AlarmsConfig, BlueGreenConfig, CiConfig, ConfigError,
                     DeliveryConfig, EnvironmentConfig, FieldError, HealthCheckConfig,
                     NetworkConfig, ScalingConfig, ServiceConfig, SharedConfig, StateConfig,
                     image_reference)

__all__ = [
    "ADOPT_REPOSITORY_VARIABLE", "ALARM_NAMES", "CI_ROLES", "CI_SESSION_SECONDS",
    "DOCKER_HUB_HOSTS", "FARGATE_SIZES", "GITHUB_OIDC_AUDIENCE", "GITHUB_OIDC_HOST",
    "LOG_RETENTION_DAYS", "OUTPUTS", "RELEASE_TAG_PREFIX", "STACK_KINDS", "TRAFFIC_SHIFTS",
    "AlarmsConfig", "BlueGreenConfig", "CiConfig", "ConfigError", "DeliveryConfig",
    "EnvironmentConfig", "FieldError", "HealthCheckConfig", "Names", "NatGateways",
    "NetworkConfig", "ScalingConfig", "ServiceConfig", "SharedConfig", "StateConfig", "ci_role_output",
    "delivery_order", "environments_dir", "github_variable", "image_reference",
    "load_environment", "load_environments", "select_environments",
]
