"""A private ECR repository for the application's versioned images."""

from __future__ import annotations

import json

from constructs import Construct
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository, EcrRepositoryEncryptionConfiguration


class ImageRepository(Construct):
    """Immutable tags (a tag names one image forever), scanned on push, encrypted; keeps the
    last `keep_images` tagged images and expires untagged layers after a day."""

    def __init__(self, scope: Construct, id: str, *, name: str, keep_images: int) -> None:
        super().__init__(scope, id)
        self.repository = EcrRepository(
            self, "repository", name=name, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS")])
        EcrLifecyclePolicy(self, "lifecycle", repository=self.repository.name,
                           policy=json.dumps({"rules": [
                               {"rulePriority": 1, "description": "expire untagged images",
                                "selection": {"tagStatus": "untagged",
                                              "countType": "sinceImagePushed",
                                              "countUnit": "days", "countNumber": 1},
                                "action": {"type": "expire"}},
                               {"rulePriority": 2,
                                "description": f"keep the last {keep_images} images",
                                "selection": {"tagStatus": "any",
                                              "countType": "imageCountMoreThan",
                                              "countNumber": keep_images},
                                "action": {"type": "expire"}},
                           ]}, sort_keys=True))
