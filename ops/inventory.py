"""What an environment's stacks declare, read from what is synthesized or planned, for the tools
that must agree with them (ops/cost.py, ops/diagram.py).

Two sources, one reading:

- `from_synthesized(stacks)`: the stacks' `cdk.tf.json` (ops/core/synthesized.py reads them),
  where a reference is still a `${aws_subnet.x.id}` string;
- `plan_sides(plans)`: each stack's `terraform show -json`, read like plan-based estimators
  (infracost) do: every `resource_changes[].change.before` is one side, every `.after` the
  other; a reference there is a known id, or, for what is still to be created, the plan's
  `configuration` says which resource the expression refers to.

`Inventory` holds only what the tools use (NAT gateways and their AZs, Elastic IPs, subnets,
load balancers and their access-log buckets, interface endpoints, alarms, the ECS services with
task size, scaling bounds, the ECR repositories they may pull from and what routes requests to
them, log groups, flow logs),
plus the resource types it does not price.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

from constructs_lib.json_document import decode
from ops.core import planned, synthesized

REFERENCE = re.compile(r"\$\{((?:data\.)?[\w-]+\.[\w-]+)(?:\.[\w\[\]\"-]+)*\}")

# Types with a line in ops/cost.py, and types AWS does not bill for by themselves (the rest is
# listed as "not priced").
PRICED = {"aws_nat_gateway", "aws_eip", "aws_lb", "aws_ecs_service", "aws_vpc_endpoint",
          "aws_cloudwatch_metric_alarm", "aws_cloudwatch_log_group", "aws_flow_log"}
FREE = {"aws_vpc", "aws_subnet", "aws_route", "aws_route_table", "aws_route_table_association",
        "aws_internet_gateway", "aws_default_security_group", "aws_security_group",
        "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
        "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment",
        "aws_ecs_cluster", "aws_ecs_task_definition", "aws_appautoscaling_target",
        "aws_appautoscaling_policy", "aws_lb_listener", "aws_lb_target_group",
        "aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy", "aws_s3_bucket_versioning", "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_server_side_encryption_configuration", "aws_sns_topic",
        "aws_sns_topic_policy", "aws_ssm_parameter", "aws_ecr_lifecycle_policy",
        "aws_codedeploy_app", "aws_codedeploy_deployment_group"}  # CodeDeploy to ECS is free



def total(attribute: str, items: str) -> property:
    """A property: the sum of `attribute` over the object's `items` (e.g. its services)."""
    return property(lambda self: sum(getattr(item, attribute) for item in getattr(self, items)))

@dataclass(frozen=True)
class Resource:
    stack: str
    address: str  # "aws_nat_gateway.network_nat_gateway_ap-south-1a", "data.aws_subnets.x"
    type: str
    values: dict


class Side:
    """One set of resources (synthesized, or one side of a plan) and how their references
    resolve."""

    def __init__(self, resources: Iterable[Resource],
                 configured: dict[tuple[str, str, str], list[str]] | None = None) -> None:
        self.resources = list(resources)
        self.configured = configured or {}  # (stack, address, attribute) -> referenced addresses
        self._by_address = {(r.stack, r.address): r for r in self.resources}
        self._by_id = {(r.stack, r.values["id"]): r for r in self.resources
                       if isinstance(r.values.get("id"), str)}

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_ and not r.address.startswith("data.")]

    def references(self, resource: Resource, attribute: str) -> list[Resource]:
        """The resources `resource.values[attribute]` refers to (by `${...}`, by id, or by the
        plan's configuration when the value is not known yet), in order."""
        value = resource.values.get(attribute)
        found: list[Resource] = []
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                continue
            addresses = REFERENCE.findall(item)
            for address in addresses:
                target = self._by_address.get((resource.stack, address))
                if target:
                    found.append(target)
            if not addresses and (resource.stack, item) in self._by_id:
                found.append(self._by_id[(resource.stack, item)])
        if not found:
            for address in self.configured.get((resource.stack, resource.address, attribute), []):
                target = self._by_address.get((resource.stack, address))
                if target and target not in found:
                    found.append(target)
        return found

    def reference(self, resource: Resource, attribute: str) -> Resource | None:
        found = self.references(resource, attribute)
        return found[0] if found else None

    def subnets_of(self, resource: Resource, attribute: str) -> list[Resource] | int:
        """The subnets a list attribute names: resolved where they are in this side (also across
        stacks, through an aws_subnets data source's tag filters), else just their count."""
        value = resource.values.get(attribute)
        referenced = self.references(resource, attribute)
        subnets = [r for r in referenced if r.type == "aws_subnet" and
                   not r.address.startswith("data.")]
        for source in (r for r in referenced if r.address.startswith("data.aws_subnets.")):
            subnets += self.matching_subnets(source)
        if subnets:
            return subnets
        return len(value) if isinstance(value, list) else 0

    def matching_subnets(self, source: Resource) -> list[Resource]:
        """The subnets of any stack whose tags match an aws_subnets data source's tag filters."""
        wanted = {f["name"][4:]: set(f["values"]) for f in source.values.get("filter", [])
                  if f.get("name", "").startswith("tag:")}
        return [s for s in self.of_type("aws_subnet")
                if wanted and all((s.values.get("tags") or {}).get(key) in values
                                  for key, values in wanted.items())]


