"""An encrypted, private S3 bucket that an Application Load Balancer may write access logs to."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration, S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration, S3BucketLifecycleConfigurationRuleFilter)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy

from .iam import policy_document
from .private_bucket import deny_insecure_transport, make_private
from .props.load_balancer import access_log_bucket_prefix

RETENTION_DAYS = 90


class AccessLogBucket(Construct):
    def __init__(self, scope: Construct, id: str, *, name: str) -> None:
        super().__init__(scope, id)
        account = DataAwsCallerIdentity(self, "account").account_id
        elb_account = DataAwsElbServiceAccount(self, "elb_account").arn
        self.bucket = S3Bucket(self, "bucket", bucket_prefix=access_log_bucket_prefix(name))
        # ALB log delivery supports SSE-S3 only, not KMS keys.
        private = make_private(self, self.bucket, sse_algorithm="AES256")
        S3BucketLifecycleConfiguration(self, "lifecycle", bucket=self.bucket.id, rule=[
            S3BucketLifecycleConfigurationRule(
                id="expire-access-logs", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(
                    days=RETENTION_DAYS)])])
        logs = f"{self.bucket.arn}/AWSLogs/{account}/*"
        self.policy = S3BucketPolicy(self, "policy", bucket=self.bucket.id,
                                     policy=policy_document([
            # Regions opened before August 2022 deliver as the regional ELB account...
            {"Sid": "ElbAccountDelivers", "Effect": "Allow", "Action": "s3:PutObject",
             "Principal": {"AWS": elb_account}, "Resource": logs},
            # ...newer regions as the log delivery service.
            {"Sid": "LogDeliveryDelivers", "Effect": "Allow", "Action": "s3:PutObject",
             "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
             "Resource": logs},
            deny_insecure_transport(self.bucket),
        ]), depends_on=[private])
