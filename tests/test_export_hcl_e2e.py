"""ops/export_hcl.py end to end: with uat applied to the local AWS emulator from the synthesized
JSON, the exported HCL of each uat stack plans no change either, and `terraform show -json` of
the two plans shows the same resources, planned values, attribute constants and references."""

import json
import os

import pytest

from ops.deploy import Deployment
from ops.export_hcl import export

pytestmark = pytest.mark.e2e
UAT_STACKS = ("state-uat", "network-uat", "app-uat")


@pytest.fixture(scope="module")
def both(synthesized, environments, emulator):
    """uat applied from the JSON (cdktf.out), and its HCL export (the same backends: the state
    stack's local state file is ../../../ of both stack folders). At the end the app and network
    are destroyed; the state bucket is protected."""
    uat = environments["uat"]
    from_json = Deployment(uat, dict(os.environ), synthesized.outdir)
    out = synthesized.outdir.parent / "hcl"
    result = export(out, env=dict(os.environ, ENVIRONMENTS="uat"))
    assert result.returncode == 0, result.stderr
    for stack in UAT_STACKS:
        from_json.apply(stack)
    yield from_json, Deployment(uat, dict(os.environ), out)
    for stack in ("app-uat", "network-uat"):
        from_json.destroy(stack)


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


def synthesized_resources(deployment: Deployment, stack: str) -> set[str]:
    synthesized = json.loads((deployment.stack_dir(stack) / "cdk.tf.json").read_text())
    return {f"{type_}.{name}" for type_, blocks in synthesized["resource"].items()
            for name in blocks}


def planned(deployment: Deployment, stack: str) -> tuple[bool, dict]:
    deployment.init(stack)
    changes = deployment.plan(stack, "export-check.tfplan")
    return changes, json.loads(deployment.show(stack, "export-check.tfplan", "-json"))


@pytest.mark.parametrize("stack", UAT_STACKS)
def test_the_hcl_plans_what_the_json_plans(both, stack):
    from_json, from_hcl = both
    json_changes, json_plan = planned(from_json, stack)
    hcl_changes, hcl_plan = planned(from_hcl, stack)
    assert (json_changes, hcl_changes) == (False, False)
    actions = {change["address"]: change["change"]["actions"]
               for change in hcl_plan["resource_changes"]}
    assert actions == {change["address"]: change["change"]["actions"]
                       for change in json_plan["resource_changes"]}
    assert {tuple(action) for action in actions.values()} == {("no-op",)}
    assert set(actions) == synthesized_resources(from_json, stack)
    assert hcl_plan["planned_values"] == json_plan["planned_values"]
    assert configuration(hcl_plan) == configuration(json_plan)
