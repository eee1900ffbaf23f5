"""GitHub Actions' access to AWS: the account's GitHub OIDC provider (created, looked up or
given), customer managed policies, and roles that GitHub tokens of exactly the given subjects may
assume. What each role may do for this project comes from constructs_lib/ci_policies.py."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import \
    DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

from .iam import policy_document
from .props.ci_access import (GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST,  # noqa: F401
                               CiAccessProps, CiRole)


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
                max_session_duration=props.max_session_seconds,
                description=f"GitHub Actions ({', '.join(definition.subjects)}): {kind}",
                assume_role_policy=trust_policy(self.provider_arn, definition.subjects))
            IamRolePolicy(self, f"{kind}_role_policy", name=kind, role=role.id,
                          policy=policy_document(definition.statements))
            for key in definition.policies:
                IamRolePolicyAttachment(self, f"{kind}_role_{key}", role=role.name,
                                        policy_arn=self.policies[key].arn)
