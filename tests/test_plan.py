"""ops/plan.py's summary and ops/addresses.py, without Terraform (test_plan_apply_e2e.py runs the
plans themselves against the emulator)."""

import dataclasses
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
    # The one command line; the old form above (ops.addresses --outdir) is its alias.
    result = subprocess.run([sys.executable, "-m", "ops", "addresses", "network-nowhere",
                             "--stacks", str(synthesized.outdir)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: network-nowhere: no such stack; stacks: ")


def test_summary_shows_the_cost_change_of_the_plan_itself(synthesized, environments,
                                                          tmp_path):
    import gzip

    from ops.plan import cost_section

    # A recorded plan of uat moving to one NAT per AZ (tests/fixtures/plans/README.md), where
    # python -m ops plan writes it: <stack>.json next to summary.md.
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

    from ops.core.synth import synthesize

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
    from ops.core.runner import DependencyMissing, Runner, StateBucketMissing, TerraformError

    deployment = Runner(environments["uat"], {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
                        tmp_path)
    vpc = deployment.explain("app-uat", "│ Error: no matching EC2 VPC found\n")
    bucket = deployment.explain("network-uat", "Error: S3 bucket \"x\" does not exist.")
    other = deployment.explain("app-uat", "│ Error: creating ECS Service: boom\n")
    assert (type(vpc), vpc.needs) == (DependencyMissing, "network-uat")
    assert (type(bucket), bucket.needs) == (StateBucketMissing, "state-uat")
    assert type(other) is TerraformError and str(other).startswith(
        "app-uat: Error: creating ECS Service: boom (run terraform in ")


def test_a_locked_state_names_who_holds_it_and_force_unlock_only_for_a_gone_run(environments,
                                                                             tmp_path):
    from ops.core.runner import Runner

    deployment = Runner(environments["uat"], {}, tmp_path)
    output = """
Error: Error acquiring the state lock

Error message: operation error S3: PutObject, https response error StatusCode: 412,
PreconditionFailed: At least one of the pre-conditions you specified did not hold
Lock Info:
  ID:        6a1f6c1e-0f5d-4b0e-9d2c-3c1c9a1e2b3d
  Path:      acme-tfstate/uat/app-uat.tfstate
  Operation: OperationTypePlan
  Who:       runner@fv-az123-456
  Version:   1.11.4
  Created:   2026-12-07 02:10:11.123456 +0000 UTC
  Info:
"""
    message = str(deployment.explain("app-uat", output))
    assert message.startswith("app-uat: the state is locked by another run (runner@fv-az123-456, "
                              "plan, since 2026-12-07 02:10:11.123456 +0000 UTC); wait for it to "
                              "finish and run again. Only if that run is gone")
    assert message.endswith("force-unlock 6a1f6c1e-0f5d-4b0e-9d2c-3c1c9a1e2b3d")


# --- Security first, reviewed changes (issue 19 items 14 and Deliver 3) --------------------------

PROVIDER = "aws_iam_openid_connect_provider.ci_access_github_oidc_provider"
TRUST = ('${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", '
         '"Action" = "sts:AssumeRoleWithWebIdentity", "Principal" = {"Federated" = '
         f'{PROVIDER}.arn}}, "Condition" = {{"StringEquals" = {{'
         '"token.actions.githubusercontent.com:aud" = "sts.amazonaws.com", '
         '"token.actions.githubusercontent.com:sub" = "repo:acme/hello:environment:uat"}}}]})}')
# As cdk.tf.json holds it: the trust policy names the provider made in the same apply.
CONFIG = {"resource": {"aws_iam_role": {"ci_access_deploy_role": {
    "assume_role_policy": TRUST, "name": "hello-world-uat-github-deploy"}},
    "aws_vpc_security_group_ingress_rule": {"from_alb": {
        "referenced_security_group_id": "${aws_security_group.alb.id}"}}}}


def resource(address, actions, before=None, after=None, unknown=None, sensitive=None):
    kind, name = address.split(".")
    return {"address": address, "mode": "managed", "type": kind, "name": name,
            "change": {"actions": actions, "before": before, "after": after,
                       "after_unknown": unknown or {}, "after_sensitive": sensitive or {}}}


POLICY_BEFORE = json.dumps({"Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}]})
POLICY_AFTER = json.dumps({"Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"},
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]})
BUCKET_POLICY = json.dumps({"Statement": [
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b"},
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::b/*"}]})
SECURITY_SHOWN = {"resource_changes": [
    resource("aws_iam_role.ci_access_deploy_role", ["create"],
             after={"name": "hello-world-uat-github-deploy"},
             unknown={"assume_role_policy": True, "arn": True}),
    resource("aws_iam_role_policy.ci_access_deploy_role_policy", ["update"],
             before={"role": "r", "policy": POLICY_BEFORE},
             after={"role": "r", "policy": POLICY_AFTER}),
    resource("aws_security_group.alb", ["create"], after={"ingress": [
        {"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": ["0.0.0.0/0"]}],
        "egress": []}),
    resource("aws_lb.alb", ["create"], after={"internal": False}),
    resource("aws_s3_bucket_policy.b", ["create"], after={"bucket": "b", "policy": BUCKET_POLICY}),
    resource("aws_security_group.service", ["create"], after={"name": "svc"},
             unknown={"ingress": True, "egress": True}),  # its rules are resources of their own
    resource("aws_vpc_security_group_ingress_rule.from_alb", ["create"],
             after={"ip_protocol": "tcp", "from_port": 8000, "to_port": 8000},
             unknown={"referenced_security_group_id": True}),
    resource("aws_vpc.network_vpc", ["create"], after={"cidr_block": "10.0.0.0/16"}),
    resource("aws_iam_role.unchanged_trust", ["update"],
             before={"assume_role_policy": POLICY_BEFORE, "tags": {}},
             after={"assume_role_policy": POLICY_BEFORE, "tags": {"a": "b"}}),
]}


def test_security_changes_show_who_may_assume_even_when_known_only_after_apply():
    lines = plan.security_changes("state-uat", SECURITY_SHOWN, CONFIG)
    text = "\n".join(lines)
    assert lines[0] == ("- **create** `aws_iam_role.ci_access_deploy_role` in `state-uat` "
                        "(IAM role: who may assume it)")
    assert lines[1] == (
        f"  - **Allow** `sts:AssumeRoleWithWebIdentity` by Federated `${{{PROVIDER}.arn}}` if "
        "StringEquals `token.actions.githubusercontent.com:aud` = `sts.amazonaws.com` and "
        "StringEquals `token.actions.githubusercontent.com:sub` = "
        "`repo:acme/hello:environment:uat`")
    # An update shows only what it changes in the document: the added statement.
    assert ("  - added: **Allow** `iam:PassRole` on `*`") in lines
    assert "removed:" not in text
    assert "from `0.0.0.0/0` :warning: **open to the internet**" in text
    assert "- **create** `aws_lb.alb` in `state-uat` (load balancer exposure)\n" \
        "  - **internet-facing** :warning:" in text
    assert "aws_vpc.network_vpc" not in text and "unchanged_trust" not in text  # no access change
    assert "aws_security_group.service" not in text
    assert "  - **Deny** `s3:*` by `*` on `arn:aws:s3:::b`" in lines  # protects: not flagged
    assert ("  - **Allow** `s3:GetObject` by AWS `*` :warning: **anyone** on "
            "`arn:aws:s3:::b/*`") in lines
    assert "  - ingress tcp port 8000 from `${aws_security_group.alb.id}`" in text
    # Without the synthesized configuration, the unknown document is not invented.
    assert "`(known after apply)`" in "\n".join(plan.security_changes("s", SECURITY_SHOWN))


def test_the_security_section_leads_and_is_never_cut(environments):
    security = plan.security_changes("state-uat", SECURITY_SHOWN, CONFIG)
    counts, replacements, destroys = plan.analyse(SECURITY_SHOWN)
    huge = plan.StackPlan("state-uat", "changes", counts, replacements, destroys,
                          "x" * 200_000, security=security,
                          changes=plan.reviewed_changes(SECURITY_SHOWN))
    summary = plan.summarize(environments["uat"], [huge, stack_plan("network-uat", SHOWN)])
    assert len(summary) < 65536 and "cut to fit a comment" in summary
    section = summary.index("### Security-relevant changes")
    assert section < summary.index("[!WARNING]") < summary.index("| stack |")
    for line in security:
        assert line in summary[:summary.index("| stack |")]
    # state-<env> changes are left to an administrator, with the command.
    assert ("an administrator reviews and applies them with `python -m ops up --env uat "
            "--stack state-uat`") in summary
    assert "the whole plan is state-uat.tfplan in this run's plans" in summary


def test_a_preview_counts_in_its_text_what_its_table_counts_and_names_no_plan_file(environments):
    text = ("Terraform will perform the following actions:\n\n"
            "  # aws_vpc.network_vpc will be created\n"
            "  + resource \"aws_vpc\" \"network_vpc\" {\n"
            "      + cidr_block = \"10.0.0.0/16\"\n"
            "      + tags       = {\n          + \"Name\" = \"uat-vpc\"\n        }\n    }\n\n"
            f"  # {plan.PREVIEW_PLACEHOLDER} will be created\n"
            "  + resource \"terraform_data\" \"preview_defers_lookups\" {\n"
            "      + id = (known after apply)\n    }\n\n"
            "Plan: 2 to add, 0 to change, 0 to destroy.\n")
    counts = {"add": 1, "change": 0, "destroy": 0}
    cleaned = plan._without_placeholder(text, counts)
    assert "preview_defers_lookups" not in cleaned
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in cleaned
    assert "  # aws_vpc.network_vpc will be created" in cleaned and "\"uat-vpc\"" in cleaned
    preview = plan.StackPlan("network-uat", "preview", counts, text=cleaned + "x" * 100_000,
                             message="state bucket 'b' does not exist yet")
    summary = plan.summarize(environments["uat"], [preview])
    assert "| `network-uat` | preview | 1 | 0 | 0 |" in summary
    assert ".tfplan" not in summary
    assert "the whole preview is network-uat.json in this run's plans" in summary


def reviewed_stack(shown, status="changes"):
    return {"stack": "app-uat", "status": status, "message": "",
            "changes": plan.reviewed_changes(shown)}


def test_the_same_plan_compares_equal_and_a_changed_attribute_is_named():
    shown = {"resource_changes": [
        resource("aws_ecs_service.app", ["update"], before={"desired_count": 1},
                 after={"desired_count": 2, "tags": {"a": "b"}}, unknown={"arn": True}),
        resource("aws_db.secret", ["create"], after={"password": "hunter2"},
                 sensitive={"password": True}),
        resource("aws_vpc.same", ["no-op"], before={}, after={})]}
    reviewed = {"app-uat": reviewed_stack(shown)}
    assert reviewed["app-uat"]["changes"][0] == {
        "address": "aws_db.secret", "actions": ["create"], "after": {"password": "(sensitive)"}}
    assert reviewed["app-uat"]["changes"][1]["after"] == {
        "arn": "(known after apply)", "desired_count": 2, "tags": {"a": "b"}}
    assert plan.differences(reviewed, {"app-uat": reviewed_stack(shown)}, ["app-uat"]) == []
    # The state's serial or lineage are not compared: only the planned changes.
    changed = json.loads(json.dumps(shown))
    changed["resource_changes"][0]["change"]["after"]["desired_count"] = 3
    changed["resource_changes"].append(resource("aws_eip.extra", ["delete"], before={}))
    assert plan.differences(reviewed, {"app-uat": reviewed_stack(changed)}, ["app-uat"]) == [
        "app-uat: aws_ecs_service.app.desired_count: 2 reviewed, 3 now",
        "app-uat: aws_eip.extra: delete planned now, not in the reviewed plan"]
    assert plan.differences(reviewed, {"app-uat": reviewed_stack({}, "pending")},
                            ["app-uat"]) == ["app-uat: changes in the reviewed plan, pending now"]


def test_the_reviewed_changes_travel_hidden_in_the_comment(environments):
    shown = {"resource_changes": [resource("aws_ecs_service.app", ["update"], before={},
                                           after={"desired_count": 2})]}
    planned = plan.StackPlan("app-uat", "changes", {"add": 0, "change": 1, "destroy": 0},
                             changes=plan.reviewed_changes(shown))
    summary = plan.summarize(environments["uat"], [planned])
    records = plan.reviewed_in(summary, "uat")
    assert records == {"app-uat": plan.record(planned)}
    assert plan.reviewed_in(summary, "prod") is None
    assert f"`app-uat` {plan.digest(plan.record(planned))}" in summary
    # Too large to keep whole: the digest still tells an equal plan from a different one.
    big = dataclasses.replace(planned, changes=[
        {"address": f"aws_x.r{n}", "actions": ["create"], "after": {"v": os.urandom(40).hex()}}
        for n in range(400)])
    (kept,) = plan.reviewed_in(plan.summarize(environments["uat"], [big]), "uat").values()
    assert "changes" not in kept
    assert plan.differences({"app-uat": kept}, {"app-uat": plan.record(big)}, ["app-uat"]) == []
    assert plan.differences({"app-uat": kept}, {"app-uat": plan.record(planned)},
                            ["app-uat"])[0].startswith("app-uat: its planned changes differ")


def test_a_pending_stack_shows_its_preview_and_counts_it(environments):
    shown = {"resource_changes": [resource("aws_lb.alb", ["create"], after={"internal": False})]}
    counts, _, _ = plan.analyse(shown)
    pending = plan.StackPlan("app-uat", "pending", counts, text="the preview",
                             message="app-uat: VPC 'uat-vpc' not found",
                             security=plan.security_changes("app-uat", shown),
                             changes=plan.reviewed_changes(shown))
    summary = plan.summarize(environments["uat"], [pending])
    assert "**1 to add, 0 to change, 0 to destroy.**" in summary
    assert "| `app-uat` | pending | 1 | 0 | 0 |" in summary
    assert "- **create** `aws_lb.alb` in `app-uat` (load balancer exposure)" in summary
    assert ("- `app-uat` not planned yet, a dependency is not deployed: app-uat: VPC 'uat-vpc' "
            "not found. Previewed instead (against an empty state, its lookups deferred): on "
            "deploy, its plan is applied once the stacks before it are, only if it creates "
            "exactly what the preview shows") in summary
    assert plan.reviewed_in(summary, "uat")["app-uat"]["changes"] == pending.changes
