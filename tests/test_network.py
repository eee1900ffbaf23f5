"""constructs_lib/network.py, through the synthesized network-<env> stacks (the settings they
use: NetworkProps as stacks/props.py maps the config onto them)."""

import dataclasses
import json

import pytest
from cdktf import Testing, TerraformStack
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc

from constructs_lib.network import NatGateways, Network, NetworkProps
from helpers import document, ref
from stacks.props import network as network_props


def network_json(synthesized, env) -> str:
    return synthesized.json[f"network-{env.name}"]


def test_vpc_has_cidr_dns_and_name(synthesized, env):
    assert Testing.to_have_resource_with_properties(network_json(synthesized, env), Vpc.TF_RESOURCE_TYPE, {
        "cidr_block": network_props(env).cidr,
        "enable_dns_support": True,
        "enable_dns_hostnames": True,
        "tags": {"Name": network_props(env).vpc_name},
    })


def test_vpc_is_ipv4_only(synthesized, env):
    (vpc,) = synthesized.resources(f"network-{env.name}", "aws_vpc").values()
    assert not any("ipv6" in key for key in vpc)
    for subnet in synthesized.resources(f"network-{env.name}", "aws_subnet").values():
        assert not any("ipv6" in key for key in subnet)


def test_internet_gateway_is_attached_to_the_vpc(synthesized, env):
    assert Testing.to_have_resource_with_properties(
        network_json(synthesized, env), InternetGateway.TF_RESOURCE_TYPE,
        {"vpc_id": ref("aws_vpc", "network_vpc")})


@pytest.mark.parametrize("tier", ["public", "private"])
def test_one_subnet_per_zone_and_tier_carved_from_the_vpc(synthesized, env, tier):
    cidr_of = getattr(network_props(env), f"{tier}_subnet_cidr")
    for zone in network_props(env).availability_zones:
        assert Testing.to_have_resource_with_properties(
            network_json(synthesized, env), Subnet.TF_RESOURCE_TYPE, {
                "availability_zone": zone,
                "cidr_block": cidr_of(zone),
                "map_public_ip_on_launch": False,
                "vpc_id": ref("aws_vpc", "network_vpc"),
                "tags": {"Tier": tier, "Name": f"{network_props(env).vpc_name}-{tier}-{zone}"},
            })
    subnets = synthesized.resources(f"network-{env.name}", "aws_subnet").values()
    assert len(subnets) == 2 * len(network_props(env).availability_zones)


def test_subnets_do_not_overlap(synthesized, env):
    import ipaddress
    blocks = [ipaddress.ip_network(s["cidr_block"])
              for s in synthesized.resources(f"network-{env.name}", "aws_subnet").values()]
    vpc = network_props(env).network
    assert all(block.subnet_of(vpc) for block in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


def test_uat_subnets_are_the_guides(synthesized, environments):
    subnets = synthesized.resources("network-uat", "aws_subnet").values()
    layout = {(s["tags"]["Tier"], s["availability_zone"]): s["cidr_block"] for s in subnets}
    assert layout == {
        ("public", "ap-south-1a"): "10.0.0.0/24", ("public", "ap-south-1b"): "10.0.1.0/24",
        ("public", "ap-south-1c"): "10.0.2.0/24", ("private", "ap-south-1a"): "10.0.3.0/24",
        ("private", "ap-south-1b"): "10.0.4.0/24", ("private", "ap-south-1c"): "10.0.5.0/24",
    }


def assert_routes_out(synthesized, env, tier: str, zone: str, **target: str) -> None:
    """`zone`'s `tier` subnet has its own route table, whose default route goes to `target`."""
    table = ref("aws_route_table", f"network_{tier}_route_table_{zone}")
    assert Testing.to_have_resource_with_properties(
        network_json(synthesized, env), Route.TF_RESOURCE_TYPE,
        {"destination_cidr_block": "0.0.0.0/0", "route_table_id": table, **target})
    assert Testing.to_have_resource_with_properties(
        network_json(synthesized, env), RouteTableAssociation.TF_RESOURCE_TYPE,
        {"subnet_id": ref("aws_subnet", f"network_{tier}_subnet_{zone}"), "route_table_id": table})


def test_public_subnets_route_to_the_internet_gateway(synthesized, env):
    for zone in network_props(env).availability_zones:
        assert_routes_out(synthesized, env, "public", zone,
                          gateway_id=ref("aws_internet_gateway", "network_internet_gateway"))


def test_private_subnets_route_to_their_nat_gateway(synthesized, env):
    network = network_props(env)
    for zone in network.availability_zones:
        nat_zone = zone if network.nat_gateways is NatGateways.ONE_PER_AZ \
            else network.availability_zones[0]
        assert_routes_out(synthesized, env, "private", zone,
                          nat_gateway_id=ref("aws_nat_gateway", f"network_nat_gateway_{nat_zone}"))


def test_nat_gateways_sit_in_public_subnets_with_their_own_elastic_ip(synthesized, env):
    expected = {"single": 1, "one_per_az": len(network_props(env).availability_zones)}
    nats = synthesized.resources(f"network-{env.name}", "aws_nat_gateway")
    eips = synthesized.resources(f"network-{env.name}", "aws_eip")
    assert len(nats) == len(eips) == expected[network_props(env).nat_gateways.value]
    for zone in network_props(env).nat_zones:
        assert Testing.to_have_resource_with_properties(
            network_json(synthesized, env), NatGateway.TF_RESOURCE_TYPE, {
                "allocation_id": ref("aws_eip", f"network_nat_eip_{zone}"),
                "subnet_id": ref("aws_subnet", f"network_public_subnet_{zone}"),
            })
        assert Testing.to_have_resource_with_properties(
            network_json(synthesized, env), Eip.TF_RESOURCE_TYPE, {"domain": "vpc"})


def test_uat_has_one_nat_and_prod_one_per_zone(synthesized):
    assert len(synthesized.resources("network-uat", "aws_nat_gateway")) == 1
    assert len(synthesized.resources("network-prod", "aws_nat_gateway")) == 3


GUIDE_TYPES = ("aws_vpc", "aws_internet_gateway", "aws_subnet", "aws_route_table",
               "aws_route_table_association", "aws_route", "aws_eip", "aws_nat_gateway")


def test_uat_matches_the_guides_resources_plus_hardening(synthesized):
    resources = synthesized.parsed("network-uat")["resource"]
    # The guide's 29 less the separate IGW attachment, which aws_internet_gateway includes.
    assert sum(len(resources[kind]) for kind in GUIDE_TYPES) == 28
    extras = {kind: len(group) for kind, group in resources.items() if kind not in GUIDE_TYPES}
    assert extras == {"aws_default_security_group": 1, "aws_flow_log": 1,
                      "aws_cloudwatch_log_group": 1, "aws_iam_role": 1, "aws_iam_role_policy": 1}


def test_default_security_group_is_left_with_no_rules(synthesized, env):
    (group,) = synthesized.resources(f"network-{env.name}",
                                     "aws_default_security_group").values()
    assert group["vpc_id"] == ref("aws_vpc", "network_vpc")
    assert "ingress" not in group and "egress" not in group


def test_flow_logs_record_all_traffic_to_a_log_group_with_retention(synthesized, env):
    (flow_log,) = synthesized.resources(f"network-{env.name}", "aws_flow_log").values()
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["vpc_id"] == ref("aws_vpc", "network_vpc")
    assert flow_log["log_destination"] == ref("aws_cloudwatch_log_group",
                                              "network_flow_logs_log_group", "arn")
    (group,) = synthesized.resources(f"network-{env.name}", "aws_cloudwatch_log_group").values()
    assert group["retention_in_days"] == network_props(env).flow_logs_retention_days


def test_only_this_accounts_flow_logs_may_assume_the_flow_logs_role(synthesized, env):
    roles = synthesized.resources(f"network-{env.name}", "aws_iam_role")
    (statement,) = document(roles["network_flow_logs_role"]["assume_role_policy"])["Statement"]
    account = "${data.aws_caller_identity.network_flow_logs_account.account_id}"
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": "arn:${data.aws_partition.network_flow_logs_partition"
                    ".partition}:ec2:${data.aws_region.network_flow_logs_region.name}:"
                    f"{account}:vpc-flow-log/*"}}


