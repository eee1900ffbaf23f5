"""The environment config mapped onto the constructs' props: each props class's table names the
config key (its dotted path) each prop comes from, and only keys that are set are passed, so
the props' own defaults apply to the rest. Wiring that Terraform resolves (ids, ARNs) is given
by the stacks; left out, it is UNRESOLVED, which no props check looks into: the loader builds
every props object that way to check a file (`check`), and the tools read the settings a stack
would use the same way (e.g. `fargate_service(environment).container_port`).

No cdktf here: the config loader imports this before the provider loads."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from config.naming import CI_SESSION_SECONDS, RELEASE_TAG_PREFIX, target_group_name_prefix
from config.schema import EnvironmentConfig, FieldError
from constructs_lib.ci_policies import CiPolicyProps, CiService, check_quotas
from constructs_lib.props import PropError
from constructs_lib.props.blue_green import BlueGreenProps
from constructs_lib.props.ci_access import CiAccessProps, CiRole
from constructs_lib.props.fargate_service import (FargateServiceProps, ScalingProps,
                                                  ServiceLoadBalancer)
from constructs_lib.props.image_repository import ImageRepositoryProps
from constructs_lib.props.load_balancer import (HealthCheckProps, LoadBalancerProps,
                                                ServiceRouteProps)
from constructs_lib.props.monitoring import AlarmsProps, ServiceMonitoringProps
from constructs_lib.props.network import NetworkProps
from constructs_lib.props.state import S3BackendProps, StateBucketProps

# A value Terraform resolves when it applies (like a cdktf token): never checked.
UNRESOLVED = "${unresolved}"


def _same(prefix: str, cls: type) -> dict[str, str]:
    return {name: f"{prefix}.{name}" for name in cls.__dataclass_fields__}


# props class -> {prop: the config key it comes from}
SOURCES: dict[type, dict[str, str]] = {
    NetworkProps: {name: f"network.{name}" for name in (
        "vpc_name", "availability_zones", "cidr", "subnet_prefix_length",
        "max_availability_zones", "nat_gateways", "flow_logs", "flow_logs_retention_days",
        "vpc_endpoints")},
    HealthCheckProps: _same("service.health_check", HealthCheckProps),
    ScalingProps: _same("service.scaling", ScalingProps),
    AlarmsProps: _same("service.alarms", AlarmsProps),
    LoadBalancerProps: {
        "listener_port": "service.listener_port",
        "deregistration_delay_seconds": "service.deregistration_delay_seconds",
        "deletion_protection": "service.alb_deletion_protection",
        "access_logs": "service.alb_access_logs",
        "test_listener_cidrs": "service.blue_green.test_listener_cidrs",
        "test_listener_port": "service.blue_green.test_listener_port"},
    FargateServiceProps: {name: f"service.{name}" for name in (
        "container_name", "container_port", "cpu", "memory", "environment", "secrets",
        "secrets_kms_key_arns", "enable_execute_command",
        "read_only_root_filesystem", "task_role_managed_policies", "log_retention_days",
        "container_insights", "deployment_minimum_healthy_percent", "deployment_maximum_percent",
        "deployment_circuit_breaker", "health_check_grace_period_seconds")},
    ServiceRouteProps: {
        "path_patterns": "service.path_patterns", "host_headers": "service.host_headers",
        "priority": "service.route_priority",
        "deregistration_delay_seconds": "service.deregistration_delay_seconds"},
    BlueGreenProps: {name: f"service.blue_green.{name}"
                     for name in ("traffic_shift", "termination_wait_minutes")},
    ImageRepositoryProps: {"keep_images": "service.ecr_keep_images",
                           "keep_released_images": "service.ecr_keep_released_images"},
    StateBucketProps: {"noncurrent_version_expiration_days":
                       "state.noncurrent_version_expiration_days"},
}


def _lookup(environment: EnvironmentConfig, path: str) -> Any:
    value: Any = environment
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _props(cls: type, environment: EnvironmentConfig, skip: tuple[str, ...] = (), **given: Any):
    """cls built from `given` and the set config keys of SOURCES[cls] (except `skip`); a bad
    value becomes a FieldError at its key's path."""
    sources = SOURCES[cls]
    settings = {prop: value for prop, path in sources.items()
                if prop not in skip and (value := _lookup(environment, path)) is not None}
    try:
        return cls(**given, **settings)
    except PropError as error:
        prop, rest = error.prop, ""
        for mark in ".[":  # an item of the prop: environment.KEY, test_listener_cidrs[0]
            if mark in prop:
                prop, _, tail = prop.partition(mark)
                rest = mark + tail
        path = environment.config_path(sources.get(prop, f"{cls.__name__}.{prop}"))
        raise FieldError(path + rest, error.value, error.allowed) from None


