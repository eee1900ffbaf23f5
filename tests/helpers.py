"""Small helpers shared by the tests."""

import json
import re

_WORD = re.compile(r"[A-Za-z_][\w.-]*")


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


def document(attribute: str):
    """The structure of a JSON document synthesized as `${jsonencode(...)}` (constructs_lib/
    json_document.py), each reference as the "${...}" string cdktf writes for it (see `ref`)."""
    prefix, suffix = "${jsonencode(", ")}"
    assert attribute.startswith(prefix) and attribute.endswith(suffix), attribute
    text, out, at = attribute[len(prefix):-len(suffix)], [], 0
    while at < len(text):
        char = text[at]
        if char == '"':  # a quoted HCL string: JSON's escapes, plus $${ and %%{
            end = at + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[at:end + 1].replace("$${", "${").replace("%%{", "%{"))
            at = end + 1
        elif _WORD.match(text, at):  # true / false / null, or a reference
            word = _WORD.match(text, at).group()
            out.append(word if word in ("true", "false", "null") else json.dumps("${%s}" % word))
            at += len(word)
        else:
            out.append(":" if char == "=" else char)
            at += 1
    return json.loads("".join(out))
