"""Stacks wire constructs together per environment; they hold no resource logic of their own."""

from __future__ import annotations

import json
import re
from typing import Iterable

from cdktf import App, TerraformOutput, TerraformResource, TerraformStack, TerraformVariable
from constructs import Construct, Node
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.ecr_pull_through_cache_rule import EcrPullThroughCacheRule
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

from .cdktf_hcl import repaired
from config import (ADOPT_REPOSITORY_VARIABLE, EnvironmentConfig, ci_role_output,
                     image_reference)
from .alarm_set import ROLLBACK_ALARMS
from .ci_access import CiAccess, CiAccessProps
from .ci_policies import ci_policies, ci_roles
from .blue_green import BlueGreenDeployment, BlueGreenProps
from .fargate_service import FargateService, FargateServiceProps, ServiceLoadBalancer
from .image_repository import ImageRepository, addresses
from .image_version import ImageVersion
from .load_balancer import LoadBalancer, LoadBalancerProps
from .monitoring import ServiceMonitoring, ServiceMonitoringProps
from .network import Network
from .network_lookup import NetworkLookup
from .state import StateBucket, StateBucketProps, use_s3_backend

MANAGED_BY = "cdktf"
# The oldest Terraform that reads these stacks: the S3 backend's use_lockfile needs 1.10 (import
# blocks 1.5, removed blocks 1.7); older CLIs would fail on them with less clear errors.
REQUIRED_TERRAFORM = ">= 1.10"
# The ECR repository's construct id, in the state stack now and in the app stack before.
IMAGES = "images"


class EnvironmentStack(TerraformStack):
    """A stack of one environment: AWS provider in its region, default tags on every resource,
    and Terraform addresses spelled from the construct path (`aws_subnet.network_public_subnet_
    ap-south-1a`) instead of cdktf's hashed ids, so `terraform state show` reads like the code.
    """

    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig,
                 s3_backend: bool = True) -> None:
        super().__init__(scope, id)
        self.environment = environment
        self._terraform_attributes = {"required_version": REQUIRED_TERRAFORM}
        for name, value in self._terraform_attributes.items():
            self.add_override(f"terraform.{name}", value)
        self._removed: list[str] = []
        self._imports: list[dict[str, str]] = []
        self._false_variables: set[str] = set()
        if s3_backend:
            use_s3_backend(self, environment.state, key=f"{environment.name}/{id}.tfstate")
        self.provider = AwsProvider(self, "aws", region=environment.region, default_tags=[AwsProviderDefaultTags(tags={
            "Project": environment.project,
            "Environment": environment.name,
            "ManagedBy": MANAGED_BY,
        })])

    def account_id(self) -> str:
        """The account applying the stack (ci.account_id when the config names it)."""
        if self.environment.ci.account_id:
            return self.environment.ci.account_id
        if self.node.try_find_child("account") is None:
            DataAwsCallerIdentity(self, "account")
        return self.node.find_child("account").account_id

    def partition(self) -> str:
        if self.node.try_find_child("partition") is None:
            DataAwsPartition(self, "partition")
        return self.node.find_child("partition").partition

    def permissions_boundary(self) -> str | None:
        """With CI access, the ARN of the boundary every role of the network and app stacks
        carries (the state stack creates it: constructs_lib/ci_policies.py); else None."""
        if not self.environment.ci.enabled:
            return None
        return (f"arn:{self.partition()}:iam::{self.account_id()}:policy/"
                f"{self.environment.names.permissions_boundary}")

    def forget(self, address: str) -> None:
        """Drop `address` from this stack's state without destroying it (a `removed` block with
        destroy = false, Terraform >= 1.7): another stack has taken it over."""
        self._removed.append(address)
        self.add_override("removed", [{"from": each, "lifecycle": {"destroy": False}}
                                      for each in self._removed])

    def adopt(self, resource: TerraformResource, id: str, when: TerraformVariable) -> None:
        """Import the existing object `id` as `resource` when the bool variable `when` (default
        false) is true (an `import` block with for_each, Terraform >= 1.7); once in the state,
        a no-op."""
        self._false_variables.add(when.friendly_unique_id)
        self._imports.append({"for_each": f"${{var.{when.friendly_unique_id} ? "
                                          f"[{json.dumps(id)}] : []}}",
                              "to": f"{resource.terraform_resource_type}."
                                    f"{resource.friendly_unique_id}",
                              "id": "${each.value}"})
        self.add_override("import", list(self._imports))

    def to_hcl_terraform(self):
        return repaired(super().to_hcl_terraform(), self._terraform_attributes, self._removed,
                        self._imports, self._false_variables)

    def _allocate_logical_id(self, element) -> str:
        node = element if isinstance(element, Node) else element.node
        below_stack = node.path.split("/")[len(self.node.path.split("/")):]
        return re.sub(r"[^A-Za-z0-9_-]", "_", "_".join(below_stack))


