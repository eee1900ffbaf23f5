"""Finds an existing network by tags, so the application deploys on its own after the network."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets, DataAwsSubnetsFilter
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc, DataAwsVpcFilter

from .network import PRIVATE, PUBLIC, TIER_TAG


class NetworkLookup(Construct):
    """The VPC named `vpc_name` and its public and private subnets (by the Tier tag).

    Like AWS CDK's `Vpc.fromLookup`, but resolved by Terraform at plan time, so the JSON holds no
    account-specific ids.
    """

    def __init__(self, scope: Construct, id: str, vpc_name: str) -> None:
        super().__init__(scope, id)
        self.vpc = DataAwsVpc(self, "vpc", filter=[DataAwsVpcFilter(name="tag:Name", values=[vpc_name])])
        self.public_subnet_ids = self._subnet_ids(PUBLIC)
        self.private_subnet_ids = self._subnet_ids(PRIVATE)

    def _subnet_ids(self, tier: str) -> list[str]:
        subnets = DataAwsSubnets(self, f"{tier}_subnets", filter=[
            DataAwsSubnetsFilter(name="vpc-id", values=[self.vpc.id]),
            DataAwsSubnetsFilter(name=f"tag:{TIER_TAG}", values=[tier]),
        ])
        return subnets.ids
