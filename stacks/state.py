"""state-<env>: the bootstrap."""

from __future__ import annotations

from cdktf import TerraformVariable
from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition

from config import ADOPT_REPOSITORY_VARIABLE, EnvironmentConfig, ci_role_output, outputs
from constructs_lib.ci_access import CiAccess
from constructs_lib.ci_policies import ci_policies, ci_roles
from constructs_lib.image_repository import ImageRepository
from constructs_lib.state import StateBucket

from . import props
from .base import EnvironmentStack

# The ECR repository's construct id, in the state stack now and in the app stack before.
IMAGES = "images"


class StateStack(EnvironmentStack):
    """The bootstrap, applied with administrator credentials: the bucket every stack of the
    environment keeps its state in (its own too, at <env>/state-<env>.tfstate), with
    `service.ecr_repository` the image repository, and with `ci.github_repository` GitHub
    Actions' roles. The first apply has no bucket to keep its
    state in yet: ops.deploy applies it with a local backend and then moves the state into the
    bucket (docs/delivery.md "Bootstrap"); the JSON always names the bucket."""

    kind = "state"

    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig) -> None:
        super().__init__(scope, id, environment)
        state = StateBucket(self, "state", props.state_bucket(environment))
        self.output("state_bucket", state.bucket.bucket)
        self.output("state_bucket_arn", state.bucket.arn)
        if state.lock_table is not None:
            self.output("lock_table", state.lock_table.name)
        if environment.several:
            self._image_repositories(environment)
        elif environment.service.ecr_repository:
            self._image_repository(environment)
        if environment.ci.enabled:
            if environment.ci.account_id:  # roles made in the wrong account would trust nobody
                self.provider.allowed_account_ids = [environment.ci.account_id]
            partition = DataAwsPartition(self, "partition").partition
            account = DataAwsCallerIdentity(self, "account").account_id

            def arn(service: str, resource: str, region: str = environment.region) -> str:
                return f"arn:{partition}:{service}:{region}:{account}:{resource}"

            policy = props.ci_policy(environment)
            access = CiAccess(self, "ci_access", props.ci_access(
                environment, roles=ci_roles(policy, state.bucket.arn, arn, partition),
                policies=ci_policies(policy, state.bucket.arn, arn, partition)))
            self.output("github_oidc_provider_arn", access.provider_arn)
            for kind, role in access.roles.items():
                self.output(ci_role_output(kind), role.arn)

    def _image_repositories(self, environment: EnvironmentConfig) -> None:
        """Several services: a repository for each with ecr_repository (<service>_images).
        The default service's moves from the one [service]'s address, as in the app stack."""
        default = props.default_service(environment)
        for focused in environment.each_service():
            if not focused.service.ecr_repository:
                continue
            key = focused.service_key
            images = ImageRepository(self, f"{key}_{IMAGES}", props.image_repository(focused))
            self.output(outputs.service_output(focused, "ecr_repository_url"),
                        images.repository.repository_url)
            if default is not None and key == default.service_key:
                for resource in (images.repository, images.lifecycle):
                    address = f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"
                    self.move(address.replace(f".{key}_", ".", 1), address)

    def _image_repository(self, environment: EnvironmentConfig) -> None:
        """The ECR repository, here so that CI can push an image before the network and app
        stacks exist. A deployment whose app stack made it adopts it (import blocks) and the
        app stack forgets it (ApplicationStack: removed blocks): apply this stack first."""
        name = environment.names.repository
        images = ImageRepository(self, IMAGES, props.image_repository(environment))
        adopt = TerraformVariable(
            self, ADOPT_REPOSITORY_VARIABLE, type="bool", default=False,
            description=f"Import the existing ECR repository {name} (ops.deploy sets it)")
        self.adopt(images.repository, name, adopt)
        self.adopt(images.lifecycle, name, adopt)
        self.output("ecr_repository_url", images.repository.repository_url)
