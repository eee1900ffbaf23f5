"""CiRole and CiAccessProps (constructs_lib/ci_access.py), and GitHub's OIDC issuer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import require, require_range

# GitHub Actions' OIDC issuer, and the audience aws-actions/configure-aws-credentials asks for.
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class CiRole:
    """One role GitHub Actions assumes."""

    name: str  # the IAM role's name
    subjects: list[str]  # the token `sub` values it trusts, e.g. repo:OWNER/REPO:pull_request
    statements: list[dict[str, Any]]  # its inline policy
    policies: tuple[str, ...] = ()  # @default (): keys of CiAccessProps.policies it attaches

    def __post_init__(self) -> None:
        require(len(self.name) <= 64, self, "name", "IAM allows at most 64 characters")
        require(bool(self.subjects), self, "subjects", "at least one subject")


@dataclass(frozen=True)
class CiAccessProps:
    roles: Mapping[str, CiRole]  # by kind (plan, deploy, image): the inline policy's name
    # @default {}: customer managed policies to create, by key: (name, statements)
    policies: Mapping[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    # @default "create": make the account's provider; "lookup": find it; or its ARN.
    oidc_provider: str = "create"
    # @default 3600 (IAM's default): how long the roles' credentials last, 1 to 12 hours
    max_session_seconds: int = 3600

    def __post_init__(self) -> None:
        require_range(self, "max_session_seconds", 3600, 43200)
        for kind, role in self.roles.items():
            missing = set(role.policies) - set(self.policies)
            require(not missing, self, "roles", f"role {kind} attaches unknown policies "
                    f"{sorted(missing)}; define them in policies", kind)
