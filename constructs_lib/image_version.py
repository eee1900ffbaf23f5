"""The version of record: which image an environment's service runs."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter


class ImageVersion(Construct):
    """An SSM parameter holding the image reference the service runs.

    Terraform creates it with `seed_image` and never writes it again (`ignore_changes`); releases
    (`python -m ops release`) change it, and the task definition reads it (`image`), so a plain
    `terraform apply` keeps whatever was released last instead of rolling back. Its history is
    the release history (rollback, audit).
    """

    def __init__(self, scope: Construct, id: str, *, name: str, seed_image: str) -> None:
        """`name`: the parameter's name. `seed_image`: the image until the first release."""
        super().__init__(scope, id)
        # A String, not a SecureString: an image reference is no secret, and a sensitive value
        # would hide the container definitions in every plan.
        self.parameter = SsmParameter(
            self, "parameter", name=name, type="String", tier="Standard",
            insecure_value=seed_image,
            description="Version of record: the image the service runs (python -m ops.release)",
            # Each release writes the value and a description of itself (tag, commit, who).
            lifecycle={"ignore_changes": ["insecure_value", "description"]})

    @property
    def image(self) -> str:
        """The image reference of record, as Terraform reads it at plan time."""
        return self.parameter.insecure_value
