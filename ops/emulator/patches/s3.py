"""S3 bucket policies: moto takes conditions it cannot evaluate (Bool) as met, so the state
bucket's "deny if aws:SecureTransport is false" denied every object request, the S3 backend's
included (403). The patch answers as AWS's HTTPS endpoints would: such statements do not
apply.

Versions in a bucket whose versioning is suspended: deleting one where the key also has delete
markers made moto call `dispose()` on each, which its delete markers lack (AttributeError, a
500), so DeleteObjects with version IDs failed. Terraform suspends versioning (destroying
aws_s3_bucket_versioning) before it empties a force_destroy bucket, so the state bucket's
teardown (docs/going-to-aws.md) retried for ever. The patch gives delete markers AWS's answer:
there is nothing of theirs to release."""

from __future__ import annotations

import json
from typing import Any

from ops.emulator import EmulatorError


def applies_over_tls(statement: dict[str, Any]) -> bool:
    """False for a policy statement that only applies to plain-HTTP requests (a Bool/BoolIfExists
    condition on aws:SecureTransport that excludes "true")."""
    for operator, values in (statement.get("Condition") or {}).items():
        for key, expected in values.items():
            if operator.lower().startswith("bool") and key.lower() == "aws:securetransport":
                expected = expected if isinstance(expected, list) else [expected]
                if "true" not in [str(value).lower() for value in expected]:
                    return False
    return True


def treat_requests_as_tls_in_bucket_policies() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action: str, resource: str) -> PermissionResult:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy["Statement"] if isinstance(policy["Statement"], list) \
            else [policy["Statement"]]
        policy["Statement"] = [statement for statement in statements
                               if applies_over_tls(statement)]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    # S3 backend (HeadObject/GetObject/PutObject of the state and its lock file) on a bucket whose
    # policy denies aws:SecureTransport=false: moto ignores Bool conditions, so the Deny matched
    # every request (403). The emulator stands in for AWS's HTTPS endpoints: those statements
    # never apply.
    FakeBucket.get_permission = get_permission


def dispose_delete_markers() -> None:
    from moto.s3.models import FakeDeleteMarker

    if hasattr(FakeDeleteMarker, "dispose"):
        raise EmulatorError("moto.s3.models.FakeDeleteMarker has dispose() now: remove "
                            "dispose_delete_markers from ops/emulator/patches/s3.py")

    # aws_s3_bucket force_destroy after aws_s3_bucket_versioning's destroy (Suspended):
    # DeleteObjects of each version and delete marker (moto's _VersionedKeyStore.pop disposes
    # every version of the key, delete markers included).
    FakeDeleteMarker.dispose = lambda self, garbage=False: None
