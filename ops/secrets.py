"""A service's secrets, by reference: the value lives in SSM Parameter Store (SecureString) or
Secrets Manager, never in the config, the task definition, the plan or the state; the container
gets it through ECS `secrets` / `valueFrom`. `set` writes a value read from stdin (never echoed),
`list` shows names and when each last changed, never a value.

References: constructs_lib/secret_reference.py.
"""

from __future__ import annotations

import getpass
import sys
from typing import Callable, TextIO

from botocore.exceptions import ClientError

from constructs_lib.secret_reference import SecretReference, parse
from ops.errors import BadInput

def read_value(stream: TextIO = sys.stdin,
               prompt: Callable[[str], str] = getpass.getpass) -> str:
    """The value from a pipe (one trailing newline dropped), or typed at a hidden prompt."""
    value = prompt("value (not echoed): ") if stream.isatty() else stream.read()
    value = value[:-1] if value.endswith("\n") else value
    if not value:
        raise BadInput("the value is empty: pipe it in (e.g. `... < file`) or type it at the "
                       "prompt")
    return value


# What PutParameter encrypts a SecureString with when given no KeyId.
SSM_DEFAULT_KEY = "alias/aws/ssm"


def set_value(ssm, secretsmanager, reference: SecretReference, value: str,
              kms_key_arns: tuple[str, ...] = ()) -> str:
    """Write `value`; returns a line saying what changed (never the value). An SSM parameter
    keeps the key it is encrypted with: PutParameter without a KeyId would re-encrypt it with
    the AWS managed key. A new one takes the service's customer managed key if it has one."""
    if reference.store == "ssm":
        key = _parameter(ssm, reference.name).get("KeyId") or (
            kms_key_arns[0] if len(kms_key_arns) == 1 else SSM_DEFAULT_KEY)
        ssm.put_parameter(Name=reference.name, Value=value, Type="SecureString", Overwrite=True,
                          KeyId=key)
        return f"{reference.name}: new version written (SSM SecureString, key {key})"
    if reference.json_key:
        raise BadInput(f"{reference.name} is referenced by its JSON key "
                       f"{reference.json_key!r}: write the whole JSON document with "
                       f"`aws secretsmanager put-secret-value`")
    try:
        secretsmanager.put_secret_value(SecretId=reference.name, SecretString=value)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise BadInput(f"no secret {reference.name}: create it first (aws secretsmanager "
                           f"create-secret), then reference its ARN") from None
        raise
    return f"{reference.name}: new version written (Secrets Manager)"


def _parameter(ssm, name: str) -> dict:
    """The parameter's metadata (DescribeParameters), {} when there is none."""
    found = ssm.describe_parameters(ParameterFilters=[
        {"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
    return found[0] if found else {}


def last_changed(ssm, secretsmanager, reference: SecretReference) -> str:
    """When the value last changed (ISO time), or "missing"."""
    try:
        if reference.store == "ssm":
            found = _parameter(ssm, reference.name)
            return found["LastModifiedDate"].isoformat(timespec="seconds") if found \
                else "missing"
        described = secretsmanager.describe_secret(SecretId=reference.name)
        when = described.get("LastChangedDate") or described.get("CreatedDate")
        return when.isoformat(timespec="seconds") if when else "never set"
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("ResourceNotFoundException",
                                                           "ParameterNotFound"):
            return "missing"
        raise


def listing(ssm, secretsmanager, secrets: dict[str, str]) -> list[tuple[str, str, str]]:
    """(variable, reference, last changed) for a service's secrets, by variable name."""
    return [(name, text, last_changed(ssm, secretsmanager, parse(text)))
            for name, text in sorted(secrets.items())]
