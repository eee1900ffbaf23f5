"""app-<env>: the service, its load balancer, monitoring and (blue/green) CodeDeploy."""

from __future__ import annotations

from cdktf import TerraformResource
from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.ecr_pull_through_cache_rule import EcrPullThroughCacheRule

from config import EnvironmentConfig, image_reference, outputs
from constructs_lib.alarm_set import ROLLBACK_ALARMS
from constructs_lib.blue_green import BlueGreenDeployment
from constructs_lib.fargate_service import FargateService, ServiceLoadBalancer, cluster
from constructs_lib.image_repository import addresses
from constructs_lib.image_version import ImageVersion
from constructs_lib.load_balancer import LoadBalancer, ServiceRoute
from constructs_lib.monitoring import ServiceMonitoring
from constructs_lib.network_lookup import NetworkLookup

from . import props
from .base import EnvironmentStack
from .state import IMAGES


class ApplicationStack(EnvironmentStack):
    """The one [service] behind its load balancer; or, with [services.<name>] tables, a cluster
    and load balancer they share and each service in a scope of its own (addresses
    <service>_...), behind a listener rule, as the listener's default, or a worker."""

    kind = "app"

    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig) -> None:
        super().__init__(scope, id, environment)
        aws = DataAwsPartition(self, "partition")
        network = NetworkLookup(self, "network", environment.network.vpc_name)
        if not environment.several:
            self._service(self, environment, aws, network)
            return
        alb = LoadBalancer(self, "load_balancer", props.load_balancer(
            environment, vpc_id=network.vpc.id, public_subnet_ids=network.public_subnet_ids,
            vpc_cidr=network.vpc.cidr_block))
        default = props.default_service(environment)
        shared = cluster(self, "ecs", environment.names.cluster,
                         props.fargate_service(default or environment).container_insights)
        self._outputs_of_load_balancer(environment, alb)
        self.output("cluster_name", shared.name)
        for focused in environment.each_service():
            key = focused.service_key
            scope_ = Construct(self, key)
            target = None
            if focused.service.load_balanced:
                if default is not None and key == default.service_key:
                    target = (alb.target_group, alb.listener)
                else:
                    route = ServiceRoute(scope_, "route", props.service_route(
                        focused, vpc_id=network.vpc.id, listener_arn=alb.listener.arn))
                    target = (route.target_group, route.rule)
            self._service(scope_, focused, aws, network, alb=alb, target=target,
                          cluster=(shared.arn, shared.name))
        if default is not None:
            self._move_from_one_service(default.service_key)

    def _service(self, scope: Construct, environment: EnvironmentConfig,
                 aws: DataAwsPartition, network: NetworkLookup, *,
                 alb: LoadBalancer | None = None, target: tuple | None = None,
                 cluster: tuple[str, str] | None = None) -> None:
        """One service in `scope`: its image, task, roles, alarms (and with one [service], its
        load balancer and blue/green). `alb` and `target` (target group, what forwards to it):
        the shared load balancer; `cluster` the shared cluster's (ARN, name)."""
        config, partition = environment.service, aws.partition
        repository_url, repository_arn = self._repository(environment, aws)
        seed, cache_arn = config.image, None
        if environment.names.docker_hub_cache:
            seed, cache_arn = self._docker_hub_cache(environment, aws)
        image = ImageVersion(scope, "image_version", name=environment.names.image_parameter,
                             seed_image=(image_reference(repository_url, config.image_tag)
                                         if config.image_tag else seed))
        if alb is None:
            alb = LoadBalancer(self, "load_balancer", props.load_balancer(
                environment, vpc_id=network.vpc.id, public_subnet_ids=network.public_subnet_ids,
                vpc_cidr=network.vpc.cidr_block))
            target = (alb.target_group, alb.listener)
        target_group, listener = target or (None, None)
        service = FargateService(scope, "service", props.fargate_service(
            environment, partition=partition, vpc_id=network.vpc.id,
            private_subnet_ids=network.private_subnet_ids,
            load_balancer=ServiceLoadBalancer(target_group_arn=target_group.arn,
                                              security_group_id=alb.security_group.id,
                                              listener=listener) if target_group else None,
            image=image.image, image_repository_arn=repository_arn,
            pull_through_cache_arn=cache_arn, permissions_boundary=self.permissions_boundary(),
            **({"account_id": self.account_id()} if config.secrets else {})
            | ({"cluster": cluster} if cluster else {})))
        monitoring = ServiceMonitoring(scope, "monitoring", props.service_monitoring(
            environment, cluster_name=cluster[1] if cluster else service.cluster.name,
            service_name=service.service.name,
            load_balancer_arn_suffix=alb.load_balancer.arn_suffix,
            target_group_arn_suffix=target_group.arn_suffix if target_group else None,
            green_target_group_arn_suffix=(alb.green_target_group.arn_suffix
                                           if alb.green_target_group else None)))
        blue_green = None
        if config.blue_green.enabled:
            blue_green = BlueGreenDeployment(scope, "blue_green", props.blue_green(
                environment, partition=partition,
                cluster_name=service.cluster.name, service_name=service.service.name,
                production_listener_arn=alb.listener.arn,
                test_listener_arn=alb.test_listener.arn,
                blue_target_group_name=alb.target_group.name,
                green_target_group_name=alb.green_target_group.name,
                rollback_alarm_names=[monitoring.alarms[key].alarm_name
                                      for key in ROLLBACK_ALARMS],
                permissions_boundary=self.permissions_boundary()))
        if cluster is None:
            self._outputs_of_load_balancer(environment, alb)
            self.output("cluster_name", service.cluster.name)

        def output(name: str, value) -> None:
            self.output(outputs.service_output(environment, name), value)

        output("service_name", service.service.name)
        output("log_group_name", service.log_group.name)
        output("alarm_topic_arn", monitoring.topic.arn)
        # What releases (python -m ops release) read.
        output("image_parameter_name", image.parameter.name)
        output("task_definition_family", service.task_definition.family)
        output(outputs.TASK_DEFINITION_ARN, service.task_definition.arn)
        if repository_url is not None:
            output("ecr_repository_url", repository_url)
        if blue_green is not None:
            self.output(outputs.CODEDEPLOY_APPLICATION, blue_green.application.name)
            self.output(outputs.CODEDEPLOY_DEPLOYMENT_GROUP,
                        blue_green.deployment_group.deployment_group_name)

    def _outputs_of_load_balancer(self, environment: EnvironmentConfig,
                                  alb: LoadBalancer) -> None:
        config = environment.service
        scheme = "https" if config.https else "http"
        port = 443 if config.https else alb.props.listener_port
        self.output(outputs.ALB_DNS_NAME, alb.load_balancer.dns_name)
        self.output(outputs.ALB_URL, f"{scheme}://{alb.load_balancer.dns_name}"
                    + ("" if port in (80, 443) else f":{port}"))

    def _move_from_one_service(self, key: str) -> None:
        """`moved` blocks from the one [service]'s addresses to the default service's (the
        one that, like it, takes every request), so that turning [service] into
        [services.<its name>] moves resources instead of replacing them. Terraform ignores a
        block whose old address holds nothing."""
        for resource in self._resources_under(key):
            address = f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"
            self.move(address.replace(f".{key}_", ".", 1), address)
        self.move("aws_ecs_cluster.service_cluster", "aws_ecs_cluster.ecs")

    def _resources_under(self, key: str) -> list[TerraformResource]:
        return [child for child in self.node.find_child(key).node.find_all()
                if isinstance(child, TerraformResource)]

    def _docker_hub_cache(self, environment: EnvironmentConfig, aws: DataAwsPartition
                          ) -> tuple[str, str]:
        """An ECR pull-through cache of Docker Hub, authenticated with the configured secret:
        (the image's reference through it, the ARN of its repositories). Tasks then pull
        from ECR, not anonymously from Docker Hub (10 pulls an hour per address)."""
        prefix, region = environment.names.docker_hub_cache, environment.region
        EcrPullThroughCacheRule(
            self, "docker_hub_cache", ecr_repository_prefix=prefix,
            upstream_registry_url="registry-1.docker.io",
            credential_arn=environment.service.docker_hub_credentials_secret)
        account = self.account_id()
        return (f"{account}.dkr.ecr.{region}.{aws.dns_suffix}/{prefix}/"
                f"{environment.service.docker_hub_image}",
                f"arn:{aws.partition}:ecr:{region}:{account}:repository/{prefix}/*")

    def _repository(self, environment: EnvironmentConfig, aws: DataAwsPartition
                    ) -> tuple[str | None, str | None]:
        """(URL, ARN) of the ECR repository the service pulls from, or (None, ARN or None)."""
        config, name, partition = environment.service, environment.names.repository, aws.partition
        if config.ecr_repository and not environment.several:
            # Made here before it moved to the state stack, which adopts it: forget, not destroy.
            for address in addresses(IMAGES):
                self.forget(address)
        if config.has_repository:
            # Created by the (owner environment's) state stack; built from the name, not looked
            # up, so this stack plans before the repository exists.
            account = self.account_id()
            region = environment.region
            return (f"{account}.dkr.ecr.{region}.{aws.dns_suffix}/{name}",
                    f"arn:{partition}:ecr:{region}:{account}:repository/{name}")
        if config.external_ecr_image is not None:
            account, region, external = config.external_ecr_image
            return None, f"arn:{partition}:ecr:{region}:{account}:repository/{external}"
        return None, None  # a public image needs no ECR permissions
