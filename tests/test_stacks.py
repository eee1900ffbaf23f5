"""stacks/ and main.py: what every stack shares, and how they are wired."""

import json
import re
from pathlib import Path

import pytest
from cdktf import Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider

from helpers import ref

ROOT = Path(__file__).resolve().parent.parent


def test_one_synth_writes_both_stacks_of_every_environment(synthesized):
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == ["app-prod", "app-uat", "network-prod", "network-uat",
                                          "state-prod", "state-uat"]
    for name in manifest["stacks"]:
        assert (synthesized.outdir / "stacks" / name / "cdk.tf.json").is_file()


def test_cdktf_deploys_the_app_after_its_network_and_never_pulls_in_the_bootstrap(synthesized):
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    for env in ("uat", "prod"):
        assert manifest["stacks"][f"state-{env}"]["dependencies"] == []
        assert manifest["stacks"][f"network-{env}"]["dependencies"] == []
        assert manifest["stacks"][f"app-{env}"]["dependencies"] == [f"network-{env}"]


def test_every_stack_has_the_aws_provider_in_its_region_with_default_tags(synthesized, env):
    for stack in env.stack_names.values():
        assert Testing.to_have_provider_with_properties(
            synthesized.json[stack], AwsProvider.TF_RESOURCE_TYPE, {
                "region": env.region,
                "default_tags": [{"tags": {"Project": "hello-world", "Environment": env.name,
                                           "ManagedBy": "cdktf"}}],
            })
        required = synthesized.parsed(stack)["terraform"]["required_providers"]["aws"]
        assert required["version"] == "5.100.0"


def test_terraform_addresses_follow_the_construct_path(synthesized):
    cdktf_hash = re.compile(r"_[0-9A-F]{8}$")
    for stack in synthesized.json:
        for resource_type, resources in synthesized.parsed(stack)["resource"].items():
            for name in resources:
                assert re.match(r"^[a-z][A-Za-z0-9_-]*$", name), f"{resource_type}.{name}"
                assert not cdktf_hash.search(name), f"{resource_type}.{name} in {stack}"
    assert "network_public_subnet_ap-south-1a" in synthesized.resources("network-uat",
                                                                        "aws_subnet")


def test_app_outputs_the_alb_url(synthesized, env):
    outputs = synthesized.parsed(f"app-{env.name}")["output"]
    dns = ref("aws_lb", "load_balancer_alb", "dns_name")
    assert outputs["alb_dns_name"]["value"] == dns
    assert outputs["alb_url"]["value"] == f"http://{dns}"
    assert {"cluster_name", "service_name", "log_group_name"} <= set(outputs)


def test_every_stack_states_the_terraform_it_needs(synthesized):
    # use_lockfile (every backend) needs Terraform 1.10; older CLIs must refuse the stack.
    for stack in synthesized.json:
        assert synthesized.parsed(stack)["terraform"]["required_version"] == ">= 1.10", stack


def test_the_hcl_repairs_fail_loudly_once_cdktf_writes_it_right():
    import pytest

    from constructs_lib.cdktf_hcl import CdktfHclChanged, repair

    broken = 'terraform {\n  0 = "required_version"\n}\nvariable "adopt" {\ntype = bool\n}\n'
    fixed = repair(broken, {"required_version": ">= 1.10"}, ["aws_x.y"],
                   [{"to": "aws_x.z", "id": "${each.value}", "for_each": "${var.adopt ? [1] : []}"}],
                   {"adopt"})
    assert 'required_version = ">= 1.10"' in fixed and "default = false" in fixed
    assert "removed {\nfrom = aws_x.y\nlifecycle {\ndestroy = false\n}\n}" in fixed
    assert "import {\nfor_each = var.adopt ? [1] : []\nto = aws_x.z\nid = each.value\n}" in fixed
    for written_right in (fixed, 'terraform {\n  required_version = ">= 1.10"\n}\n'):
        with pytest.raises(CdktfHclChanged, match="remove this workaround"):
            repair(written_right, {"required_version": ">= 1.10"}, [], [], {"adopt"})


def test_every_output_is_in_the_contract_and_read_where_it_says(synthesized, environments):
    """config/outputs.py OUTPUTS names every output the stacks declare, by stack kind, with who
    reads it: the tool named reads it by that name, and the variants together declare them all."""
    import dataclasses

    from config import OUTPUTS, ci_role_output
    from config.outputs import PEOPLE
    from helpers import synth_variant, with_service

    uat = environments["uat"]
    everything = with_service(dataclasses.replace(
        uat, ci=dataclasses.replace(uat.ci, github_repository="acme/app"),
        state=dataclasses.replace(uat.state, lock_table=True)),
        blue_green={"enabled": True, "test_listener_port": 8080})
    stacks = {name: synthesized.parsed(name) for name in synthesized.json}
    stacks.update(synth_variant(everything))
    declared = {kind: set() for kind in OUTPUTS}
    for name, stack in stacks.items():
        kind = name.split("-")[0]
        outputs = set(stack.get("output", {}))
        assert outputs <= set(OUTPUTS[kind]), f"{name} declares {outputs - set(OUTPUTS[kind])}"
        declared[kind] |= outputs
    assert declared == {kind: set(names) for kind, names in OUTPUTS.items()}
    role_outputs = {ci_role_output(kind) for kind in ("plan", "deploy", "image")}
    for kind, names in OUTPUTS.items():
        for name, reader in names.items():
            if reader != PEOPLE:
                spelled = "ci_role_output" if name in role_outputs else f"outputs.{name.upper()}"
                assert spelled in (ROOT / reader).read_text(), f"{reader} does not read {name}"


def test_the_stacks_declare_outputs_only_through_the_contract(environments):
    from cdktf import App, Testing

    from stacks.network import NetworkStack

    stack = NetworkStack(Testing.stub_version(App(stack_traces=False)), "network-uat",
                         environments["uat"])
    with pytest.raises(ValueError, match=r"output 'container_port' is not in config/outputs.py"):
        stack.output("container_port", 8000)
    for path in (ROOT / "stacks").glob("*.py"):
        assert path.name == "base.py" or "TerraformOutput(" not in path.read_text(), path.name
