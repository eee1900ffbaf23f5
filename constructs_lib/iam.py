"""IAM policy documents as plain dicts, dumped to JSON once."""

from __future__ import annotations

import json
from typing import Any, Iterable


def policy_document(statements: Iterable[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def assume_role_policy(service: str) -> str:
    """Trust policy letting an AWS service (e.g. ecs-tasks.amazonaws.com) assume the role."""
    return policy_document([{"Effect": "Allow", "Action": "sts:AssumeRole",
                             "Principal": {"Service": service}}])
