"""CodeDeploy blue/green deploys for an ECS service behind two target groups."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.codedeploy_app import CodedeployApp
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import (
    CodedeployDeploymentGroup,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup as TargetGroupRef)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

from .iam import assume_role_policy
from .props.blue_green import TRAFFIC_SHIFTS, BlueGreenProps  # noqa: F401 (its props)


class BlueGreenDeployment(Construct):
    """A CodeDeploy ECS application and deployment group: each deploy starts the new task set
    behind the idle target group, sends test traffic to it, shifts production traffic as
    configured, and rolls back on failure or on any of the given alarms."""

    def __init__(self, scope: Construct, id: str, props: BlueGreenProps) -> None:
        super().__init__(scope, id)
        role = IamRole(self, "role", name=f"{props.name}-codedeploy",
                       description="Lets CodeDeploy shift traffic between task sets",
                       assume_role_policy=assume_role_policy("codedeploy.amazonaws.com"),
                       permissions_boundary=props.permissions_boundary)
        IamRolePolicyAttachment(
            self, "role_policy", role=role.name,
            policy_arn=f"arn:{props.partition}:iam::aws:policy/AWSCodeDeployRoleForECS")
        self.application = CodedeployApp(self, "application", name=props.name,
                                          compute_platform="ECS")
        self.deployment_group = CodedeployDeploymentGroup(
            self, "deployment_group", app_name=self.application.name,
            deployment_group_name=props.name, service_role_arn=role.arn,
            deployment_config_name=TRAFFIC_SHIFTS[props.traffic_shift],
            deployment_style={"deployment_type": "BLUE_GREEN",
                              "deployment_option": "WITH_TRAFFIC_CONTROL"},
            blue_green_deployment_config={
                "deployment_ready_option": {"action_on_timeout": "CONTINUE_DEPLOYMENT"},
                "terminate_blue_instances_on_deployment_success": {
                    "action": "TERMINATE",
                    "termination_wait_time_in_minutes": props.termination_wait_minutes},
            },
            ecs_service={"cluster_name": props.cluster_name,
                         "service_name": props.service_name},
            load_balancer_info={"target_group_pair_info": {
                "prod_traffic_route": {"listener_arns": [props.production_listener_arn]},
                "test_traffic_route": {"listener_arns": [props.test_listener_arn]},
                "target_group": [TargetGroupRef(name=props.blue_target_group_name),
                                 TargetGroupRef(name=props.green_target_group_name)],
            }},
            auto_rollback_configuration={
                "enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
            alarm_configuration={"enabled": True, "alarms": props.rollback_alarm_names})
