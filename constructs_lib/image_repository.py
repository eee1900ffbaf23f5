"""A private ECR repository for the application's versioned images."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository, EcrRepositoryEncryptionConfiguration

from .json_document import json_document
from .props.image_repository import ImageRepositoryProps


class ImageRepository(Construct):
    """Immutable tags (a tag names one image forever), scanned on push, encrypted. Expires
    untagged layers after a day; keeps, per environment sharing the repository, the last
    `keep_released_images` images released there (tagged with its prefix: what it runs and
    rolls back to) and, of the others, the last `keep_images`."""

    def __init__(self, scope: Construct, id: str, props: ImageRepositoryProps) -> None:
        super().__init__(scope, id)
        name, keep_images = props.name, props.keep_images
        keep_released_images = props.keep_released_images
        self.repository = EcrRepository(
            self, "repository", name=name, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS")])
        self.lifecycle = EcrLifecyclePolicy(self, "lifecycle", repository=self.repository.name,
                           policy=json_document({"rules": [
                               {"rulePriority": 1, "description": "expire untagged images",
                                "selection": {"tagStatus": "untagged",
                                              "countType": "sinceImagePushed",
                                              "countUnit": "days", "countNumber": 1},
                                "action": {"type": "expire"}},
                               # An image a rule selects is never expired by a later rule
                               # (ECR lifecycle policies, "evaluation rules"), and expiry goes
                               # by push time: the environment delivered last comes first, so
                               # an image it runs (tagged for the others too) is counted among
                               # its releases only, never pushed out by the others' churn.
                               *({"rulePriority": 2 + index,
                                  "description": f"keep the last {keep_released_images} images "
                                                 f"released as {prefix}*",
                                  "selection": {"tagStatus": "tagged", "tagPrefixList": [prefix],
                                                "countType": "imageCountMoreThan",
                                                "countNumber": keep_released_images},
                                  "action": {"type": "expire"}}
                                 for index, prefix in enumerate(props.release_tag_prefixes)),
                               {"rulePriority": 2 + len(props.release_tag_prefixes),
                                "description": f"keep the last {keep_images} other images",
                                "selection": {"tagStatus": "any",
                                              "countType": "imageCountMoreThan",
                                              "countNumber": keep_images},
                                "action": {"type": "expire"}},
                           ]}))


def addresses(id: str) -> list[str]:
    """The Terraform addresses of an ImageRepository with construct id `id` at a stack's root
    (EnvironmentStack names resources by their construct path)."""
    return [f"{EcrRepository.TF_RESOURCE_TYPE}.{id}_repository",
            f"{EcrLifecyclePolicy.TF_RESOURCE_TYPE}.{id}_lifecycle"]
