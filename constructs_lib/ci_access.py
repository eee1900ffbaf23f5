"""GitHub Actions' access to AWS: the account's GitHub OIDC provider (created, looked up or
given), customer managed policies, and roles that GitHub tokens of exactly the given subjects may
assume. What each role may do for this project comes from constructs_lib/ci_policies.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import \
    DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

from config import CI_SESSION_SECONDS, GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from .iam import policy_document


@dataclass(frozen=True)
class CiRole:
    """One role GitHub Actions assumes."""

    name: str  # the IAM role's name
    subjects: list[str]  # the token `sub` values it trusts, e.g. repo:OWNER/REPO:pull_request
    statements: list[dict[str, Any]]  # its inline policy
    policies: tuple[str, ...] = ()  # @default (): keys of CiAccessProps.policies it attaches


@dataclass(frozen=True)
class CiAccessProps:
    roles: Mapping[str, CiRole]  # by kind (plan, deploy, image): the inline policy's name
    # @default {}: customer managed policies to create, by key: (name, statements)
    policies: Mapping[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    # @default "create": make the account's provider; "lookup": find it; or its ARN.
    oidc_provider: str = "create"


def trust_policy(provider_arn: str, subjects: list[str]) -> str:
    """AssumeRoleWithWebIdentity for GitHub tokens whose audience and subject are exactly these."""
    return policy_document([{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": provider_arn},
        "Condition": {"StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": subjects[0] if len(subjects) == 1 else subjects}},
    }])



class CiAccess(Construct):
    """The OIDC provider (or a reference to it) and the roles."""

    def __init__(self, scope: Construct, id: str, props: CiAccessProps) -> None:
        super().__init__(scope, id)
        url = f"https://{GITHUB_OIDC_HOST}"
        if props.oidc_provider == "create":
            self.provider_arn = IamOpenidConnectProvider(
                self, "github_oidc_provider", url=url, client_id_list=[GITHUB_OIDC_AUDIENCE]).arn
        elif props.oidc_provider == "lookup":
            self.provider_arn = DataAwsIamOpenidConnectProvider(
                self, "github_oidc_provider", url=url).arn
        else:
            self.provider_arn = props.oidc_provider
        self.policies = {key: IamPolicy(self, f"{key}_policy", name=name,
                                        policy=policy_document(statements))
                         for key, (name, statements) in props.policies.items()}
        self.roles: dict[str, IamRole] = {}
        for kind, definition in props.roles.items():
            role = self.roles[kind] = IamRole(
                self, f"{kind}_role", name=definition.name,
                max_session_duration=CI_SESSION_SECONDS,
                description=f"GitHub Actions ({', '.join(definition.subjects)}): {kind}",
                assume_role_policy=trust_policy(self.provider_arn, definition.subjects))
            IamRolePolicy(self, f"{kind}_role_policy", name=kind, role=role.id,
                          policy=policy_document(definition.statements))
            for key in definition.policies:
                IamRolePolicyAttachment(self, f"{kind}_role_{key}", role=role.name,
                                        policy_arn=self.policies[key].arn)
