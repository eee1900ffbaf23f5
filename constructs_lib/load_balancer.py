"""An internet-facing Application Load Balancer with an HTTP listener and an `ip` target group."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

from .config import ServiceConfig

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class LoadBalancerProps:
    name: str  # load balancer name, at most 32 characters
    config: ServiceConfig
    vpc_id: str
    public_subnet_ids: list[str]


class LoadBalancer(Construct):
    """ALB in the public subnets; its security group opens only the listener port to the world.

    Egress from the ALB is added by whoever owns the targets (see FargateService), so the ALB
    reaches the container port and nothing else.
    """

    def __init__(self, scope: Construct, id: str, props: LoadBalancerProps) -> None:
        super().__init__(scope, id)
        config = props.config
        self.security_group = SecurityGroup(
            self, "security_group", name=f"{props.name}-alb", vpc_id=props.vpc_id,
            description=f"{props.name} load balancer", tags={"Name": f"{props.name}-alb"})
        VpcSecurityGroupIngressRule(
            self, "ingress_listener", security_group_id=self.security_group.id,
            description="HTTP from the internet", ip_protocol="tcp", cidr_ipv4=ANYWHERE,
            from_port=config.listener_port, to_port=config.listener_port)
        self.load_balancer = Lb(
            self, "alb", name=props.name, load_balancer_type="application", internal=False,
            ip_address_type="ipv4", subnets=props.public_subnet_ids,
            security_groups=[self.security_group.id],
            enable_deletion_protection=config.alb_deletion_protection)
        health = config.health_check
        # A name prefix and create-before-destroy let a changed port or protocol replace the
        # target group while the listener still points at the old one.
        self.target_group = LbTargetGroup(
            self, "target_group", name_prefix=f"{config.name[:5]}-", port=config.container_port,
            protocol="HTTP", target_type="ip", vpc_id=props.vpc_id,
            deregistration_delay=str(config.deregistration_delay_seconds),
            health_check={"enabled": True, "path": health.path, "matcher": health.matcher,
                          "protocol": "HTTP", "port": "traffic-port",
                          "interval": health.interval_seconds, "timeout": health.timeout_seconds,
                          "healthy_threshold": health.healthy_threshold,
                          "unhealthy_threshold": health.unhealthy_threshold},
            lifecycle={"create_before_destroy": True}, tags={"Name": props.name})
        self.listener = LbListener(
            self, "http_listener", load_balancer_arn=self.load_balancer.arn,
            port=config.listener_port, protocol="HTTP",
            default_action=[LbListenerDefaultAction(type="forward",
                                                    target_group_arn=self.target_group.arn)])
