"""IAM policy documents from plain dicts (statements may hold references), as `jsonencode`
expressions (constructs_lib/json_document.py) that the HCL export keeps."""

from __future__ import annotations

from typing import Any, Iterable

from .json_document import json_document


def policy_document(statements: Iterable[dict[str, Any]]) -> str:
    return json_document({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str, condition: dict[str, Any] | None = None) -> str:
    """Trust policy letting an AWS service (e.g. ecs-tasks.amazonaws.com) assume the role, on
    `condition` if given (aws:SourceAccount / aws:SourceArn against the confused deputy)."""
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}
    if condition:
        statement["Condition"] = condition
    return policy_document([statement])
