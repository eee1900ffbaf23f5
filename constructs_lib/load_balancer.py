"""An internet-facing Application Load Balancer with its listeners and `ip` target group(s)."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

from .access_logs import AccessLogBucket
from .config import ServiceConfig

ANYWHERE = "0.0.0.0/0"
HTTPS_PORT = 443
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class LoadBalancerProps:
    name: str  # load balancer name, at most 32 characters
    config: ServiceConfig
    vpc_id: str
    public_subnet_ids: list[str]


class LoadBalancer(Construct):
    """ALB in the public subnets; its security group opens only the listener ports to the world.

    HTTP forwards to the target group, or with `https` redirects to an HTTPS listener that does.
    With blue/green a second (green) target group and a test listener exist for CodeDeploy,
    which then owns the listeners' forwarding. Egress from the ALB is added by whoever owns the
    targets (see FargateService), so the ALB reaches the container port and nothing else.
    """

    def __init__(self, scope: Construct, id: str, props: LoadBalancerProps) -> None:
        super().__init__(scope, id)
        config, name = props.config, props.name
        self.vpc_id = props.vpc_id
        blue_green = config.blue_green.enabled
        self.security_group = SecurityGroup(
            self, "security_group", name=f"{name}-alb", vpc_id=props.vpc_id,
            description=f"{name} load balancer", tags={"Name": f"{name}-alb"})
        public_ports = [config.listener_port] + ([HTTPS_PORT] if config.https else [])
        if blue_green:
            public_ports.append(config.blue_green.test_listener_port)
        for port in public_ports:
            VpcSecurityGroupIngressRule(
                self, f"ingress_{port}", security_group_id=self.security_group.id,
                description=f"port {port} from the internet", ip_protocol="tcp",
                cidr_ipv4=ANYWHERE, from_port=port, to_port=port)
        access_logs = None
        if config.alb_access_logs:
            logs = AccessLogBucket(self, "access_logs", name=name)
            access_logs = {"bucket": logs.bucket.id, "enabled": True}
        self.load_balancer = Lb(
            self, "alb", name=name, load_balancer_type="application", internal=False,
            ip_address_type="ipv4", subnets=props.public_subnet_ids,
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True, access_logs=access_logs,
            depends_on=[logs.policy] if access_logs else None,
            enable_deletion_protection=config.alb_deletion_protection)
        self.target_group = self._target_group("target_group", config,
                                               f"{name}-blue" if blue_green else name)
        self.green_target_group = (self._target_group("green_target_group", config,
                                                      f"{name}-green")
                                   if blue_green else None)
        # CodeDeploy switches the listeners between blue and green: Terraform must not undo it.
        owned_by_codedeploy = {"ignore_changes": ["default_action"]} if blue_green else None
        forward = [LbListenerDefaultAction(type="forward",
                                           target_group_arn=self.target_group.arn)]
        if config.https:
            self.listener = LbListener(
                self, "https_listener", load_balancer_arn=self.load_balancer.arn,
                port=HTTPS_PORT, protocol="HTTPS", ssl_policy=TLS_POLICY,
                certificate_arn=config.certificate_arn, default_action=forward,
                lifecycle=owned_by_codedeploy)
            LbListener(self, "http_listener", load_balancer_arn=self.load_balancer.arn,
                       port=config.listener_port, protocol="HTTP",
                       default_action=[LbListenerDefaultAction(type="redirect", redirect={
                           "port": str(HTTPS_PORT), "protocol": "HTTPS",
                           "status_code": "HTTP_301"})])
        else:
            self.listener = LbListener(
                self, "http_listener", load_balancer_arn=self.load_balancer.arn,
                port=config.listener_port, protocol="HTTP", default_action=forward,
                lifecycle=owned_by_codedeploy)
        self.test_listener = None
        if blue_green:
            self.test_listener = LbListener(
                self, "test_listener", load_balancer_arn=self.load_balancer.arn,
                port=config.blue_green.test_listener_port,
                protocol="HTTPS" if config.https else "HTTP",
                ssl_policy=TLS_POLICY if config.https else None,
                certificate_arn=config.certificate_arn or None,
                default_action=[LbListenerDefaultAction(
                    type="forward", target_group_arn=self.green_target_group.arn)],
                lifecycle=owned_by_codedeploy)

    def _target_group(self, id: str, config: ServiceConfig, name_tag: str) -> LbTargetGroup:
        health = config.health_check
        # A name prefix and create-before-destroy let a changed port or protocol replace the
        # target group while the listener still points at the old one.
        return LbTargetGroup(
            self, id, name_prefix=f"{config.name[:5]}-", port=config.container_port,
            protocol="HTTP", target_type="ip", vpc_id=self.vpc_id,
            deregistration_delay=str(config.deregistration_delay_seconds),
            health_check={"enabled": True, "path": health.path, "matcher": health.matcher,
                          "protocol": "HTTP", "port": "traffic-port",
                          "interval": health.interval_seconds, "timeout": health.timeout_seconds,
                          "healthy_threshold": health.healthy_threshold,
                          "unhealthy_threshold": health.unhealthy_threshold},
            lifecycle={"create_before_destroy": True}, tags={"Name": name_tag})
