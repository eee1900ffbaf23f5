"""The network: a VPC with one public and one private subnet per AZ, and the routes out."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc

from .props.network import NatGateways, NetworkProps  # noqa: F401 (the construct's props)
from .flow_logs import VpcFlowLogs
from .vpc_endpoints import VpcEndpoints

# The tag the application stack selects subnets by (like AWS CDK's aws-cdk:subnet-type).
TIER_TAG = "Tier"
PUBLIC, PRIVATE = "public", "private"
ANYWHERE = "0.0.0.0/0"


class Network(Construct):
    """VPC, subnets, internet gateway, NAT gateway(s) with Elastic IPs, and route tables.

    Every per-AZ resource is keyed by its AZ's name, and subnet CIDRs by the AZ's letter, so
    removing an AZ from the config destroys that AZ's resources and replaces nothing else.
    """

    def __init__(self, scope: Construct, id: str, props: NetworkProps) -> None:
        super().__init__(scope, id)
        self.props = config = props
        self.vpc = Vpc(self, "vpc", cidr_block=config.cidr, enable_dns_support=True,
                       enable_dns_hostnames=True, tags={"Name": config.vpc_name})
        # Managed with no rules: nothing can use the default group by accident.
        DefaultSecurityGroup(self, "default_security_group", vpc_id=self.vpc.id,
                             tags={"Name": f"{config.vpc_name}-default-unused"})
        self.internet_gateway = InternetGateway(self, "internet_gateway", vpc_id=self.vpc.id,
                                                tags={"Name": config.vpc_name})
        self.public_subnets: dict[str, Subnet] = {}
        self.private_subnets: dict[str, Subnet] = {}
        self.private_route_tables: dict[str, RouteTable] = {}
        self.nat_gateways: dict[str, NatGateway] = {}

        for zone in config.availability_zones:
            subnet = self._subnet(PUBLIC, zone, config.public_subnet_cidr(zone))
            self._route_out(PUBLIC, zone, subnet, gateway_id=self.internet_gateway.id)
            self.public_subnets[zone] = subnet

        for zone in config.nat_zones:
            eip = Eip(self, f"nat_eip_{zone}", domain="vpc", depends_on=[self.internet_gateway],
                      tags={"Name": f"{config.vpc_name}-nat-{zone}"})
            self.nat_gateways[zone] = NatGateway(
                self, f"nat_gateway_{zone}", allocation_id=eip.id,
                subnet_id=self.public_subnets[zone].id, depends_on=[self.internet_gateway],
                tags={"Name": f"{config.vpc_name}-{zone}"})

        for zone in config.availability_zones:
            subnet = self._subnet(PRIVATE, zone, config.private_subnet_cidr(zone))
            nat = self.nat_gateways[config.nat_zone_for(zone)]
            self.private_route_tables[zone] = self._route_out(PRIVATE, zone, subnet,
                                                              nat_gateway_id=nat.id)
            self.private_subnets[zone] = subnet

        if config.flow_logs:
            VpcFlowLogs(self, "flow_logs", vpc_id=self.vpc.id, name=config.vpc_name,
                        retention_days=config.flow_logs_retention_days,
                        permissions_boundary=config.permissions_boundary)
        if config.vpc_endpoints:
            VpcEndpoints(self, "endpoints", name=config.vpc_name, region=config.region,
                         vpc_id=self.vpc.id, vpc_cidr=config.cidr,
                         private_subnet_ids=[s.id for s in self.private_subnets.values()],
                         private_route_table_ids=[t.id for t in
                                                  self.private_route_tables.values()])

    def _subnet(self, tier: str, zone: str, cidr: str) -> Subnet:
        return Subnet(self, f"{tier}_subnet_{zone}", vpc_id=self.vpc.id, cidr_block=cidr,
                      availability_zone=zone, map_public_ip_on_launch=False,
                      tags={"Name": f"{self.props.vpc_name}-{tier}-{zone}", TIER_TAG: tier})

    def _route_out(self, tier: str, zone: str, subnet: Subnet, **target: str) -> RouteTable:
        table = RouteTable(self, f"{tier}_route_table_{zone}", vpc_id=self.vpc.id,
                           tags={"Name": f"{self.props.vpc_name}-{tier}-{zone}"})
        RouteTableAssociation(self, f"{tier}_route_table_association_{zone}",
                              route_table_id=table.id, subnet_id=subnet.id)
        Route(self, f"{tier}_default_route_{zone}", route_table_id=table.id,
              destination_cidr_block=ANYWHERE, **target)
        return table
