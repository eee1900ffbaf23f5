"""VPC flow logs: every accepted and rejected flow, to a CloudWatch log group."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy

from .iam import assume_role_policy, policy_document


class VpcFlowLogs(Construct):
    def __init__(self, scope: Construct, id: str, *, vpc_id: str, name: str,
                 retention_days: int, permissions_boundary: str | None = None) -> None:
        super().__init__(scope, id)
        self.log_group = CloudwatchLogGroup(self, "log_group", name=f"/vpc/{name}/flow-logs",
                                            retention_in_days=retention_days)
        account = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        region = DataAwsRegion(self, "region").name
        # Only flow logs of this account may assume the role (the confused deputy), as in AWS's
        # "IAM role for publishing flow logs to CloudWatch Logs" (VPC User Guide,
        # flow-logs-iam-role.html).
        role = IamRole(self, "role", name=f"{name}-flow-logs",
                       description="Lets VPC flow logs write to their log group",
                       assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com", {
                           "StringEquals": {"aws:SourceAccount": account},
                           "ArnLike": {"aws:SourceArn":
                                       f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"},
                       }),
                       permissions_boundary=permissions_boundary)
        IamRolePolicy(self, "role_policy", name="write-flow-logs", role=role.id,
                      policy=policy_document([{
                          "Effect": "Allow",
                          "Action": ["logs:CreateLogStream", "logs:PutLogEvents",
                                     "logs:DescribeLogStreams"],
                          "Resource": f"{self.log_group.arn}:*",
                      }]))
        self.flow_log = FlowLog(self, "flow_log", vpc_id=vpc_id, traffic_type="ALL",
                                log_destination_type="cloud-watch-logs",
                                log_destination=self.log_group.arn, iam_role_arn=role.arn,
                                max_aggregation_interval=60, tags={"Name": f"{name}-flow-logs"})