class StateStack(EnvironmentStack):
    """The bootstrap, applied with administrator credentials: the bucket every stack of the
    environment keeps its state in (its own too, at <env>/state-<env>.tfstate), with
    `service.ecr_repository` the image repository, and with `ci.github_repository` GitHub
    Actions' roles. The first apply has no bucket to keep its
    state in yet: ops.deploy applies it with a local backend and then moves the state into the
    bucket (docs/delivery.md "Bootstrap"); the JSON always names the bucket."""

    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig) -> None:
        super().__init__(scope, id, environment)
        config = environment.state
        state = StateBucket(self, "state", StateBucketProps(
            bucket=config.bucket,
            noncurrent_version_expiration_days=config.noncurrent_version_expiration_days,
            lock_table_name=config.lock_table_name if config.lock_table else None))
        TerraformOutput(self, "state_bucket", value=state.bucket.bucket)
        TerraformOutput(self, "state_bucket_arn", value=state.bucket.arn)
        if state.lock_table is not None:
            TerraformOutput(self, "lock_table", value=state.lock_table.name)
        if environment.service.ecr_repository:
            self._image_repository(environment)
        if environment.ci.enabled:
            if environment.ci.account_id:  # roles made in the wrong account would trust nobody
                self.provider.allowed_account_ids = [environment.ci.account_id]
            partition = DataAwsPartition(self, "partition").partition
            account = DataAwsCallerIdentity(self, "account").account_id

            def arn(service: str, resource: str, region: str = environment.region) -> str:
                return f"arn:{partition}:{service}:{region}:{account}:{resource}"

            access = CiAccess(self, "ci_access", CiAccessProps(
                oidc_provider=environment.ci.oidc_provider,
                roles=ci_roles(environment, state.bucket.arn, arn, partition),
                policies=ci_policies(environment, state.bucket.arn, arn, partition)))
            TerraformOutput(self, "github_oidc_provider_arn", value=access.provider_arn)
            for kind, role in access.roles.items():
                TerraformOutput(self, ci_role_output(kind), value=role.arn)

    def _image_repository(self, environment: EnvironmentConfig) -> None:
        """The ECR repository, here so that CI can push an image before the network and app
        stacks exist. A deployment whose app stack made it adopts it (import blocks) and the
        app stack forgets it (ApplicationStack: removed blocks): apply this stack first."""
        config, name = environment.service, environment.names.repository
        images = ImageRepository(self, IMAGES, name=name, keep_images=config.ecr_keep_images,
                                 keep_released_images=config.ecr_keep_released_images)
        adopt = TerraformVariable(
            self, ADOPT_REPOSITORY_VARIABLE, type="bool", default=False,
            description=f"Import the existing ECR repository {name} (ops.deploy sets it)")
        self.adopt(images.repository, name, adopt)
        self.adopt(images.lifecycle, name, adopt)
        TerraformOutput(self, "ecr_repository_url", value=images.repository.repository_url)


class NetworkStack(EnvironmentStack):
    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig) -> None:
        super().__init__(scope, id, environment)
        network = Network(self, "network", environment.network, environment.region,
                          permissions_boundary=self.permissions_boundary())
        TerraformOutput(self, "vpc_id", value=network.vpc.id)
        TerraformOutput(self, "vpc_cidr", value=network.vpc.cidr_block)
        TerraformOutput(self, "public_subnet_ids",
                        value=[subnet.id for subnet in network.public_subnets.values()])
        TerraformOutput(self, "private_subnet_ids",
                        value=[subnet.id for subnet in network.private_subnets.values()])
        TerraformOutput(self, "nat_gateway_public_ips",
                        value=[nat.public_ip for nat in network.nat_gateways.values()])