def network(environment: EnvironmentConfig, permissions_boundary: str | None = None
            ) -> NetworkProps:
    return _props(NetworkProps, environment, region=environment.region,
                  permissions_boundary=permissions_boundary)


def health_check(environment: EnvironmentConfig) -> HealthCheckProps:
    return _props(HealthCheckProps, environment)


def scaling(environment: EnvironmentConfig) -> ScalingProps:
    return _props(ScalingProps, environment)


def alarms(environment: EnvironmentConfig) -> AlarmsProps:
    return _props(AlarmsProps, environment)


def default_service(environment: EnvironmentConfig) -> EnvironmentConfig | None:
    """The service the listener forwards what no rule matches to (focused): the one
    [service], or the load-balanced one of several without path_patterns or host_headers."""
    if not environment.several:
        return environment
    return next((one for one in environment.each_service() if one.service.load_balanced
                 and not (one.service.path_patterns or one.service.host_headers)), None)


def routed_services(environment: EnvironmentConfig) -> list[EnvironmentConfig]:
    """The services behind a listener rule of their own (focused), in the file's order."""
    return [one for one in environment.each_service()
            if one.several and one.service.load_balanced
            and (one.service.path_patterns or one.service.host_headers)]


def load_balancer(environment: EnvironmentConfig, vpc_id: str = UNRESOLVED,
                  public_subnet_ids: Any = (UNRESOLVED,), vpc_cidr: str = UNRESOLVED
                  ) -> LoadBalancerProps:
    """The load balancer: its target group is the default service's (none: 404)."""
    default = default_service(environment)
    focused = default or environment
    service = focused.service
    return _props(
        LoadBalancerProps, focused,
        skip=(() if service.blue_green.enabled else ("test_listener_port",)) + (
            () if default else ("deregistration_delay_seconds",)),
        name=environment.names.cluster, vpc_id=vpc_id, public_subnet_ids=public_subnet_ids,
        target_port=fargate_service(default).container_port if default else None,
        target_group_name_prefix=target_group_name_prefix(service.name),
        certificate_arn=service.certificate_arn if service.https else None,
        vpc_cidr=vpc_cidr, health_check=health_check(focused))


def service_route(environment: EnvironmentConfig, vpc_id: str = UNRESOLVED,
                  listener_arn: str = UNRESOLVED) -> ServiceRouteProps:
    """The focused routed service's listener rule and target group."""
    routed = [one.service_key for one in routed_services(environment)]
    return _props(ServiceRouteProps, environment, name=environment.names.service,
                  vpc_id=vpc_id, listener_arn=listener_arn,
                  target_port=fargate_service(environment).container_port,
                  target_group_name_prefix=target_group_name_prefix(environment.service.name),
                  health_check=health_check(environment),
                  **({} if environment.service.route_priority is not None else {
                      "priority": 100 + 10 * routed.index(environment.service_key)}))


def fargate_service(environment: EnvironmentConfig, partition: str = UNRESOLVED,
                    vpc_id: str = UNRESOLVED, private_subnet_ids: Any = (UNRESOLVED,),
                    load_balancer: ServiceLoadBalancer | None = ServiceLoadBalancer(UNRESOLVED,
                                                                                    UNRESOLVED),
                    image: str = UNRESOLVED, **optional: Any) -> FargateServiceProps:
    """`optional`: image_repository_arn, pull_through_cache_arn, permissions_boundary,
    account_id (with secrets), cluster (a shared one's ARN and name)."""
    names = environment.names
    return _props(FargateServiceProps, environment, name=names.service,
                  log_group_name=names.log_group, region=environment.region,
                  partition=partition, vpc_id=vpc_id, private_subnet_ids=private_subnet_ids,
                  load_balancer=load_balancer if environment.service.load_balanced else None,
                  image=image,
                  code_deploy=environment.service.blue_green.enabled,
                  scaling=scaling(environment),
                  **({"account_id": environment.ci.account_id or UNRESOLVED}
                     if environment.service.secrets else {}) | optional)


