"""Small helpers shared by the tests."""


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
