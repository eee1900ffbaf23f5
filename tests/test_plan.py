"""ops/plan.py's summary and ops/addresses.py, without Terraform (test_plan_apply_e2e.py runs the
plans themselves against the emulator)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from ops import plan
from ops.addresses import addresses

ROOT = Path(__file__).resolve().parent.parent


def change(address, *actions, replace_paths=None, reason=None):
    entry = {"address": address, "change": {"actions": list(actions)}}
    if replace_paths is not None:
        entry["change"]["replace_paths"] = replace_paths
    if reason:
        entry["action_reason"] = reason
    return entry


SHOWN = {"resource_changes": [
    change("aws_vpc.network_vpc", "no-op"),
    change("aws_subnet.network_public_subnet_ap-south-1a", "delete", "create",
           replace_paths=[["cidr_block"]]),
    change("aws_security_group.sg", "create", "delete",
           replace_paths=[["ingress", 0, "cidr_blocks"], ["name"]]),
    change("aws_instance.tainted", "delete", "create", reason="replace_because_tainted"),
    change("aws_eip.old", "delete"),
    change("aws_route_table.rt", "update"),
    change("aws_nat_gateway.new", "create"),
    change("data.aws_vpc.read", "read"),
]}


def test_analyse_counts_like_terraform_and_names_what_forces_each_replacement():
    counts, replacements, destroys = plan.analyse(SHOWN)
    assert counts == {"add": 4, "change": 1, "destroy": 4}
    assert replacements == [
        ("aws_subnet.network_public_subnet_ap-south-1a", ["cidr_block"]),
        ("aws_security_group.sg", ["ingress[0].cidr_blocks", "name"]),
        ("aws_instance.tainted", ["replace_because_tainted"]),
    ]
    assert destroys == ["aws_eip.old"]


def stack_plan(stack, shown=None, status=None, message="", text="plan text"):
    if shown is None:
        return plan.StackPlan(stack, status, message=message)
    counts, replacements, destroys = plan.analyse(shown)
    return plan.StackPlan(stack, "changes" if any(counts.values()) else "no changes", counts,
                          replacements, destroys, text)


def test_summary_flags_replacements_and_destroys_above_everything(environments):
    uat = environments["uat"]
    plans = [stack_plan("state-uat", {"resource_changes": []}),
             stack_plan("network-uat", SHOWN, text="Terraform will perform ```these``` actions"),
             stack_plan("app-uat", status="pending",
                        message="app-uat: VPC 'uat-vpc' not found; deploy network-uat first")]
    summary = plan.summarize(uat, plans, "## Cost\n\nsome estimate")
    assert summary.startswith("<!-- ops.plan:uat -->\n## Terraform plan: `uat`")
    assert "**4 to add, 1 to change, 4 to destroy.**" in summary
    flags = ["> - **replace** `aws_subnet.network_public_subnet_ap-south-1a` in `network-uat`, "
             "forced by `cidr_block`",
             "> - **replace** `aws_security_group.sg` in `network-uat`, forced by "
             "`ingress[0].cidr_blocks`, `name`",
             "> - **destroy** `aws_eip.old` in `network-uat`"]
    table = summary.index("| stack |")
    for flag in flags:
        assert 0 < summary.index(flag) < table
    assert "| `network-uat` | changes | 4 | 1 | 4 |" in summary
    assert "| `app-uat` | pending |  |  |  |" in summary
    assert ("- `app-uat` not planned yet, a dependency is not deployed: app-uat: VPC 'uat-vpc' "
            "not found; deploy network-uat first") in summary
    assert summary.index("## Cost") < summary.index("<details>")
    # The plan text is fenced with more backticks than it contains.
    assert "````\nTerraform will perform ```these``` actions\n````" in summary
    assert "<details><summary>state-uat: no changes" in summary
    assert plan.exit_code(plans) == plan.CHANGES


def test_exit_codes():
    nothing = stack_plan("a", {"resource_changes": []})
    changes = stack_plan("b", SHOWN)
    pending = stack_plan("c", status="pending", message="x")
    error = stack_plan("d", status="error", message="d: Error: boom")
    assert plan.exit_code([nothing]) == 0
    assert plan.exit_code([nothing, changes]) == 2
    assert plan.exit_code([nothing, pending]) == 2
    assert plan.exit_code([changes, pending, error]) == 1


def test_a_huge_plan_is_cut_to_fit_one_comment(environments):
    huge = stack_plan("network-uat", SHOWN, text="x" * 200_000)
    summary = plan.summarize(environments["uat"], [huge])
    assert len(summary) < 65536
    assert "cut to fit a comment" in summary


def on_disk(synthesized, stack) -> dict:
    """The cdk.tf.json written by the synth (Testing.synth's JSON has no "//" metadata)."""
    return json.loads((synthesized.outdir / "stacks" / stack / "cdk.tf.json").read_text())


def test_addresses_maps_construct_paths_to_terraform_addresses(synthesized):
    network = addresses(on_disk(synthesized, "network-uat"))
    assert network["network-uat/network/vpc"] == "aws_vpc.network_vpc"
    assert network["network-uat/network/public_subnet_ap-south-1a"] == \
        "aws_subnet.network_public_subnet_ap-south-1a"
    assert not any(path.startswith("(no construct path)") for path in network)
    config = on_disk(synthesized, "network-uat")
    assert sorted(network.values()) == sorted(
        [f"{kind}.{name}" for kind, named in config["resource"].items() for name in named]
        + [f"data.{kind}.{name}" for kind, named in config.get("data", {}).items()
           for name in named])
    app = addresses(on_disk(synthesized, "app-uat"))
    assert app["app-uat/network/vpc"] == "data.aws_vpc.network_vpc"
    assert app["app-uat/load_balancer/alb"] == "aws_lb.load_balancer_alb"


def test_addresses_cli_prints_json_and_refuses_an_unknown_stack(synthesized):
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    result = subprocess.run([sys.executable, "-m", "ops.addresses", "network-uat", "--json",
                             "--outdir", str(synthesized.outdir)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == addresses(on_disk(synthesized, "network-uat"))
    result = subprocess.run([sys.executable, "-m", "ops.addresses", "network-nowhere",
                             "--outdir", str(synthesized.outdir)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("error: network-nowhere: no such stack; stacks: ")


def test_summary_shows_the_cost_change_of_the_plan_itself(synthesized, environments,
                                                          tmp_path):
    import gzip

    from ops.plan import cost_section

    # A recorded plan of uat moving to one NAT per AZ (tests/fixtures/plans/README.md), where
    # python -m ops.plan writes it: <stack>.json next to summary.md.
    recorded = Path(__file__).parent / "fixtures" / "plans" / "uat-one-nat-per-az"
    for packed in recorded.glob("*.json.gz"):
        (tmp_path / packed.name.removesuffix(".gz")).write_bytes(
            gzip.decompress(packed.read_bytes()))
    section = cost_section(environments["uat"], tmp_path, synthesized.outdir)
    assert section.startswith("## Cost\n\nEstimate for `uat`:")
    assert "Change of this plan:" in section
    assert "NAT gateway hours" in section and "40.32 ->          120.96  (80.64)" in section
    (tmp_path / "network-uat.json").unlink()  # network-uat pending: counted as synthesized
    assert "not planned yet, counted as created as synthesized: network-uat" in cost_section(
        environments["uat"], tmp_path, synthesized.outdir)


def test_a_synth_is_reused_only_when_written_from_the_same_inputs(tmp_path, environments):
    """ops.plan skips the synth when cdktf.out holds the environment's stacks, written from the
    same config and code and not edited since; anything else synthesizes again."""
    import dataclasses

    from ops.deploy import synthesize

    uat, outdir = environments["uat"], tmp_path / "cdktf.out"
    written = outdir / "stacks" / "network-uat" / "cdk.tf.json"
    assert synthesize(uat, outdir, reuse=True)  # nothing there yet
    assert not synthesize(uat, outdir, reuse=True)
    written.write_text(written.read_text().replace("10.0.0.0/16", "10.9.0.0/16"))
    assert synthesize(uat, outdir, reuse=True)  # edited since
    assert "10.9.0.0/16" not in written.read_text()
    wider = dataclasses.replace(uat, network=dataclasses.replace(uat.network, cidr="10.8.0.0/16"))
    assert synthesize(wider, outdir, reuse=True)  # another config
    assert '"10.8.0.0/16"' in written.read_text()


def test_a_failed_run_is_typed_by_its_cause_not_by_its_words(environments, tmp_path):
    """ops.plan tells "pending" (deploy an earlier stack first) from "error" by the error's type."""
    from ops.deploy import DependencyMissing, Deployment, DeployError, StateBucketMissing

    deployment = Deployment(environments["uat"], {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
                            tmp_path)
    vpc = deployment.explain("app-uat", "│ Error: no matching EC2 VPC found\n")
    bucket = deployment.explain("network-uat", "Error: S3 bucket \"x\" does not exist.")
    other = deployment.explain("app-uat", "│ Error: creating ECS Service: boom\n")
    assert (type(vpc), vpc.needs) == (DependencyMissing, "network-uat")
    assert (type(bucket), bucket.needs) == (StateBucketMissing, "state-uat")
    assert type(other) is DeployError and str(other).startswith(
        "app-uat: Error: creating ECS Service: boom (run terraform in ")
