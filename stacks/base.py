"""What every stack of an environment shares: the provider, default tags, the S3 backend,
readable Terraform addresses, and outputs through the contract (config/naming.py)."""

from __future__ import annotations

import json
import re
from typing import Any

from cdktf import TerraformOutput, TerraformResource, TerraformStack, TerraformVariable
from constructs import Construct, Node
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

from config import EnvironmentConfig
from config.outputs import output_name
from constructs_lib.cdktf_hcl import repaired
from constructs_lib.state import use_s3_backend

from . import props

MANAGED_BY = "cdktf"
# The oldest Terraform that reads these stacks: the S3 backend's use_lockfile needs 1.10 (import
# blocks 1.5, removed blocks 1.7); older CLIs would fail on them with less clear errors.
REQUIRED_TERRAFORM = ">= 1.10"


class EnvironmentStack(TerraformStack):
    """A stack of one environment: AWS provider in its region, default tags on every resource,
    and Terraform addresses spelled from the construct path (`aws_subnet.network_public_subnet_
    ap-south-1a`) instead of cdktf's hashed ids, so `terraform state show` reads like the code.
    """

    kind = ""  # the stack kind (config/naming.py STACK_KINDS): which outputs it may declare

    def __init__(self, scope: Construct, id: str, environment: EnvironmentConfig,
                 s3_backend: bool = True) -> None:
        super().__init__(scope, id)
        self.environment = environment
        self._terraform_attributes = {"required_version": REQUIRED_TERRAFORM}
        for name, value in self._terraform_attributes.items():
            self.add_override(f"terraform.{name}", value)
        self._removed: list[str] = []
        self._moved: list[dict[str, str]] = []
        self._imports: list[dict[str, str]] = []
        self._false_variables: set[str] = set()
        if s3_backend:
            use_s3_backend(self, props.s3_backend(environment, id))
        self.provider = AwsProvider(self, "aws", region=environment.region, default_tags=[AwsProviderDefaultTags(tags={
            "Project": environment.project,
            "Environment": environment.name,
            "ManagedBy": MANAGED_BY,
        })])

    def output(self, name: str, value: Any) -> TerraformOutput:
        """Declare the output `name`, which config/outputs.py's OUTPUTS must list for this kind."""
        return TerraformOutput(self, output_name(self.kind, name), value=value)

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

    def move(self, old: str, new: str) -> None:
        """The object at address `old` is `new` now: moved, not replaced (a `moved` block)."""
        self._moved.append({"from": old, "to": new})
        self.add_override("moved", list(self._moved))

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
                        self._imports, self._false_variables, self._moved)

    def _allocate_logical_id(self, element) -> str:
        node = element if isinstance(element, Node) else element.node
        below_stack = node.path.split("/")[len(self.node.path.split("/")):]
        return re.sub(r"[^A-Za-z0-9_-]", "_", "_".join(below_stack))
