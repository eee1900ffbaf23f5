"""VPC endpoints, so tasks in private subnets reach AWS services without a NAT gateway."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

# What VpcEndpoints creates besides the free S3 gateway endpoint: what a Fargate task pulling
# from ECR, logging, assuming roles and reading secrets calls.
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager")


class VpcEndpoints(Construct):
    """An S3 gateway endpoint on the private route tables (ECR image layers live in S3, free of
    charge this way) and interface endpoints with private DNS in the private subnets."""

    def __init__(self, scope: Construct, id: str, *, name: str, region: str, vpc_id: str,
                 vpc_cidr: str, private_subnet_ids: list[str],
                 private_route_table_ids: list[str]) -> None:
        super().__init__(scope, id)
        VpcEndpoint(self, "s3", vpc_id=vpc_id, service_name=f"com.amazonaws.{region}.s3",
                    vpc_endpoint_type="Gateway", route_table_ids=private_route_table_ids,
                    tags={"Name": f"{name}-s3"})
        self.security_group = SecurityGroup(
            self, "security_group", name=f"{name}-endpoints", vpc_id=vpc_id,
            description=f"{name} interface endpoints: HTTPS from the VPC",
            tags={"Name": f"{name}-endpoints"})
        VpcSecurityGroupIngressRule(
            self, "https_from_vpc", security_group_id=self.security_group.id,
            description="HTTPS from the VPC", ip_protocol="tcp", from_port=443, to_port=443,
            cidr_ipv4=vpc_cidr)
        for service in INTERFACE_ENDPOINT_SERVICES:
            VpcEndpoint(self, service.replace(".", "_"), vpc_id=vpc_id,
                        service_name=f"com.amazonaws.{region}.{service}",
                        vpc_endpoint_type="Interface", private_dns_enabled=True,
                        subnet_ids=private_subnet_ids,
                        security_group_ids=[self.security_group.id],
                        tags={"Name": f"{name}-{service}"})