class ApplicationStack(EnvironmentStack):
    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig) -> None:
        super().__init__(scope, id, environment)
        config, names = environment.service, environment.names
        aws = DataAwsPartition(self, "partition")
        partition = aws.partition
        network = NetworkLookup(self, "network", environment.network.vpc_name)
        repository_url, repository_arn = self._repository(environment, aws)
        seed, cache_arn = config.image, None
        if names.docker_hub_cache:
            seed, cache_arn = self._docker_hub_cache(environment, aws)
        image = ImageVersion(self, "image_version", name=names.image_parameter, seed_image=(
            image_reference(repository_url, config.image_tag) if config.image_tag else seed))
        alb = LoadBalancer(self, "load_balancer", LoadBalancerProps(
            name=names.service, vpc_id=network.vpc.id,
            public_subnet_ids=network.public_subnet_ids, target_port=config.container_port,
            target_group_name_prefix=f"{config.name[:5]}-", listener_port=config.listener_port,
            certificate_arn=config.certificate_arn if config.https else None,
            test_listener_port=(config.blue_green.test_listener_port
                                if config.blue_green.enabled else None),
            test_listener_cidrs=config.blue_green.test_listener_cidrs,
            vpc_cidr=network.vpc.cidr_block,
            health_check=config.health_check,
            deregistration_delay_seconds=config.deregistration_delay_seconds,
            deletion_protection=config.alb_deletion_protection,
            access_logs=config.alb_access_logs))
        service = FargateService(self, "service", FargateServiceProps(
            name=names.service, log_group_name=names.log_group, region=environment.region,
            partition=partition, vpc_id=network.vpc.id,
            private_subnet_ids=network.private_subnet_ids,
            load_balancer=ServiceLoadBalancer(target_group_arn=alb.target_group.arn,
                                              security_group_id=alb.security_group.id,
                                              listener=alb.listener),
            image=image.image, image_repository_arn=repository_arn,
            pull_through_cache_arn=cache_arn,
            container_name=config.container_name, container_port=config.container_port,
            cpu=config.cpu, memory=config.memory, environment=config.environment,
            read_only_root_filesystem=config.read_only_root_filesystem,
            task_role_managed_policies=config.task_role_managed_policies,
            log_retention_days=config.log_retention_days,
            container_insights=config.container_insights,
            code_deploy=config.blue_green.enabled,
            deployment_minimum_healthy_percent=config.deployment_minimum_healthy_percent,
            deployment_maximum_percent=config.deployment_maximum_percent,
            deployment_circuit_breaker=config.deployment_circuit_breaker,
            health_check_grace_period_seconds=config.health_check_grace_period_seconds,
            scaling=config.scaling, permissions_boundary=self.permissions_boundary()))
        monitoring = ServiceMonitoring(self, "monitoring", ServiceMonitoringProps(
            name=names.service, region=environment.region,
            cluster_name=service.cluster.name, service_name=service.service.name,
            load_balancer_arn_suffix=alb.load_balancer.arn_suffix,
            target_group_arn_suffix=alb.target_group.arn_suffix,
            green_target_group_arn_suffix=(alb.green_target_group.arn_suffix
                                           if alb.green_target_group else None),
            alarms=config.alarms))
        blue_green = None
        if config.blue_green.enabled:
            blue_green = BlueGreenDeployment(self, "blue_green", BlueGreenProps(
                name=names.service, partition=partition,
                cluster_name=service.cluster.name, service_name=service.service.name,
                production_listener_arn=alb.listener.arn,
                test_listener_arn=alb.test_listener.arn,
                blue_target_group_name=alb.target_group.name,
                green_target_group_name=alb.green_target_group.name,
                rollback_alarm_names=[monitoring.alarms[key].alarm_name
                                      for key in ROLLBACK_ALARMS],
                traffic_shift=config.blue_green.traffic_shift,
                termination_wait_minutes=config.blue_green.termination_wait_minutes,
                permissions_boundary=self.permissions_boundary()))
        scheme = "https" if config.https else "http"
        port = 443 if config.https else config.listener_port
        TerraformOutput(self, "alb_dns_name", value=alb.load_balancer.dns_name)
        TerraformOutput(self, "alb_url", value=f"{scheme}://{alb.load_balancer.dns_name}"
                        + ("" if port in (80, 443) else f":{port}"))
        TerraformOutput(self, "cluster_name", value=service.cluster.name)
        TerraformOutput(self, "service_name", value=service.service.name)
        TerraformOutput(self, "log_group_name", value=service.log_group.name)
        TerraformOutput(self, "alarm_topic_arn", value=monitoring.topic.arn)
        # What releases (python -m ops.release) read.
        TerraformOutput(self, "image_parameter_name", value=image.parameter.name)
        TerraformOutput(self, "task_definition_family", value=service.task_definition.family)
        TerraformOutput(self, "task_definition_arn", value=service.task_definition.arn)
        TerraformOutput(self, "container_name", value=config.container_name)
        TerraformOutput(self, "container_port", value=config.container_port)
        if repository_url is not None:
            TerraformOutput(self, "ecr_repository_url", value=repository_url)
        if blue_green is not None:
            TerraformOutput(self, "codedeploy_application", value=blue_green.application.name)
            TerraformOutput(self, "codedeploy_deployment_group",
                            value=blue_green.deployment_group.deployment_group_name)

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
        if config.ecr_repository:
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


STACKS = {"state": StateStack, "network": NetworkStack, "app": ApplicationStack}


# What the cdktf CLI deploys first. The state stack is the bootstrap, applied by ops.deploy
# (its first apply needs the local backend cdktf cannot switch to), so no cdktf command pulls it
# in: `cdktf deploy network-uat app-uat` runs as it is.
CDKTF_DEPENDENCIES = {"app": "network"}


def build(app: App, environments: Iterable[EnvironmentConfig]) -> dict[str, TerraformStack]:
    """Every environment's stacks in one app; the app depends on its network."""
    stacks: dict[str, TerraformStack] = {}
    for environment in environments:
        names = environment.stack_names
        for kind, name in names.items():
            stacks[name] = STACKS[kind](app, name, environment)
            if kind in CDKTF_DEPENDENCIES:
                stacks[name].add_dependency(stacks[names[CDKTF_DEPENDENCIES[kind]]])
    return stacks
