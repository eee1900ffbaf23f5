"""IAM's size quotas, which moto does not check: all inline policies of a role together at most
10,240 characters, a managed policy (each version) 6,144, a role's trust policy 2,048 (none
counting whitespace), and at most 10 managed policies attached to a role (IAM User Guide, "IAM
and AWS STS quotas"). AWS refuses past them (LimitExceeded), so policies that grow with an
environment's services applied here and failed on AWS; the patch refuses as IAM does, before
anything changes."""

from __future__ import annotations

from typing import Any, Callable

from ops.emulator.patches import wrap

ROLE_POLICIES_QUOTA, POLICY_QUOTA, TRUST_POLICY_QUOTA, ATTACHED_POLICIES_QUOTA = \
    10240, 6144, 2048, 10


def size(document: str) -> int:
    """A policy document's size as IAM counts it: its characters other than whitespace."""
    return sum(not character.isspace() for character in document)


def enforce_quotas() -> None:
    from moto.iam.exceptions import LimitExceededException
    from moto.iam.models import IAMBackend

    def limit(quota: str, value: int) -> LimitExceededException:
        return LimitExceededException(f"Cannot exceed quota for {quota}: {value}")

    def put_role_policy(original: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, role_name: str, policy_name: str, policy_json: str) -> None:
            others = self.get_role(role_name).policies
            total = size(policy_json) + sum(size(document) for name, document in others.items()
                                            if name != policy_name)
            if total > ROLE_POLICIES_QUOTA:
                raise LimitExceededException(f"Maximum policy size of {ROLE_POLICIES_QUOTA} "
                                             f"bytes exceeded for role {role_name}")
            return original(self, role_name, policy_name, policy_json)
        return patched

    def create_policy(original: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, description: str, path: str, policy_document: str,
                    *args: Any, **kwargs: Any) -> Any:
            if size(policy_document) > POLICY_QUOTA:
                raise limit("PolicySize", POLICY_QUOTA)
            return original(self, description, path, policy_document, *args, **kwargs)
        return patched

    def create_policy_version(original: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, policy_arn: str, policy_document: str, *args: Any) -> Any:
            if size(policy_document) > POLICY_QUOTA:
                raise limit("PolicySize", POLICY_QUOTA)
            return original(self, policy_arn, policy_document, *args)
        return patched

    def attach_role_policy(original: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, policy_arn: str, role_name: str) -> None:
            attached = self.get_role(role_name).managed_policies
            if policy_arn not in attached and len(attached) >= ATTACHED_POLICIES_QUOTA:
                raise limit("PoliciesPerRole", ATTACHED_POLICIES_QUOTA)
            return original(self, policy_arn, role_name)
        return patched

    def trust_checked(original: Callable[..., Any], position: int) -> Callable[..., Any]:
        def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
            document = kwargs.get("assume_role_policy_document", kwargs.get("policy_document"))
            if document is None:
                document = args[position]
            if size(document) > TRUST_POLICY_QUOTA:
                raise limit("ACLSizePerRole", TRUST_POLICY_QUOTA)
            return original(self, *args, **kwargs)
        return patched

    # Terraform's aws_iam_role_policy, aws_iam_policy and aws_iam_role_policy_attachment (CI
    # access's policies, constructs_lib/ci_policies.py), and every role's trust policy.
    wrap(IAMBackend, "put_role_policy", put_role_policy)
    wrap(IAMBackend, "create_policy", create_policy)
    wrap(IAMBackend, "create_policy_version", create_policy_version)
    wrap(IAMBackend, "attach_role_policy", attach_role_policy)
    wrap(IAMBackend, "create_role", lambda original: trust_checked(original, 1))
    wrap(IAMBackend, "update_assume_role_policy", lambda original: trust_checked(original, 1))
