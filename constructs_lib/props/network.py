"""NetworkProps: the VPC's shape (constructs_lib/network.py builds it)."""

from __future__ import annotations

import enum
import ipaddress
import re
import string
from dataclasses import dataclass

from . import require, require_range, require_retention

_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")


class NatGateways(str, enum.Enum):
    """How many NAT gateways carry the private subnets' outbound traffic."""

    SINGLE = "single"  # one, in the first AZ: cheapest; other AZs cross AZs and share its fate
    ONE_PER_AZ = "one_per_az"  # one per AZ: each private subnet routes through its own AZ's NAT


@dataclass(frozen=True)
class NetworkProps:
    """One public and one private subnet per AZ, carved from `cidr` by mask."""

    vpc_name: str  # Name tag of the VPC, and the prefix of its resources' names
    availability_zones: tuple[str, ...]  # at least 2, all in the provider's region
    region: str  # the provider's region: the VPC endpoints' service names
    cidr: str = "10.0.0.0/16"  # @default "10.0.0.0/16": the VPC's IPv4 CIDR, /16 to /28
    subnet_prefix_length: int = 24  # @default 24: every subnet's mask
    # @default 3: public subnets take CIDR slots 0..N-1 and private subnets N..2N-1, by AZ
    # letter (a=0), so adding or removing an AZ never renumbers another AZ's subnets.
    max_availability_zones: int = 3
    nat_gateways: NatGateways = NatGateways.SINGLE  # @default SINGLE: one NAT in the first AZ
    flow_logs: bool = True  # @default True: VPC flow logs (all traffic) to CloudWatch Logs
    flow_logs_retention_days: int = 30  # @default 30: days the flow logs are kept
    # @default False. True: S3 gateway and ECR, CloudWatch Logs, STS and Secrets Manager
    # interface endpoints, so private tasks reach those services without NAT per-GB charges
    # (interface endpoints bill per hour).
    vpc_endpoints: bool = False
    permissions_boundary: str | None = None  # @default None: the flow logs role's boundary ARN

    def __post_init__(self) -> None:
        require(self.nat_gateways in [choice.value for choice in NatGateways], self, "nat_gateways",
                "one of " + ", ".join(repr(choice.value) for choice in NatGateways))
        object.__setattr__(self, "nat_gateways", NatGateways(self.nat_gateways))
        object.__setattr__(self, "availability_zones", tuple(self.availability_zones))
        require_retention(self, "flow_logs_retention_days")
        require(bool(_NAME.match(self.vpc_name)) and len(self.vpc_name) <= 64, self, "vpc_name",
                "lowercase letters, digits and '-', at most 64 characters")
        try:
            network = ipaddress.IPv4Network(self.cidr)
        except ValueError:
            require(False, self, "cidr",
                    "expected an IPv4 network with no host bits set, like 10.0.0.0/16")
        require(16 <= network.prefixlen <= 28, self, "cidr", "AWS allows VPC masks from /16 to /28")
        require(network.is_private, self, "cidr",
                "use a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)")
        require_range(self, "max_availability_zones", 2, 26)
        zones = self.availability_zones
        require(len(zones) >= 2, self, "availability_zones", "list at least 2 availability zones",
                list(zones))
        require(len(set(zones)) == len(zones), self, "availability_zones", "each AZ at most once",
                list(zones))
        for zone in zones:
            require(zone[-1:] in string.ascii_lowercase
                    and self._slot(zone) < self.max_availability_zones, self,
                    "availability_zones",
                    f"an AZ's letter must be one of the first max_availability_zones="
                    f"{self.max_availability_zones} letters (a-"
                    f"{string.ascii_lowercase[self.max_availability_zones - 1]})", zone)
        # 2 tiers x max_availability_zones subnets, each at most /28 (AWS's smallest subnet).
        subnets = 2 * self.max_availability_zones
        bits = (subnets - 1).bit_length()  # slots of a power of two that hold them all
        widest_vpc = 28 - bits
        require(network.prefixlen <= widest_vpc, self, "cidr",
                f"{subnets} subnets (2 tiers x max_availability_zones="
                f"{self.max_availability_zones}) of at least /28 do not fit in a "
                f"/{network.prefixlen}; use /{widest_vpc} or larger (e.g. "
                f"{network.supernet(new_prefix=min(widest_vpc, network.prefixlen))})")
        require(network.prefixlen + bits <= self.subnet_prefix_length <= 28, self,
                "subnet_prefix_length",
                f"must be between {network.prefixlen + bits} and 28: {subnets} subnets (2 tiers "
                f"x max_availability_zones={self.max_availability_zones}) fit in {self.cidr}")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    @staticmethod
    def _slot(zone: str) -> int:
        return string.ascii_lowercase.index(zone[-1])

    def _subnet(self, slot: int) -> str:
        step = 2 ** (32 - self.subnet_prefix_length)
        address = self.network.network_address + slot * step
        return str(ipaddress.IPv4Network((address, self.subnet_prefix_length)))

    def public_subnet_cidr(self, zone: str) -> str:
        return self._subnet(self._slot(zone))

    def private_subnet_cidr(self, zone: str) -> str:
        return self._subnet(self.max_availability_zones + self._slot(zone))

    def nat_zone_for(self, zone: str) -> str:
        """The AZ whose NAT gateway carries `zone`'s private subnet."""
        return zone if self.nat_gateways is NatGateways.ONE_PER_AZ else self.availability_zones[0]

    @property
    def nat_zones(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.nat_zone_for(zone) for zone in self.availability_zones))
