"""What test_deploy_e2e.py's test of ops/export_hcl.py compares: with uat applied to the
local AWS emulator from the synthesized JSON, the exported HCL of each uat stack plans no change
either, and `terraform show -json` of the two plans shows the same resources, planned values,
attribute constants and references."""

import json

from ops.core.runner import Runner


def _expression(value):
    """An expression of `terraform show -json`'s configuration, as both syntaxes agree on it:
    its references, else its constant. A function of constants only (`jsonencode({...})`) shows
    as a template string in JSON syntax and as nothing in HCL; its value is in planned_values."""
    if isinstance(value, list):
        return [_expression(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "references" in value:
        return ("references", sorted(set(value["references"])))
    if set(value) == {"constant_value"}:
        constant = value["constant_value"]
        if isinstance(constant, str) and constant.startswith("${") and constant.endswith("}"):
            return ("function of constants",)
        return ("constant", constant)
    if not value:
        return ("function of constants",)
    return {key: _expression(item) for key, item in value.items()}


def configuration(plan: dict) -> dict:
    root = plan["configuration"]["root_module"]
    return {"providers": _expression(plan["configuration"]["provider_config"]),
            "outputs": _expression(root.get("outputs", {})),
            "resources": {resource["address"]: _expression(resource)
                          for resource in root.get("resources", [])}}


def synthesized_resources(deployment: Runner, stack: str) -> set[str]:
    synthesized = json.loads((deployment.stack_dir(stack) / "cdk.tf.json").read_text())
    return {f"{type_}.{name}" for type_, blocks in synthesized["resource"].items()
            for name in blocks}


def planned(deployment: Runner, stack: str) -> tuple[bool, dict]:
    deployment.init(stack)
    changes = deployment.plan(stack, "export-check.tfplan").changes
    return changes, json.loads(deployment.show(stack, "export-check.tfplan", "-json"))


def compare(from_json: Runner, from_hcl: Runner, stack: str) -> None:
    """Assert that `stack` plans the same from the JSON and from its HCL export."""
    json_changes, json_plan = planned(from_json, stack)
    hcl_changes, hcl_plan = planned(from_hcl, stack)
    assert (json_changes, hcl_changes) == (False, False), stack
    actions = {change["address"]: change["change"]["actions"]
               for change in hcl_plan["resource_changes"]}
    assert actions == {change["address"]: change["change"]["actions"]
                       for change in json_plan["resource_changes"]}, stack
    assert {tuple(action) for action in actions.values()} == {("no-op",)}, stack
    assert set(actions) == synthesized_resources(from_json, stack), stack
    assert hcl_plan["planned_values"] == json_plan["planned_values"], stack
    assert configuration(hcl_plan) == configuration(json_plan), stack
