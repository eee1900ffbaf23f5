"""Terraform state: the bucket that holds it, and the S3 backend that uses it."""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack
from constructs import Construct
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable, DynamodbTableAttribute
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration, S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload as AbortMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration as NoncurrentVersionExpiration)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA

from .iam import policy_document
from .private_bucket import deny_insecure_transport, make_private
from .props.state import S3BackendProps, StateBucketProps

# Terraform refuses to destroy these: losing the state bucket loses track of every resource.
PROTECTED = {"prevent_destroy": True}


class StateBucket(Construct):
    """A versioned, encrypted, private S3 bucket that refuses plain HTTP, and optionally a
    DynamoDB lock table; both protected from `terraform destroy`."""

    def __init__(self, scope: Construct, id: str, props: StateBucketProps) -> None:
        super().__init__(scope, id)
        self.bucket = S3Bucket(self, "bucket", bucket=props.bucket, lifecycle=PROTECTED)
        S3BucketVersioningA(self, "versioning", bucket=self.bucket.id,
                            versioning_configuration={"status": "Enabled"})
        # The AWS managed key; the bucket key keeps KMS requests (and cost) low.
        private = make_private(self, self.bucket, sse_algorithm="aws:kms",
                               bucket_key_enabled=True)
        S3BucketPolicy(self, "deny_insecure_transport", bucket=self.bucket.id,
                       policy=policy_document([deny_insecure_transport(self.bucket)]),
                       depends_on=[private])
        S3BucketLifecycleConfiguration(self, "lifecycle", bucket=self.bucket.id, rule=[
            S3BucketLifecycleConfigurationRule(
                id="expire-old-state-versions", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[NoncurrentVersionExpiration(
                    noncurrent_days=props.noncurrent_version_expiration_days)],
                abort_incomplete_multipart_upload=[AbortMultipartUpload(
                    days_after_initiation=7)]),
        ])
        self.lock_table = None
        if props.lock_table_name:
            self.lock_table = DynamodbTable(
                self, "lock_table", name=props.lock_table_name, billing_mode="PAY_PER_REQUEST",
                hash_key="LockID", attribute=[DynamodbTableAttribute(name="LockID", type="S")],
                point_in_time_recovery={"enabled": True}, server_side_encryption={"enabled": True},
                deletion_protection_enabled=True, lifecycle=PROTECTED)


def use_s3_backend(stack: TerraformStack, props: S3BackendProps) -> S3Backend:
    """Keep `stack`'s state at s3://<bucket>/<key>, encrypted, locked with a lock file."""
    backend = S3Backend(stack, bucket=props.bucket, key=props.key, region=props.region,
                        encrypt=True, dynamodb_table=props.lock_table_name)
    # cdktf 0.21's S3Backend predates Terraform 1.10's S3-native locking.
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend
