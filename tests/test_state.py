"""constructs_lib/state.py: the state bucket stack and the S3 backend of every other stack."""

from cdktf import Testing
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration)
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA

from helpers import document, ref, synth_variant
from stacks.props import state_bucket

BUCKET = ref("aws_s3_bucket", "state_bucket")


def state_json(synthesized, env) -> str:
    return synthesized.json[f"state-{env.name}"]


def test_every_stack_keeps_state_in_s3_with_locking(synthesized, env):
    for kind in ("state", "network", "app"):
        stack = f"{kind}-{env.name}"
        backend = synthesized.parsed(stack)["terraform"]["backend"]
        assert backend == {"s3": {
            "bucket": env.state.bucket, "key": f"{env.name}/{stack}.tfstate",
            "region": env.region, "encrypt": True, "use_lockfile": True,
        }}


def test_state_bucket_is_protected_from_destroy(synthesized, env):
    assert Testing.to_have_resource_with_properties(state_json(synthesized, env), S3Bucket.TF_RESOURCE_TYPE, {
        "bucket": env.state.bucket, "lifecycle": {"prevent_destroy": True},
    })
    (bucket,) = synthesized.resources(f"state-{env.name}", "aws_s3_bucket").values()
    assert not bucket.get("force_destroy")


def test_state_bucket_is_versioned_encrypted_and_private(synthesized, env):
    stack = state_json(synthesized, env)
    assert Testing.to_have_resource_with_properties(stack, S3BucketVersioningA.TF_RESOURCE_TYPE, {
        "bucket": BUCKET, "versioning_configuration": {"status": "Enabled"}})
    assert Testing.to_have_resource_with_properties(
        stack, S3BucketServerSideEncryptionConfigurationA.TF_RESOURCE_TYPE, {
            "bucket": BUCKET, "rule": [{
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                "bucket_key_enabled": True}]})
    assert Testing.to_have_resource_with_properties(stack, S3BucketPublicAccessBlock.TF_RESOURCE_TYPE, {
        "bucket": BUCKET, "block_public_acls": True, "block_public_policy": True,
        "ignore_public_acls": True, "restrict_public_buckets": True})


def test_state_bucket_refuses_plain_http(synthesized, env):
    (policy,) = synthesized.resources(f"state-{env.name}", "aws_s3_bucket_policy").values()
    (statement,) = document(policy["policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [ref("aws_s3_bucket", "state_bucket", "arn"),
                                     ref("aws_s3_bucket", "state_bucket", "arn") + "/*"]


def test_state_bucket_policy_waits_for_the_public_access_block(synthesized, env):
    # Written together, S3 can refuse one with 409 OperationAborted.
    (policy,) = synthesized.resources(f"state-{env.name}", "aws_s3_bucket_policy").values()
    assert policy["depends_on"] == ["aws_s3_bucket_public_access_block.state_public_access_block"]


def test_old_state_versions_expire_after_the_configured_days(synthesized, env):
    assert Testing.to_have_resource_with_properties(
        state_json(synthesized, env), S3BucketLifecycleConfiguration.TF_RESOURCE_TYPE, {
            "bucket": BUCKET, "rule": [{
                "status": "Enabled",
                "noncurrent_version_expiration": [{
                    "noncurrent_days": state_bucket(env).noncurrent_version_expiration_days}],
            }]})


def test_lock_table_is_off_by_default(synthesized, env):
    assert "aws_dynamodb_table" not in synthesized.parsed(f"state-{env.name}")["resource"]
    assert "dynamodb_table" not in synthesized.parsed(f"network-{env.name}")["terraform"][
        "backend"]["s3"]


def test_lock_table_when_asked_for(environments):
    import dataclasses

    uat = environments["uat"]
    with_table = dataclasses.replace(uat, state=dataclasses.replace(uat.state, lock_table=True))
    stacks = synth_variant(with_table)
    state = stacks["state-uat"]
    (table,) = state["resource"]["aws_dynamodb_table"].values()
    assert (table["name"], table["hash_key"], table["billing_mode"]) == (
        "hello-world-uat-tfstate-lock", "LockID", "PAY_PER_REQUEST")
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["lifecycle"] == {"prevent_destroy": True}
    backend = stacks["network-uat"]["terraform"]["backend"]["s3"]
    assert backend["dynamodb_table"] == "hello-world-uat-tfstate-lock"
    assert backend["use_lockfile"] is True
