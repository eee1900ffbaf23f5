"""network-<env>: the VPC, found by the app stack by its Name tag."""

from __future__ import annotations

from constructs import Construct

from config import EnvironmentConfig
from constructs_lib.network import Network

from . import props
from .base import EnvironmentStack


class NetworkStack(EnvironmentStack):
    kind = "network"

    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig) -> None:
        super().__init__(scope, id, environment)
        network = Network(self, "network", props.network(
            environment, permissions_boundary=self.permissions_boundary()))
        self.output("vpc_id", network.vpc.id)
        self.output("vpc_cidr", network.vpc.cidr_block)
        self.output("public_subnet_ids",
                    [subnet.id for subnet in network.public_subnets.values()])
        self.output("private_subnet_ids",
                    [subnet.id for subnet in network.private_subnets.values()])
        self.output("nat_gateway_public_ips",
                    [nat.public_ip for nat in network.nat_gateways.values()])