@dataclass(frozen=True)
class Service:
    """An ECS service on Fargate, with its task size and how many tasks it runs."""

    name: str
    cpu: int  # cpu units, 1024 = 1 vCPU
    memory: int  # MiB
    min_tasks: int
    max_tasks: int
    deployment: str  # "ECS" (rolling) or "CODE_DEPLOY" (blue/green)
    cpu_target: float | None  # target tracking on CPU, percent
    images: tuple[str, ...]  # as the service starts (a version of record's first value)
    # SSM parameters its images are read from (the version of record releases change).
    image_parameters: tuple[str, ...]
    log_groups: tuple[str, ...]  # awslogs groups of its containers (names or references)
    container_port: int | None
    stack: str = ""
    # ECR repositories its execution role may pull from (names; a pull-through cache's "prefix/*"),
    # also one another environment's stack creates.
    repositories: tuple[str, ...] = ()
    cluster: str = ""  # its ECS cluster's name, where known
    target_group: str = ""  # the target group it registers with ("" for a worker)
    # What forwards requests to that target group: a listener rule's conditions ("/api/*",
    # "host app.example.com") or "default" (a listener's default action).
    routes: tuple[str, ...] = ()
    # Target tracking on an SQS queue's backlog per task: (queue name, messages per task).
    queue: tuple[str, float] | None = None

    @property
    def vcpu(self) -> float:
        return self.cpu / 1024

    @property
    def memory_gb(self) -> float:
        return self.memory / 1024

    @property
    def size(self) -> str:
        return f"{self.vcpu:g} vCPU / {self.memory_gb:g} GB per task"


@dataclass(frozen=True)
class LoadBalancer:
    name: str
    type: str  # "application" / "network"
    internal: bool
    zones: tuple[str, ...]  # AZs of its subnets, where known
    subnet_count: int
    listeners: tuple[str, ...]  # "HTTP :80", "HTTPS :443"
    # Where it writes access logs: (S3 bucket name, or its prefix + "*"; days kept, 0 = for ever).
    access_logs: tuple[str, int] | None = None


