"""What every bucket of this project has: encryption at rest, no public access, no ACLs, and a
policy that refuses plain HTTP. Functions, not a construct, so each bucket's resources keep
their Terraform addresses (<bucket construct>_encryption, ..._public_access_block, ...)."""

from __future__ import annotations

from typing import Any

from constructs import Construct
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA)


def make_private(scope: Construct, bucket: S3Bucket, *, sse_algorithm: str,
                 bucket_key_enabled: bool | None = None) -> S3BucketPublicAccessBlock:
    """Encrypt `bucket` by default (`aws:kms` with the AWS managed key, or `AES256`), block all
    public access and disable ACLs (the bucket owner owns every object). Returns the public
    access block: the bucket's policy must depend on it, as S3 answers 409 OperationAborted to
    a policy and a public access block written to one bucket at once (terraform-provider-aws
    #7628)."""
    S3BucketServerSideEncryptionConfigurationA(
        scope, "encryption", bucket=bucket.id,
        rule=[S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default={"sse_algorithm": sse_algorithm},
            bucket_key_enabled=bucket_key_enabled)])
    public_access_block = S3BucketPublicAccessBlock(
        scope, "public_access_block", bucket=bucket.id, block_public_acls=True,
        block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
    S3BucketOwnershipControls(scope, "ownership", bucket=bucket.id,
                              rule={"object_ownership": "BucketOwnerEnforced"})
    return public_access_block


def deny_insecure_transport(bucket: S3Bucket) -> dict[str, Any]:
    """The bucket policy statement that refuses every request not made over TLS."""
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": [bucket.arn, f"{bucket.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