def service_monitoring(environment: EnvironmentConfig, cluster_name: str = UNRESOLVED,
                       service_name: str = UNRESOLVED, load_balancer_arn_suffix: str = UNRESOLVED,
                       target_group_arn_suffix: str = UNRESOLVED,
                       green_target_group_arn_suffix: str | None = None
                       ) -> ServiceMonitoringProps:
    balanced = environment.service.load_balanced
    return ServiceMonitoringProps(
        name=environment.names.service, region=environment.region, cluster_name=cluster_name,
        service_name=service_name,
        load_balancer_arn_suffix=load_balancer_arn_suffix if balanced else None,
        target_group_arn_suffix=target_group_arn_suffix if balanced else None,
        green_target_group_arn_suffix=green_target_group_arn_suffix, alarms=alarms(environment),
        **({"shared_load_balancer": True} if sum(
            one.service.load_balanced for one in environment.each_service()) > 1 else {}))


def blue_green(environment: EnvironmentConfig, partition: str = UNRESOLVED,
               cluster_name: str = UNRESOLVED, service_name: str = UNRESOLVED,
               production_listener_arn: str = UNRESOLVED, test_listener_arn: str = UNRESOLVED,
               blue_target_group_name: str = UNRESOLVED,
               green_target_group_name: str = UNRESOLVED,
               rollback_alarm_names: Any = (), permissions_boundary: str | None = None
               ) -> BlueGreenProps:
    return _props(BlueGreenProps, environment, name=environment.names.service,
                  partition=partition, cluster_name=cluster_name, service_name=service_name,
                  production_listener_arn=production_listener_arn,
                  test_listener_arn=test_listener_arn,
                  blue_target_group_name=blue_target_group_name,
                  green_target_group_name=green_target_group_name,
                  rollback_alarm_names=rollback_alarm_names,
                  permissions_boundary=permissions_boundary)


def image_repository(environment: EnvironmentConfig) -> ImageRepositoryProps:
    releasing = environment.release_environments or (environment.name,)
    return _props(ImageRepositoryProps, environment, name=environment.names.repository or "",
                  release_tag_prefixes=tuple(f"{RELEASE_TAG_PREFIX}{name}-"
                                             for name in releasing))


def _lock_table_name(environment: EnvironmentConfig) -> str | None:
    state = environment.state
    return state.lock_table_name if state.lock_table else None


def state_bucket(environment: EnvironmentConfig) -> StateBucketProps:
    return _props(StateBucketProps, environment, bucket=environment.state.bucket,
                  lock_table_name=_lock_table_name(environment))


def s3_backend(environment: EnvironmentConfig, stack: str) -> S3BackendProps:
    """Where `stack` keeps its state: <env>/<stack>.tfstate in the environment's bucket."""
    state = environment.state
    return S3BackendProps(bucket=state.bucket, key=f"{environment.name}/{stack}.tfstate",
                          region=state.region, lock_table_name=_lock_table_name(environment))


def ci_policy(environment: EnvironmentConfig) -> CiPolicyProps:
    names = environment.names
    return CiPolicyProps(
        environment=environment.name, github_repository=environment.ci.github_repository,
        github_repository_ids=environment.ci.github_repository_ids,
        role_names=environment.ci_role_names, cluster=names.cluster,
        services=tuple(map(_ci_service, environment.each_service())),
        listener_rules=bool(routed_services(environment)),
        flow_logs_role=names.flow_logs_role, permissions_boundary=names.permissions_boundary,
        ci_read_policy=names.ci_read_policy, ci_write_policy=names.ci_write_policy,
        vpc_name=environment.network.vpc_name,
        vpc_endpoints=network(environment).vpc_endpoints,
        blue_green=environment.service.blue_green.enabled,
        docker_hub_cache=names.docker_hub_cache,
        lock_table_name=_lock_table_name(environment), state_region=environment.state.region,
        region=environment.region)


def _ci_service(environment: EnvironmentConfig) -> CiService:
    """What CI may touch of the focused service."""
    names, service = environment.names, environment.service
    source = environment.delivery.promote_from
    return CiService(
        key=environment.service_key, service=names.service,
        target_group_name_prefix=(target_group_name_prefix(service.name)
                                  if service.load_balanced else None),
        log_group=names.log_group, image_parameter=names.image_parameter,
        release_lock_parameter=names.release_lock_parameter, task_role=names.task_role,
        execution_role=names.execution_role,
        # (several services deploy rolling: config/schema.py)
        codedeploy_role=None if environment.several else names.codedeploy_role,
        task_role_managed_policies=fargate_service(environment).task_role_managed_policies,
        repository=names.repository, owns_repository=service.ecr_repository,
        release_task_family=names.release_task_family if service.release_command else None,
        # The same project and service (one repository): the source's version of record.
        promote_from_image_parameter=(dataclasses.replace(environment, name=source)
                                      .names.image_parameter if source else None))


def ci_access(environment: EnvironmentConfig, roles: Mapping[str, CiRole],
              policies: Mapping[str, tuple[str, list]]) -> CiAccessProps:
    return CiAccessProps(roles=roles, policies=policies, oidc_provider=environment.ci.oidc_provider,
                         max_session_seconds=CI_SESSION_SECONDS)


def check(environment: EnvironmentConfig) -> None:
    """Build every props object the environment's stacks would: FieldError for a bad value;
    with several services, also what they must not share."""
    network(environment)
    if environment.several:
        check_services(environment)
    load_balancer(environment)
    routed = {one.service_key for one in routed_services(environment)}
    for focused in environment.each_service():
        fargate_service(focused)
        service_monitoring(focused)
        if focused.service_key in routed:
            service_route(focused)
        image_repository(focused)
    blue_green(environment)
    state_bucket(environment)
    if environment.ci.enabled:
        try:
            check_quotas(ci_policy(environment))
        except PropError as error:  # too many services for IAM's quotas: the table says so
            raise FieldError("services", error.value, error.allowed) from None


def check_services(environment: EnvironmentConfig) -> None:
    """What several services may not share: the default route, a path or host, a rule's
    priority. One FieldError, at the later service's key."""
    default: str | None = None
    claimed: dict[tuple[str, str], str] = {}  # (host or "", path or "") -> service
    priorities: dict[int, str] = {}
    named: dict[str, str] = {environment.names.cluster: ""}  # AWS name -> its service
    for focused in environment.each_service():
        key, service = focused.service_key, focused.service
        where = f"services.{key}"
        names = focused.names
        for name in (names.service, names.release_task_family, names.task_role,
                     names.execution_role):
            if named.get(name, key) != key:
                raise FieldError(f"{where}.name", key, f"its name {name!r} is already "
                                 f"{named[name] or 'the cluster'}'s; rename one of them")
            named[name] = key
        routes = service.path_patterns or service.host_headers
        if not service.load_balanced:
            for field_name in ("path_patterns", "host_headers", "route_priority"):
                if getattr(service, field_name) is not None:
                    raise FieldError(f"{where}.{field_name}", getattr(service, field_name),
                                     "a worker (load_balanced = false) takes no requests; "
                                     "leave it out")
            continue
        if not routes:
            if default is not None:
                raise FieldError(f"{where}.path_patterns", None,
                                 f"both {default} and {key} would take every request (neither "
                                 "has path_patterns or host_headers); route one by path or host")
            default = key
            continue
        for host in service.host_headers or ("",):
            for path in service.path_patterns or ("",):
                other = claimed.get((host, path))
                if other is not None:
                    what = " on ".join(repr(part) for part in (path, host) if part)
                    raise FieldError(
                        f"{where}.{'path_patterns' if path else 'host_headers'}",
                        list((service.path_patterns if path else service.host_headers) or ()),
                        f"{what} is already {other}'s route; give each service its own")
                claimed[(host, path)] = key
        priority = service_route(focused).priority
        if priority in priorities:
            raise FieldError(f"{where}.route_priority", priority,
                             f"{priorities[priority]}'s rule has it too; rules need distinct "
                             "priorities")
        priorities[priority] = key
