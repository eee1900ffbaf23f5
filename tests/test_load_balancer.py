"""constructs_lib/load_balancer.py and network_lookup.py, through the app-<env> stacks."""

from cdktf import Testing
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup

from helpers import ref, rules_of
from stacks.props import load_balancer as load_balancer_props


def app_json(synthesized, env) -> str:
    return synthesized.json[f"app-{env.name}"]


def test_vpc_is_found_by_its_name_tag(synthesized, env):
    assert Testing.to_have_data_source_with_properties(
        app_json(synthesized, env), DataAwsVpc.TF_RESOURCE_TYPE,
        {"filter": [{"name": "tag:Name", "values": [env.network.vpc_name]}]})


def test_subnets_are_found_by_tier_tag_in_that_vpc(synthesized, env):
    for tier in ("public", "private"):
        assert Testing.to_have_data_source_with_properties(
            app_json(synthesized, env), DataAwsSubnets.TF_RESOURCE_TYPE, {"filter": [
                {"name": "vpc-id", "values": [ref("data.aws_vpc", "network_vpc")]},
                {"name": "tag:Tier", "values": [tier]},
            ]})


def test_alb_is_internet_facing_in_the_public_subnets(synthesized, env):
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), Lb.TF_RESOURCE_TYPE, {
        "name": f"hello-world-{env.name}",
        "internal": False,
        "load_balancer_type": "application",
        "ip_address_type": "ipv4",
        "subnets": ref("data.aws_subnets", "network_public_subnets", "ids"),
        "security_groups": [ref("aws_security_group", "load_balancer_security_group")],
        "enable_deletion_protection": load_balancer_props(env).deletion_protection,
    })


def test_alb_security_group_opens_only_the_listener_port_to_the_internet(synthesized, env):
    rules = synthesized.resources(f"app-{env.name}", "aws_vpc_security_group_ingress_rule")
    (ingress,) = rules_of(rules, "load_balancer_security_group")
    assert (ingress["ip_protocol"], ingress["cidr_ipv4"], ingress["from_port"],
            ingress["to_port"]) == ("tcp", "0.0.0.0/0", load_balancer_props(env).listener_port,
                                    load_balancer_props(env).listener_port)


def test_listener_forwards_http_to_the_target_group(synthesized, env):
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), LbListener.TF_RESOURCE_TYPE, {
        "load_balancer_arn": ref("aws_lb", "load_balancer_alb", "arn"),
        "port": load_balancer_props(env).listener_port,
        "protocol": "HTTP",
        "default_action": [{"type": "forward", "target_group_arn": ref(
            "aws_lb_target_group", "load_balancer_target_group", "arn")}],
    })


def test_target_group_targets_task_ips_on_the_container_port_with_a_health_check(synthesized, env):
    health = load_balancer_props(env).health_check
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), LbTargetGroup.TF_RESOURCE_TYPE, {
        "port": 8000,
        "protocol": "HTTP",
        "target_type": "ip",
        "vpc_id": ref("data.aws_vpc", "network_vpc"),
        "deregistration_delay": str(load_balancer_props(env).deregistration_delay_seconds),
        "health_check": {
            "enabled": True, "path": health.path, "matcher": health.matcher,
            "interval": health.interval_seconds, "timeout": health.timeout_seconds,
            "healthy_threshold": health.healthy_threshold,
            "unhealthy_threshold": health.unhealthy_threshold,
        },
        "lifecycle": {"create_before_destroy": True},
    })
