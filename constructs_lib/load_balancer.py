"""An internet-facing Application Load Balancer with its listeners and `ip` target group(s)."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_listener_rule import (LbListenerRule, LbListenerRuleAction,
                                                       LbListenerRuleCondition)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

from .access_logs import AccessLogBucket
from .props.load_balancer import (HTTPS_PORT, HealthCheckProps, LoadBalancerProps,  # noqa: F401
                                  ServiceRouteProps)

ANYWHERE = "0.0.0.0/0"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


class LoadBalancer(Construct):
    """ALB in the public subnets; its security group opens only the listener ports to the world
    (the blue/green test listener only to the VPC and `test_listener_cidrs`).

    HTTP forwards to the target group, or with `https` redirects to an HTTPS listener that does.
    With blue/green a second (green) target group and a test listener exist for CodeDeploy,
    which then owns the listeners' forwarding. Egress from the ALB is added by whoever owns the
    targets (see FargateService), so the ALB reaches the container port and nothing else.
    """

    def __init__(self, scope: Construct, id: str, props: LoadBalancerProps) -> None:
        super().__init__(scope, id)
        name, https = props.name, props.certificate_arn is not None
        self.props = props
        blue_green = props.test_listener_port is not None
        self.security_group = SecurityGroup(
            self, "security_group", name=f"{name}-alb", vpc_id=props.vpc_id,
            description=f"{name} load balancer", tags={"Name": f"{name}-alb"})
        public_ports = [props.listener_port] + ([HTTPS_PORT] if https else [])
        for port in public_ports:
            VpcSecurityGroupIngressRule(
                self, f"ingress_{port}", security_group_id=self.security_group.id,
                description=f"port {port} from the internet", ip_protocol="tcp",
                cidr_ipv4=ANYWHERE, from_port=port, to_port=port)
        if blue_green:
            port = props.test_listener_port
            VpcSecurityGroupIngressRule(
                self, f"ingress_{port}", security_group_id=self.security_group.id,
                description=f"test listener port {port} from the VPC", ip_protocol="tcp",
                cidr_ipv4=props.vpc_cidr, from_port=port, to_port=port)
            for index, cidr in enumerate(props.test_listener_cidrs):
                VpcSecurityGroupIngressRule(
                    self, f"ingress_{port}_{index}", security_group_id=self.security_group.id,
                    description=f"test listener port {port} from {cidr}", ip_protocol="tcp",
                    cidr_ipv4=cidr, from_port=port, to_port=port)
        access_logs = None
        if props.access_logs:
            logs = AccessLogBucket(self, "access_logs", name=name)
            access_logs = {"bucket": logs.bucket.id, "enabled": True}
        self.load_balancer = Lb(
            self, "alb", name=name, load_balancer_type="application", internal=False,
            ip_address_type="ipv4", subnets=props.public_subnet_ids,
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True, access_logs=access_logs,
            depends_on=[logs.policy] if access_logs else None,
            enable_deletion_protection=props.deletion_protection)
        self.target_group = None
        if props.target_port is not None:
            self.target_group = target_group(
                self, "target_group", name_prefix=props.target_group_name_prefix,
                port=props.target_port, vpc_id=props.vpc_id, health=props.health_check,
                deregistration_delay_seconds=props.deregistration_delay_seconds,
                name_tag=f"{name}-blue" if blue_green else name)
        self.green_target_group = (target_group(
            self, "green_target_group", name_prefix=props.target_group_name_prefix,
            port=props.target_port, vpc_id=props.vpc_id, health=props.health_check,
            deregistration_delay_seconds=props.deregistration_delay_seconds,
            name_tag=f"{name}-green") if blue_green else None)
        # CodeDeploy switches the listeners between blue and green: Terraform must not undo it.
        owned_by_codedeploy = {"ignore_changes": ["default_action"]} if blue_green else None
        forward = [LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
                   if self.target_group else
                   # No default service: what no ServiceRoute matches is not found.
                   LbListenerDefaultAction(type="fixed-response", fixed_response={
                       "content_type": "text/plain", "message_body": "Not Found",
                       "status_code": "404"})]
        if https:
            self.listener = LbListener(
                self, "https_listener", load_balancer_arn=self.load_balancer.arn,
                port=HTTPS_PORT, protocol="HTTPS", ssl_policy=TLS_POLICY,
                certificate_arn=props.certificate_arn, default_action=forward,
                lifecycle=owned_by_codedeploy)
            LbListener(self, "http_listener", load_balancer_arn=self.load_balancer.arn,
                       port=props.listener_port, protocol="HTTP",
                       default_action=[LbListenerDefaultAction(type="redirect", redirect={
                           "port": str(HTTPS_PORT), "protocol": "HTTPS",
                           "status_code": "HTTP_301"})])
        else:
            self.listener = LbListener(
                self, "http_listener", load_balancer_arn=self.load_balancer.arn,
                port=props.listener_port, protocol="HTTP", default_action=forward,
                lifecycle=owned_by_codedeploy)
        self.test_listener = None
        if blue_green:
            self.test_listener = LbListener(
                self, "test_listener", load_balancer_arn=self.load_balancer.arn,
                port=props.test_listener_port,
                protocol="HTTPS" if https else "HTTP",
                ssl_policy=TLS_POLICY if https else None,
                certificate_arn=props.certificate_arn,
                default_action=[LbListenerDefaultAction(
                    type="forward", target_group_arn=self.green_target_group.arn)],
                lifecycle=owned_by_codedeploy)


def target_group(scope: Construct, id: str, *, name_prefix: str, port: int, vpc_id: str,
                 health: HealthCheckProps, deregistration_delay_seconds: int,
                 name_tag: str) -> LbTargetGroup:
    """An `ip` target group for Fargate tasks, health checked on their traffic port."""
    # A name prefix and create-before-destroy let a changed port or protocol replace the
    # target group while the listener still points at the old one.
    return LbTargetGroup(
        scope, id, name_prefix=name_prefix, port=port, protocol="HTTP", target_type="ip",
        vpc_id=vpc_id, deregistration_delay=str(deregistration_delay_seconds),
        health_check={"enabled": True, "path": health.path, "matcher": health.matcher,
                      "protocol": "HTTP", "port": "traffic-port",
                      "interval": health.interval_seconds, "timeout": health.timeout_seconds,
                      "healthy_threshold": health.healthy_threshold,
                      "unhealthy_threshold": health.unhealthy_threshold},
        lifecycle={"create_before_destroy": True}, tags={"Name": name_tag})


class ServiceRoute(Construct):
    """A target group of its own and the listener rule that forwards the requests matching
    `path_patterns` / `host_headers` to it (one more service behind a LoadBalancer)."""

    def __init__(self, scope: Construct, id: str, props: ServiceRouteProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.target_group = target_group(
            self, "target_group", name_prefix=props.target_group_name_prefix,
            port=props.target_port, vpc_id=props.vpc_id, health=props.health_check,
            deregistration_delay_seconds=props.deregistration_delay_seconds,
            name_tag=props.name)
        conditions = ([LbListenerRuleCondition(path_pattern={"values": list(props.path_patterns)})]
                      if props.path_patterns else []) + (
            [LbListenerRuleCondition(host_header={"values": list(props.host_headers)})]
            if props.host_headers else [])
        self.rule = LbListenerRule(
            self, "rule", listener_arn=props.listener_arn, priority=props.priority,
            condition=conditions, action=[LbListenerRuleAction(
                type="forward", target_group_arn=self.target_group.arn)],
            tags={"Name": props.name})
