"""Small helpers shared by the tests."""

import json
import re

from constructs_lib.json_document import decode as document  # noqa: F401 (tests read documents)


REGION = "ap-south-1"


def ref(resource_type: str, name: str, attribute: str = "id") -> str:
    """The Terraform expression cdktf writes for a reference to another resource's attribute."""
    return "${%s.%s.%s}" % (resource_type, name, attribute)


def rules_of(rules: dict, security_group: str) -> list[dict]:
    """The security group rules (by resource name) that belong to `security_group`."""
    return [rule for rule in rules.values()
            if rule["security_group_id"] == ref("aws_security_group", security_group)]


def synth_variant(environment) -> dict:
    """Every stack of `environment` (a variant built in a test), synthesized: name -> JSON dict."""
    import json

    from cdktf import App, Testing

    from constructs_lib.stacks import build

    stacks = build(Testing.stub_version(App(stack_traces=False)), [environment])
    return {name: json.loads(Testing.synth(stack)) for name, stack in stacks.items()}


def with_service(environment, **changes):
    """`environment` with its service settings changed (nested: alarms={...}, blue_green={...})."""
    import dataclasses

    service = environment.service
    for key, value in list(changes.items()):
        if isinstance(value, dict):
            changes[key] = dataclasses.replace(getattr(service, key), **value)
    return dataclasses.replace(environment, service=dataclasses.replace(service, **changes))


def wait_for_bucket(bucket: str, creating) -> None:
    """Until `bucket` exists in the emulator (or the future `creating` it failed): all the S3
    backend of the other stacks needs, while the state stack's apply goes on waiting for its
    lifecycle configuration."""
    import time

    import boto3
    from botocore.exceptions import ClientError

    s3 = boto3.client("s3", region_name=REGION)
    while True:
        if creating.done():
            creating.result()  # raises what made the state stack fail
            return
        try:
            s3.head_bucket(Bucket=bucket)
            return
        except ClientError:
            time.sleep(0.5)


def aws(service: str):
    """A boto3 client of the session's emulator (conftest points AWS_ENDPOINT_URL at it)."""
    import boto3

    return boto3.client(service, region_name=REGION)


def resource_count(deployment, stack) -> int:
    """How many resources `stack` of `deployment` declares, from its synthesized JSON."""
    import json

    synthesized = json.loads((deployment.stack_dir(stack) / "cdk.tf.json").read_text())
    return sum(len(group) for group in synthesized.get("resource", {}).values())


def tf(deployment, stack, *args, check=True):
    """`terraform <args>` in the stack's folder; with check, assert it succeeded."""
    result = deployment.terraform(stack, *args)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result
