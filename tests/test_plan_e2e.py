"""ops/plan.py end to end against the local AWS emulator, on an environment of its own ("review":
its own VPC name, CIDR, state bucket and service name, so nothing collides with the uat and prod
stacks test_deploy_e2e.py deploys in the same emulator). The tests run in file order and share
one deployment: fresh (a preview), state only, everything applied, then a change forcing
replacements. The
module's fixture destroys the app and network at the end."""

import dataclasses
import json
import os
from pathlib import Path

import pytest

from ops import plan as review_plan
from ops.deploy import Deployment, synthesize

pytestmark = pytest.mark.e2e


def _variant(uat, **network):
    return dataclasses.replace(
        uat, name="review",
        state=dataclasses.replace(uat.state, bucket="hello-world-review-tfstate"),
        network=dataclasses.replace(uat.network, vpc_name="review-vpc", cidr="10.50.0.0/16",
                                    **network),
        service=dataclasses.replace(uat.service, name="review"))


@pytest.fixture(scope="module")
def review(tmp_path_factory, environments, emulator):
    """The review environment synthesized into a tmp cdktf.out (the state stack's local state
    lands beside it); at the end its app and network are destroyed."""
    root = tmp_path_factory.mktemp("review")
    environment = _variant(environments["uat"])
    synthesize(environment, root / "cdktf.out")
    deployment = Deployment(environment, dict(os.environ), root / "cdktf.out")
    yield deployment
    for stack in ("app-review", "network-review"):
        if (root / f"applied-{stack}").exists():
            deployment.destroy(stack)


def run_plan(deployment, out: Path, environment=None):
    return review_plan.plan(environment or deployment.environment, deployment.env, out,
                            deployment.outdir, synth=environment is not None)


def resource_count(deployment, stack) -> int:
    synthesized = json.loads((deployment.stack_dir(stack) / "cdk.tf.json").read_text())
    return sum(len(resources) for resources in synthesized.get("resource", {}).values())


def test_a_fresh_environment_gets_a_preview_of_every_stack(review, tmp_path):
    code, plans, summary = run_plan(review, tmp_path)
    assert code == review_plan.CHANGES
    assert [plan.status for plan in plans] == ["preview"] * 3, \
        [review_plan.describe(plan) for plan in plans]
    for plan in plans:
        assert plan.counts == {"add": resource_count(review, plan.stack), "change": 0,
                               "destroy": 0}
        assert plan.plan_file is None  # a preview is never applied
        shown = json.loads(plan.json_file.read_text())
        # Resources are created; data sources (deferred in a preview) are read at apply.
        assert {(c["mode"], tuple(c["change"]["actions"])) for c in shown["resource_changes"]
                } <= {("managed", ("create",)), ("data", ("read",))}
    text = summary.read_text()
    assert text.startswith(review_plan.marker("review"))
    assert "Preview: the state bucket does not exist yet; nothing here can be applied." in text
    assert "- **preview** (every stack marked so): state bucket 'hello-world-review-tfstate' " \
        "does not exist yet" in text
    assert "<details><summary>app-review: preview" in text


def test_with_the_state_bucket_every_network_resource_is_an_add(review, tmp_path):
    review.apply("state-review")  # ~55 s: the provider waits for the lifecycle configuration
    code, plans, summary = run_plan(review, tmp_path)
    state, network, app = plans
    assert code == review_plan.CHANGES
    assert state.status == "no changes"
    assert network.status == "changes"
    assert network.counts == {"add": resource_count(review, "network-review"), "change": 0,
                              "destroy": 0}
    assert network.replacements == [] and network.destroys == []
    assert app.status == "pending"
    assert app.message == ("app-review: VPC 'review-vpc' not found; deploy network-review first "
                           "(`make up` deploys state, network, app in order)")
    text = summary.read_text()
    assert f"**{network.counts['add']} to add, 0 to change, 0 to destroy.**" in text
    assert "[!WARNING]" not in text
    assert f"| `network-review` | changes | {network.counts['add']} | 0 | 0 |" in text


def test_after_apply_the_plan_has_no_changes_and_exits_0(review, tmp_path):
    for stack in ("network-review", "app-review"):
        (review.outdir.parent / f"applied-{stack}").touch()
        review.apply(stack)
    code, plans, summary = run_plan(review, tmp_path)
    assert [plan.status for plan in plans] == ["no changes"] * 3, \
        [review_plan.describe(plan) for plan in plans]
    assert code == review_plan.NO_CHANGES
    assert "No changes." in summary.read_text()
    assert review_plan.main(["--env", "no-such-env"]) == review_plan.ERROR


def test_a_change_forcing_replacement_is_flagged_at_the_top(review, tmp_path):
    narrower = _variant(review.environment, subnet_prefix_length=25)
    code, plans, summary = run_plan(review, tmp_path, environment=narrower)
    state, network, app = plans
    assert code == review_plan.CHANGES
    replaced = dict(network.replacements)
    assert replaced["aws_subnet.network_public_subnet_ap-south-1a"] == ["cidr_block"]
    assert len([a for a in replaced if a.startswith("aws_subnet.")]) == 6
    text = summary.read_text()
    flag = ("> - **replace** `aws_subnet.network_public_subnet_ap-south-1a` in `network-review`, "
            "forced by `cidr_block`")
    assert flag in text
    # At the top: before the table and before any plan text.
    assert text.index(flag) < text.index("| stack |") < text.index("<details>")
    assert "-/+ resource \"aws_subnet\" \"network_public_subnet_ap-south-1a\"" in network.text
    assert network.counts["destroy"] == network.counts["add"] >= 6
