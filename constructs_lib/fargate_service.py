"""An ECS Fargate service in private subnets, behind a LoadBalancer (or a worker), scaling on CPU
and, with a queue, on its backlog per task."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics
    as Metric,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStat
    as MetricStat,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetric
    as MetricStatMetric,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetricDimensions
    as MetricDimension)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_service import EcsService, EcsServiceLoadBalancer
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

from .props.fargate_service import (CPU_ARCHITECTURE, FARGATE_SIZES,  # noqa: F401
                                     FargateServiceProps, ScalingProps, ServiceLoadBalancer)
from .iam import assume_role_policy, policy_document
from .json_document import json_document
from .load_balancer import ANYWHERE

ECS_TASKS = "ecs-tasks.amazonaws.com"


class FargateService(Construct):
    """Cluster, task definition, task and execution roles, log group, security group, service,
    and target-tracking autoscaling (CPU; with `scaling.queue_name`, also the queue's backlog).

    The service's security group admits only the load balancer's, on the container port.
    """

    def __init__(self, scope: Construct, id: str, props: FargateServiceProps) -> None:
        super().__init__(scope, id)
        name, alb = props.name, props.load_balancer
        self.log_group = CloudwatchLogGroup(self, "log_group", name=props.log_group_name,
                                            retention_in_days=props.log_retention_days)
        self.execution_role = IamRole(
            self, "execution_role", name=f"{name}-execution",
            description="Lets ECS pull the image and write the container's logs",
            assume_role_policy=assume_role_policy(ECS_TASKS),
            permissions_boundary=props.permissions_boundary)
        IamRolePolicy(self, "execution_role_policy", name="pull-image-and-write-logs",
                      role=self.execution_role.id,
                      policy=policy_document(self._execution_statements(
                          props.image_repository_arn, props.pull_through_cache_arn)
                          + self._secret_statements(props)))
        self.task_role = IamRole(
            self, "task_role", name=f"{name}-task",
            description="The application's own AWS permissions",
            assume_role_policy=assume_role_policy(ECS_TASKS),
            permissions_boundary=props.permissions_boundary)
        for policy in props.task_role_managed_policies:
            IamRolePolicyAttachment(
                self, f"task_role_{policy.replace('/', '_')}", role=self.task_role.name,
                policy_arn=f"arn:{props.partition}:iam::aws:policy/{policy}")
        if props.enable_execute_command:
            IamRolePolicy(self, "task_role_execute_command", name="ecs-exec",
                          role=self.task_role.id,
                          policy=policy_document(self._execute_command_statements()))

        if props.cluster is None:
            self.cluster = cluster(self, "cluster", name, props.container_insights)
            cluster_arn, cluster_name = self.cluster.arn, self.cluster.name
        else:
            self.cluster = None
            cluster_arn, cluster_name = props.cluster
        self.task_definition = EcsTaskDefinition(
            self, "task_definition", family=name, requires_compatibilities=["FARGATE"],
            network_mode="awsvpc", cpu=str(props.cpu), memory=str(props.memory),
            runtime_platform={"operating_system_family": "LINUX",
                              "cpu_architecture": CPU_ARCHITECTURE},
            execution_role_arn=self.execution_role.arn, task_role_arn=self.task_role.arn,
            container_definitions=json_document([{
                "name": props.container_name,
                "image": props.image,
                "essential": True,
                "privileged": False,
                "readonlyRootFilesystem": props.read_only_root_filesystem,
                "portMappings": [{"containerPort": props.container_port, "protocol": "tcp"}]
                if alb else [],
                "environment": [{"name": key, "value": value}
                                for key, value in sorted(props.environment.items())],
                # Only the references: ECS fetches each value when a task starts.
                **({"secrets": [{"name": key, "valueFrom": value}
                                for key, value in sorted(props.secrets.items())]}
                   if props.secrets else {}),
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": self.log_group.name,
                    "awslogs-region": props.region,
                    "awslogs-stream-prefix": props.container_name,
                }},
            }]))

        self.security_group = SecurityGroup(
            self, "security_group", name=f"{name}-service", vpc_id=props.vpc_id,
            description=(f"{name} tasks: the load balancer in, anything out" if alb
                         else f"{name} tasks: nothing in, anything out"),
            tags={"Name": f"{name}-service"})
        if alb:
            VpcSecurityGroupIngressRule(
                self, "ingress_from_alb", security_group_id=self.security_group.id,
                description="Container port from the load balancer", ip_protocol="tcp",
                from_port=props.container_port, to_port=props.container_port,
                referenced_security_group_id=alb.security_group_id)
        VpcSecurityGroupEgressRule(
            self, "egress_all", security_group_id=self.security_group.id,
            description="Image pulls, logs and the application's own calls", ip_protocol="-1",
            cidr_ipv4=ANYWHERE)
        if alb:
            VpcSecurityGroupEgressRule(
                self, "alb_egress_to_service", security_group_id=alb.security_group_id,
                description="Load balancer to the container port", ip_protocol="tcp",
                from_port=props.container_port, to_port=props.container_port,
                referenced_security_group_id=self.security_group.id)

        blue_green = props.code_deploy
        # With blue/green, CodeDeploy owns the task definition and target group of each deploy.
        ignored = ["desired_count"] + (["task_definition", "load_balancer"] if blue_green else [])
        self.service = EcsService(
            self, "service", name=name, cluster=cluster_arn,
            task_definition=self.task_definition.arn, launch_type="FARGATE",
            platform_version="LATEST", propagate_tags="SERVICE",
            # Created at the minimum; autoscaling owns the count afterwards.
            desired_count=props.scaling.min_capacity,
            lifecycle={"ignore_changes": ignored},
            deployment_controller={"type": "CODE_DEPLOY" if blue_green else "ECS"},
            deployment_minimum_healthy_percent=props.deployment_minimum_healthy_percent,
            deployment_maximum_percent=props.deployment_maximum_percent,
            deployment_circuit_breaker=None if blue_green else {
                "enable": props.deployment_circuit_breaker,
                "rollback": props.deployment_circuit_breaker},
            # (ECS refuses a grace period for a service without a load balancer)
            health_check_grace_period_seconds=(props.health_check_grace_period_seconds
                                               if alb else None),
            enable_execute_command=props.enable_execute_command or None,
            network_configuration={"subnets": props.private_subnet_ids,
                                   "security_groups": [self.security_group.id],
                                   "assign_public_ip": False},
            load_balancer=[EcsServiceLoadBalancer(target_group_arn=alb.target_group_arn,
                                                  container_name=props.container_name,
                                                  container_port=props.container_port)]
            if alb else None,
            depends_on=[alb.listener] if alb and alb.listener else None)
        self.autoscaling = Autoscaling(self, "autoscaling", props=props.scaling, name=name,
                                       cluster_name=cluster_name, service_name=self.service.name)

    def _execution_statements(self, repository_arn: str | None,
                              pull_through_cache_arn: str | None) -> list[dict]:
        statements = [{"Sid": "WriteLogs", "Effect": "Allow",
                       "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": f"{self.log_group.arn}:*"}]
        pull = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer"]
        if repository_arn is not None or pull_through_cache_arn is not None:
            statements.append({"Sid": "EcrLogin", "Effect": "Allow",
                               "Action": "ecr:GetAuthorizationToken", "Resource": "*"})
        if repository_arn is not None:
            statements.append({"Sid": "PullImage", "Effect": "Allow", "Action": pull,
                               "Resource": repository_arn})
        if pull_through_cache_arn is not None:
            # The first pull creates the cache's repository and imports the image: AWS ECR
            # User Guide, "IAM permissions required to sync an upstream registry".
            statements.append({"Sid": "PullThroughCache", "Effect": "Allow",
                               "Action": [*pull, "ecr:BatchImportUpstreamImage",
                                          "ecr:CreateRepository"],
                               "Resource": pull_through_cache_arn})
        return statements

    def _secret_statements(self, props: FargateServiceProps) -> list[dict]:
        """Read exactly the secrets the container names (ECS fetches them with the execution
        role: AWS ECS Developer Guide, "Required IAM permissions for Amazon ECS secrets")."""
        references = props.secret_references.values()
        resources = {store: sorted({one.iam_resource(props.partition, props.region,
                                                     props.account_id or "")
                                    for one in references if one.store == store})
                     for store in ("ssm", "secretsmanager")}
        statements = []
        if resources["ssm"]:
            statements.append({"Sid": "ReadSecretParameters", "Effect": "Allow",
                               "Action": "ssm:GetParameters", "Resource": resources["ssm"]})
        if resources["secretsmanager"]:
            statements.append({"Sid": "ReadSecrets", "Effect": "Allow",
                               "Action": "secretsmanager:GetSecretValue",
                               "Resource": resources["secretsmanager"]})
        if props.secrets_kms_key_arns:
            statements.append({
                "Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                "Resource": sorted(props.secrets_kms_key_arns),
                "Condition": {"StringEquals": {"kms:ViaService": [
                    f"{store}.{props.region}.amazonaws.com"
                    for store, found in resources.items() if found]}}})
        return statements

    def _execute_command_statements(self) -> list[dict]:
        """ECS Exec: the task's agent opens Session Manager's channels (these actions take no
        resource), and with ECS Exec's DEFAULT logging writes the session to the container's
        log group (AWS ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec")."""
        return [{"Sid": "SessionChannels", "Effect": "Allow",
                 "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
                 "Resource": "*"},
                {"Sid": "FindLogGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
                 "Resource": "*"},
                {"Sid": "LogSessions", "Effect": "Allow",
                 "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams",
                            "logs:PutLogEvents"],
                 "Resource": f"{self.log_group.arn}:*"}]


def cluster(scope: Construct, id: str, name: str, container_insights: bool) -> EcsCluster:
    """An ECS cluster (FargateService's own, or one that several share: its `cluster` prop)."""
    return EcsCluster(scope, id, name=name, setting=[EcsClusterSetting(
        name="containerInsights", value="enabled" if container_insights else "disabled")])


class Autoscaling(Construct):
    """Changes an ECS service's desired count to keep its average CPU near a target and, with
    `queue_name`, an SQS queue's backlog per running task near another. Two target tracking
    policies: Application Auto Scaling scales out on whichever wants more tasks, and in only
    when both do ("Multiple scaling policies", Application Auto Scaling User Guide)."""

    def __init__(self, scope: Construct, id: str, *, props: ScalingProps, name: str,
                 cluster_name: str, service_name: str) -> None:
        super().__init__(scope, id)
        config = props
        # No role_arn: Application Auto Scaling uses its service-linked role.
        self.target = AppautoscalingTarget(
            self, "target", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{cluster_name}/{service_name}",
            min_capacity=config.min_capacity, max_capacity=config.max_capacity)
        cooldowns = {"scale_in_cooldown": config.scale_in_cooldown_seconds,
                     "scale_out_cooldown": config.scale_out_cooldown_seconds}
        self.policy = self._policy("cpu_target_tracking", f"{name}-cpu-target-tracking", {
            "predefined_metric_specification": {
                "predefined_metric_type": "ECSServiceAverageCPUUtilization"},
            "target_value": config.cpu_target_percent, **cooldowns})
        self.queue_policy = None
        if config.queue_name is not None:
            self.queue_policy = self._policy(
                "queue_target_tracking", f"{name}-queue-target-tracking", {
                    "customized_metric_specification": {"metrics": backlog_per_task(
                        config.queue_name, cluster_name, service_name)},
                    "target_value": config.queue_messages_per_task, **cooldowns})

    def _policy(self, id: str, name: str, configuration: dict) -> AppautoscalingPolicy:
        return AppautoscalingPolicy(
            self, id, name=name, policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration=configuration)


def backlog_per_task(queue_name: str, cluster_name: str, service_name: str) -> list[Metric]:
    """Metric math for a target tracking policy: the queue's visible messages over the service's
    running tasks, as the Application Auto Scaling User Guide's "Example: Amazon SQS queue
    backlog per task" (in "Create a target tracking scaling policy ... using metric math")
    computes it. Container Insights publishes RunningTaskCount (AWS/ECS has no task count);
    the service's minimum of at least one task keeps the divisor above zero."""
    def metric(id: str, label: str, namespace: str, metric_name: str, stat: str,
               dimensions: dict[str, str]) -> Metric:
        # (structs, not dicts: a list's items are passed to the provider as they are)
        return Metric(id=id, label=label, return_data=False, metric_stat=MetricStat(
            stat=stat, metric=MetricStatMetric(
                namespace=namespace, metric_name=metric_name,
                dimensions=[MetricDimension(name=key, value=value)
                            for key, value in dimensions.items()])))

    return [metric("m1", "Messages waiting in the queue", "AWS/SQS",
                   "ApproximateNumberOfMessagesVisible", "Sum", {"QueueName": queue_name}),
            metric("m2", "Running tasks of the service", "ECS/ContainerInsights",
                   "RunningTaskCount", "Average",
                   {"ClusterName": cluster_name, "ServiceName": service_name}),
            Metric(id="e1", label="Backlog per task", expression="m1 / m2", return_data=True)]
