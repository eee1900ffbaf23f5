"""A secret by reference, as ECS takes it in a container's `secrets` (`valueFrom`): an SSM
parameter's name (same region) or ARN, or a Secrets Manager secret's full ARN, optionally with
`:json-key:version-stage:version-id`. The value itself never passes through here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SSM_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):ssm:(?P<region>[a-z0-9-]+):"
                      r"(?P<account>\d{12}):parameter(?P<name>/[A-Za-z0-9_.\-/]+)$")
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
_SECRET_ARN = re.compile(r"^(?P<arn>arn:(?P<partition>aws[a-z-]*):secretsmanager:"
                         r"(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:"
                         r"(?P<name>[A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6})"
                         r"(:(?P<key>[^:]*):(?P<stage>[^:]*):(?P<version>[^:]*))?$")


@dataclass(frozen=True)
class SecretReference:
    """One secret reference, parsed."""
    store: str  # "ssm" or "secretsmanager"
    name: str  # the parameter's name (with its leading /) or the secret's ARN (no JSON key)
    region: str  # "" : the service's region
    account: str  # "" : the service's account
    json_key: str = ""

    def iam_resource(self, partition: str, region: str, account: str) -> str:
        """The IAM resource that grants reading it (the execution role's policy): the secret's
        ARN, or the parameter's in `region` and `account` unless its ARN names others."""
        if self.store == "secretsmanager":
            return self.name
        return (f"arn:{partition}:ssm:{self.region or region}:{self.account or account}:"
                f"parameter{self.name}")


def parse(reference: str) -> SecretReference:
    """The reference, or ValueError with what is allowed."""
    secret = _SECRET_ARN.match(reference)
    if secret:
        return SecretReference("secretsmanager", secret["arn"], secret["region"],
                               secret["account"], secret["key"] or "")
    ssm = _SSM_ARN.match(reference)
    if ssm:
        return SecretReference("ssm", ssm["name"], ssm["region"], ssm["account"])
    if not reference.startswith("arn:") and _SSM_NAME.match(reference):
        name = reference if reference.startswith("/") else f"/{reference}"
        return SecretReference("ssm", name, "", "")
    raise ValueError(f"{reference!r} is not an SSM parameter (name or ARN) or a Secrets Manager "
                     f"secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-"
                     f"<6 characters>[:<json-key>::])")