def test_flow_logs_can_be_turned_off(environments):
    off = _synth_network(dataclasses.replace(network_props(environments["uat"]), flow_logs=False))
    assert "aws_flow_log" not in off["resource"]
    assert "aws_cloudwatch_log_group" not in off["resource"]


def test_vpc_endpoints_when_enabled(environments):
    uat = network_props(environments["uat"])
    assert "aws_vpc_endpoint" not in _synth_network(uat)["resource"]
    on = _synth_network(dataclasses.replace(uat, vpc_endpoints=True))["resource"]
    endpoints = {e["service_name"]: e for e in on["aws_vpc_endpoint"].values()}
    assert sorted(endpoints) == sorted(f"com.amazonaws.eu-west-1.{service}" for service in (
        "s3", "ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager"))
    s3 = endpoints["com.amazonaws.eu-west-1.s3"]
    assert s3["vpc_endpoint_type"] == "Gateway"
    assert len(s3["route_table_ids"]) == 3  # the private route tables
    for service in ("ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager"):
        interface = endpoints[f"com.amazonaws.eu-west-1.{service}"]
        assert interface["vpc_endpoint_type"] == "Interface"
        assert interface["private_dns_enabled"] is True
        assert len(interface["subnet_ids"]) == 3
    (rule,) = on["aws_vpc_security_group_ingress_rule"].values()
    assert (rule["from_port"], rule["to_port"], rule["cidr_ipv4"]) == (443, 443, uat.cidr)


def test_outputs_vpc_and_subnet_ids(synthesized, env):
    outputs = synthesized.parsed(f"network-{env.name}")["output"]
    assert outputs["vpc_id"]["value"] == ref("aws_vpc", "network_vpc")
    for tier in ("public", "private"):
        assert sorted(outputs[f"{tier}_subnet_ids"]["value"]) == sorted(
            ref("aws_subnet", f"network_{tier}_subnet_{zone}")
            for zone in network_props(env).availability_zones)


def _synth_network(props: NetworkProps) -> dict:
    stack = TerraformStack(Testing.app(), "network")
    Network(stack, "network", dataclasses.replace(props, region="eu-west-1"))
    return json.loads(Testing.synth(stack))


def test_removing_an_availability_zone_changes_nothing_else(environments):
    for env in environments.values():
        full = _synth_network(network_props(env))
        zones = network_props(env).availability_zones
        fewer = _synth_network(dataclasses.replace(
            network_props(env), availability_zones=tuple(z for z in zones if z != zones[1])))
        for resource_type, resources in fewer["resource"].items():
            for name, body in resources.items():
                assert zones[1] not in name
                assert full["resource"][resource_type][name] == body, (resource_type, name)