@dataclass(frozen=True)
class Inventory:
    region: str
    vpcs: tuple[tuple[str, str], ...] = ()  # (Name tag, CIDR)
    subnets: tuple[tuple[str, str, str], ...] = ()  # (AZ, tier tag, CIDR), in AZ order
    internet_gateways: int = 0
    nat_gateways: tuple[str, ...] = ()  # the AZ of each ("" when not known)
    eips: int = 0
    # Each private subnet's default route through a NAT gateway: (subnet AZ, NAT AZ).
    nat_routes: tuple[tuple[str, str], ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    interface_endpoints: tuple[tuple[str, int], ...] = ()  # (service name, subnets)
    gateway_endpoints: tuple[str, ...] = ()
    alarms: int = 0
    services: tuple[Service, ...] = ()
    log_groups: tuple[tuple[str, int], ...] = ()  # (name, retention days; 0 = never expires)
    # (destination type: "cloud-watch-logs" / "s3", the log group's name where known)
    flow_logs: tuple[tuple[str, str], ...] = ()
    ecr_repositories: tuple[str, ...] = ()
    not_priced: tuple[str, ...] = ()  # billable-looking types with no line in the estimate

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(sorted({zone for zone, _, _ in self.subnets}))

    min_tasks = total("min_tasks", "services")
    max_tasks = total("max_tasks", "services")

    @property
    def cross_az_routes(self) -> tuple[tuple[str, str], ...]:
        return tuple((a, b) for a, b in self.nat_routes if a and b and a != b)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _zone_of(side: Side, resource: Resource, attribute: str = "subnet_id") -> str:
    subnet = side.reference(resource, attribute)
    return (subnet.values.get("availability_zone") or "") if subnet else ""


def _containers(task: Resource | None) -> list[dict]:
    text = (task.values.get("container_definitions") if task else None) or "[]"
    if not isinstance(text, str):
        return list(text)
    try:  # synthesized: a jsonencode document; planned: the JSON string Terraform computed
        return decode(text) if text.startswith("${jsonencode(") else json.loads(text)
    except (ValueError, json.JSONDecodeError):
        return []


def _service(side: Side, service: Resource) -> Service:
    values = service.values
    tasks = side.of_type("aws_ecs_task_definition")
    task = side.reference(service, "task_definition") or (
        tasks[0] if len([t for t in tasks if t.stack == service.stack]) == 1 else None)
    name = values.get("name") or service.address.split(".")[1]
    targets = [t for t in side.of_type("aws_appautoscaling_target")
               if t.values.get("service_namespace") == "ecs" and t.stack == service.stack]
    target = next((t for t in targets if service in side.references(t, "resource_id")
                   or str(t.values.get("resource_id", "")).endswith(f"/{name}")),
                  targets[0] if len(targets) == 1 else None)
    desired = _int(values.get("desired_count"), 1)
    low = _int(target.values.get("min_capacity"), desired) if target else desired
    high = _int(target.values.get("max_capacity"), desired) if target else desired
    # Its own policies: those on its scaling target (several services share the stack): CPU,
    # and a worker's on a queue's backlog.
    policies = [p for p in side.of_type("aws_appautoscaling_policy") if p.stack == service.stack
                and p.values.get("policy_type") == "TargetTrackingScaling"]
    own = [p for p in policies if target and (
        target in side.references(p, "resource_id")
        or p.values.get("resource_id") == target.values.get("resource_id"))] or (
        policies if len(policies) == 1 else [])
    cpu_target, queue = None, None
    for policy in own:
        tracking = _first(policy.values.get("target_tracking_scaling_policy_configuration"))
        if tracking.get("target_value") is None:
            continue
        metric = _first(tracking.get("predefined_metric_specification"))
        if "CPU" in str(metric.get("predefined_metric_type", "")):
            cpu_target = float(tracking["target_value"])
        queue_name = _queue_name(_first(tracking.get("customized_metric_specification")))
        if queue_name:
            queue = (queue_name, float(tracking["target_value"]))
    controller = _first(values.get("deployment_controller"))
    containers = _containers(task)
    balancers = values.get("load_balancer") or []
    group = _referenced(side, service, (balancers[0] if balancers else {}).get("target_group_arn"),
                        "load_balancer.target_group_arn")
    cluster = side.reference(service, "cluster")
    return Service(
        name=name, cpu=_int(task.values.get("cpu")) if task else 0,
        memory=_int(task.values.get("memory")) if task else 0, min_tasks=low, max_tasks=high,
        deployment=controller.get("type") or "ECS", cpu_target=cpu_target, queue=queue,
        images=tuple(_parameter(side, service.stack, c.get("image", ""))[0] for c in containers),
        image_parameters=tuple(name for c in containers
                               for name in [_parameter(side, service.stack, c.get("image", ""))[1]]
                               if name),
        log_groups=tuple(_log_group_name(side, service.stack, (
            (c.get("logConfiguration") or {}).get("options") or {}).get("awslogs-group", ""))
            for c in containers
            if (c.get("logConfiguration") or {}).get("logDriver") == "awslogs"),
        container_port=_int(balancers[0].get("container_port")) if balancers else None,
        stack=service.stack, repositories=_pulled_repositories(side, task),
        cluster=(cluster.values.get("name") or "") if cluster else "",
        target_group=_name(group) if group else "",
        routes=_routes(side, group) if group else ())


def _queue_name(customized: dict) -> str | None:
    """The SQS queue a customized metric (or its metric math) reads, if any."""
    metrics = [_first(_first(one.get("metric_stat")).get("metric"))
               for one in customized.get("metrics") or []] or [customized]
    for metric in metrics:
        if metric.get("namespace") == "AWS/SQS":
            return next((d.get("value") for d in metric.get("dimensions") or []
                         if d.get("name") == "QueueName"), None)
    return None


def _name(resource: Resource) -> str:
    """A resource's name, its Name tag, or its name prefix + "*"."""
    values = resource.values
    return values.get("name") or (values.get("tags") or {}).get("Name") or \
        f"{values.get('name_prefix') or resource.address.split('.')[1]}*"


def _routes(side: Side, group: Resource) -> tuple[str, ...]:
    """What forwards to target group `group`: each listener rule's conditions, "default" for a
    listener's default action."""
    found = []
    for kind, block in (("aws_lb_listener", "default_action"), ("aws_lb_listener_rule", "action")):
        for resource in side.of_type(kind):
            if resource.stack != group.stack or not any(
                    _referenced(side, resource, action.get("target_group_arn"),
                                f"{block}.target_group_arn") == group
                    for action in resource.values.get(block) or []):
                continue
            if kind == "aws_lb_listener":
                found.append("default")
                continue
            for condition in resource.values.get("condition") or []:
                found += _first(condition.get("path_pattern")).get("values") or []
                found += [f"host {host}" for host in
                          _first(condition.get("host_header")).get("values") or []]
    return tuple(dict.fromkeys(found))


def _referenced(side: Side, resource: Resource, value: Any, attribute: str) -> Resource | None:
    """The resource a nested block's `value` refers to: by `${...}`, by id (planned), or by the
    plan's configuration of `attribute` ("block.attribute") while it is not known yet."""
    value = str(value or "")
    return next((side._by_address.get((resource.stack, address))
                 for address in REFERENCE.findall(value)), None) or \
        (value and side._by_id.get((resource.stack, value))) or next(
            (side._by_address.get((resource.stack, address)) for address in side.configured.get(
                (resource.stack, resource.address, attribute), [])), None)


def _parameter(side: Side, stack: str, value: str) -> tuple[str, str]:
    """(value, SSM parameter name) when `value` refers to an SSM parameter's value by `${...}`
    (its value in the plan or, synthesized, the one Terraform creates it with), else
    (value, "")."""
    for address in REFERENCE.findall(value):
        parameter = side._by_address.get((stack, address))
        if parameter is not None and parameter.type == "aws_ssm_parameter":
            values = parameter.values
            return (values.get("insecure_value") or values.get("value") or value,
                    values.get("name") or address)
    return value, ""


def _log_group_name(side: Side, stack: str, value: str) -> str:
    """A log group's name, also when the task definition refers to it by `${...}`."""
    for address in REFERENCE.findall(value):
        group = side._by_address.get((stack, address))
        if group:
            return group.values.get("name") or value
    return value


def _destination(side: Side, flow_log: Resource) -> str:
    target = side.reference(flow_log, "log_destination")
    return (target.values.get("name") or "") if target else ""


def _first(value: Any) -> dict:
    """A nested block: a dict when synthesized, a list of one in a plan."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _access_logs(side: Side, balancer: Resource) -> tuple[str, int] | None:
    block = _first(balancer.values.get("access_logs"))
    if not block.get("enabled"):
        return None
    value = str(block.get("bucket") or "")  # planned: unknown until the bucket exists
    bucket = _referenced(side, balancer, value, "access_logs.bucket")
    if bucket is None:
        return (value, 0) if value else None
    name = bucket.values.get("bucket") or f"{bucket.values.get('bucket_prefix') or ''}*"
    days = 0
    for lifecycle in side.of_type("aws_s3_bucket_lifecycle_configuration"):
        if lifecycle.stack == bucket.stack and bucket in side.references(lifecycle, "bucket"):
            days = next((_int(_first(rule.get("expiration")).get("days"))
                         for rule in lifecycle.values.get("rule") or []
                         if rule.get("status") == "Enabled" and rule.get("expiration")), 0)
    return name, days


_REPOSITORY_ARN = re.compile(r":ecr:[^:]*:[^:]*:repository/(.+)$")


def _pulled_repositories(side: Side, task: Resource | None) -> tuple[str, ...]:
    """The ECR repositories the task's execution role may pull images from, by its inline
    policies (an ARN built from a name, also one another stack creates)."""
    role = side.reference(task, "execution_role_arn") if task else None
    found: list[str] = []
    for policy in side.of_type("aws_iam_role_policy"):
        if role is None or role not in side.references(policy, "role"):
            continue
        text = policy.values.get("policy") or "{}"
        try:
            document = decode(text) if text.startswith("${jsonencode(") else json.loads(text)
        except (ValueError, json.JSONDecodeError):
            continue
        statements = document.get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action") or []
            if statement.get("Effect") != "Allow" or "ecr:BatchGetImage" not in (
                    [actions] if isinstance(actions, str) else actions):
                continue
            resources = statement.get("Resource") or []
            for arn in [resources] if isinstance(resources, str) else resources:
                match = _REPOSITORY_ARN.search(arn)
                if match and match.group(1) not in found:
                    found.append(match.group(1))
    return tuple(found)


def _listeners(side: Side, balancer: Resource) -> tuple[str, ...]:
    return tuple(f"{l.values.get('protocol') or 'HTTP'} :{l.values.get('port')}"
                 for l in side.of_type("aws_lb_listener")
                 if balancer in side.references(l, "load_balancer_arn"))


def inventory(side: Side, region: str) -> Inventory:
    """What `side` declares, as the tools use it."""
    of = side.of_type
    nat_zone = {(n.stack, n.address): _zone_of(side, n) for n in of("aws_nat_gateway")}
    routes = []
    for route in of("aws_route"):
        nat = side.reference(route, "nat_gateway_id")
        table = side.reference(route, "route_table_id")
        if not nat or nat.type != "aws_nat_gateway":
            continue
        for association in of("aws_route_table_association"):
            if table and side.reference(association, "route_table_id") == table:
                routes.append((_zone_of(side, association), nat_zone[(nat.stack, nat.address)]))
    balancers = []
    for lb in of("aws_lb"):
        subnets = side.subnets_of(lb, "subnets")
        zones = tuple(sorted({s.values.get("availability_zone", "") for s in subnets})) \
            if isinstance(subnets, list) else ()
        count = len(subnets) if isinstance(subnets, list) else subnets
        balancers.append(LoadBalancer(
            lb.values.get("name") or lb.address.split(".")[1],
            lb.values.get("load_balancer_type") or "application", bool(lb.values.get("internal")),
            zones, count, _listeners(side, lb), _access_logs(side, lb)))
    interface, gateway = [], []
    for endpoint in of("aws_vpc_endpoint"):
        service = str(endpoint.values.get("service_name", "")).split(".", 3)[-1]
        if endpoint.values.get("vpc_endpoint_type") == "Interface":
            subnets = side.subnets_of(endpoint, "subnet_ids")
            interface.append((service, len(subnets) if isinstance(subnets, list) else subnets))
        else:
            gateway.append(service)
    subnets = sorted(((s.values.get("availability_zone") or "", (s.values.get("tags") or {})
                       .get("Tier", ""), s.values.get("cidr_block") or "")
                      for s in of("aws_subnet")), key=lambda s: (s[0], s[1] != "public", s[2]))
    types = Counter(r.type for r in side.resources if not r.address.startswith("data."))
    return Inventory(
        region=region,
        vpcs=tuple(((v.values.get("tags") or {}).get("Name", ""), v.values.get("cidr_block", ""))
                   for v in of("aws_vpc")),
        subnets=tuple(subnets),
        internet_gateways=types["aws_internet_gateway"],
        nat_gateways=tuple(sorted(nat_zone.values())),
        eips=types["aws_eip"],
        nat_routes=tuple(sorted(routes)),
        load_balancers=tuple(balancers),
        interface_endpoints=tuple(sorted(interface)),
        gateway_endpoints=tuple(sorted(gateway)),
        alarms=types["aws_cloudwatch_metric_alarm"],
        services=tuple(_service(side, s) for s in of("aws_ecs_service")),
        log_groups=tuple(sorted((g.values.get("name") or g.address.split(".")[1],
                                 _int(g.values.get("retention_in_days")))
                                for g in of("aws_cloudwatch_log_group"))),
        flow_logs=tuple(sorted((f.values.get("log_destination_type") or "cloud-watch-logs",
                                _destination(side, f)) for f in of("aws_flow_log"))),
        ecr_repositories=tuple(sorted(r.values.get("name", "") for r in of("aws_ecr_repository"))),
        not_priced=tuple(sorted(t for t in types if t not in PRICED | FREE)),
    )


# ---------------------------------------------------------------------------------------------
# Reading synthesized stacks and plans.


def synthesized_side(stacks: dict[str, dict]) -> Side:
    return Side([Resource(stack, f"{prefix}{type_}.{name}", type_, values)
                 for stack, document in stacks.items()
                 for prefix, section in (("", "resource"), ("data.", "data"))
                 for type_, name, values in synthesized.blocks(document, section)])


def from_synthesized(stacks: dict[str, dict], region: str = "") -> Inventory:
    """The inventory of synthesized stacks (stack name -> parsed cdk.tf.json)."""
    region = region or next((r for r in map(synthesized.region, stacks.values()) if r), "")
    return inventory(synthesized_side(stacks), region)


def _configured(stack: str, plan: dict) -> dict[tuple[str, str, str], list[str]]:
    """(stack, address, attribute) -> the addresses its configured expression refers to."""
    refs = {}
    for resource in plan.get("configuration", {}).get("root_module", {}).get("resources", []):
        expressions = dict(resource.get("expressions") or {})
        for attribute, expression in list(expressions.items()):  # a block's: "block.attribute"
            if isinstance(expression, list) and expression and isinstance(expression[0], dict):
                expressions.update((f"{attribute}.{name}", inner)
                                   for name, inner in expression[0].items())
        for attribute, expression in expressions.items():
            if isinstance(expression, dict) and expression.get("references"):
                addresses = []
                for ref in expression["references"]:
                    parts = ref.split(".")
                    address = ".".join(parts[:3] if parts[0] == "data" else parts[:2])
                    if address not in addresses:
                        addresses.append(address)
                refs[(stack, resource["address"], attribute)] = addresses
    return refs


def plan_sides(plans: dict[str, dict]) -> tuple[Side, Side]:
    """(before, after) of plans (stack name -> `terraform show -json` output, parsed). Data
    sources come from the prior state (read while planning) on both sides."""
    before, after, configured = [], [], {}
    for stack, plan in plans.items():
        configured.update(_configured(stack, plan))
        for change in planned.resource_changes(plan):
            if change.get("mode", "managed") != "managed":
                continue
            for side, values in ((before, change["change"].get("before")),
                                 (after, change["change"].get("after"))):
                if values is not None:
                    side.append(Resource(stack, change["address"], change["type"], values))
        state = plan.get("prior_state", {}).get("values", {}).get("root_module", {})
        for resource in state.get("resources", []):
            if resource.get("mode") == "data":
                data = Resource(stack, resource["address"], resource["type"],
                                resource.get("values") or {})
                before.append(data)
                after.append(data)
    return Side(before), Side(after, configured)


def merge(*parts: Side) -> Side:
    """One side made of several (e.g. the plans of some stacks and the synthesized JSON of a
    stack not planned yet)."""
    configured = {}
    for part in parts:
        configured.update(part.configured)
    return Side([r for part in parts for r in part.resources], configured)
