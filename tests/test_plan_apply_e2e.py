"""ops/plan.py and ops/apply.py end to end against the local AWS emulator: the reviewed-change
workflow (plan in the pull request, apply exactly that plan after merge), on one environment of
its own ("review": its own VPC name, CIDR, state bucket and service name, so nothing collides with
another module's stacks in the same emulator).

The tests run in file order and share the environment as it grows (a fresh one's preview is
test_ci_access_e2e.py's): state only (two plans: one applied from its saved file, the other
refused as stale, and every other refusal before anything is applied), network applied, app applied (no changes), then
a change forcing replacements. One environment serves both tools because each of its stages is
what both need: a bootstrap and a network apply cost ~1 min each (bench/README.md "Test
speed"). Nothing is destroyed at the end: the names are the module's own, and the worker's
emulator goes with it."""

import dataclasses
import os
from pathlib import Path

import boto3
import pytest

from helpers import resource_count
from ops import apply as saved
from ops import cli
from ops import drift
from ops import plan as review_plan
from ops.core.planned import saved_prior_state
from ops.core.runner import PlanRefused, Runner
from ops.core.synth import synthesize
from ops.errors import EXIT_REFUSED

pytestmark = pytest.mark.e2e

BUCKET = "hello-world-review-tfstate"


def _variant(uat, state=None, network=None):
    return dataclasses.replace(
        uat, name="review",
        state=dataclasses.replace(uat.state, bucket=BUCKET, **(state or {})),
        network=dataclasses.replace(uat.network, vpc_name="review-vpc", cidr="10.50.0.0/16",
                                    **(network or {})),
        service=dataclasses.replace(uat.service, name="review"))


@pytest.fixture(scope="module")
def review(tmp_path_factory, environments, emulator):
    """The review environment synthesized into a tmp cdktf.out (the state stack's local state
    lands beside it), nothing applied yet."""
    root = tmp_path_factory.mktemp("review")
    environment = _variant(environments["uat"])
    synthesize(environment, root / "cdktf.out")
    return Runner(environment, dict(os.environ), root / "cdktf.out")


def run_plan(deployment, out: Path, environment=None):
    return review_plan.plan(environment or deployment.environment, deployment.env, out,
                            deployment.outdir, synth=environment is not None)


def network_exists() -> bool:
    return bool(boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": ["review-vpc"]}])["Vpcs"])


@pytest.fixture(scope="module")
def fresh_plans(review, tmp_path_factory):
    """The state stack applied (~55 s: the provider waits for the lifecycle configuration), then
    two plans of the environment, one after the other, before any other apply: (folder, plans,
    summary) each."""
    review.apply("state-review")
    made = []
    for _ in range(2):
        folder = tmp_path_factory.mktemp("plans")
        code, plans, summary = run_plan(review, folder)
        assert code == review_plan.CHANGES
        made.append((folder, plans, summary))
    return made


def test_with_the_state_bucket_every_network_resource_is_an_add(review, fresh_plans):
    for _, plans, summary in fresh_plans:
        state, network, app = plans
        assert state.status == "no changes"
        assert network.status == "changes"
        assert network.counts == {"add": resource_count(review, "network-review"), "change": 0,
                                  "destroy": 0}
        assert network.replacements == [] and network.destroys == []
        assert app.status == "pending"
        assert app.message == ("app-review: VPC 'review-vpc' not found; deploy network-review "
                               "first (`make up` deploys state, network, app in order)")
        # What the app would create is previewed, so a first deploy's app is reviewed too.
        assert app.counts == {"add": resource_count(review, "app-review"), "change": 0,
                              "destroy": 0}
        assert app.plan_file is None and "Previewed instead" in summary.read_text()
        text = summary.read_text()
        assert (f"**{network.counts['add'] + app.counts['add']} to add, 0 to change, 0 to "
                "destroy.**") in text
        assert "[!WARNING]" not in text
        assert f"| `network-review` | changes | {network.counts['add']} | 0 | 0 |" in text
    # Two plans of the same state compare equal (what deploy.yml checks against the review):
    # nothing that differs from run to run is in the reviewed changes.
    (_, _, first_summary), (second, _, _) = fresh_plans
    stacks = ["network-review", "app-review"]
    reviewed = review_plan.reviewed_in(first_summary.read_text(), "review")
    assert review_plan.differences(reviewed, review_plan.read_records(second, stacks),
                                   stacks) == []


def test_a_missing_plan_is_refused_before_anything_is_applied(review, fresh_plans):
    folder = fresh_plans[0][0]
    with pytest.raises(PlanRefused) as refused:
        saved.apply(review.environment, review.env, folder, outdir=review.outdir)
    # network-review has its plan, but app-review was pending: nothing is applied at all.
    assert str(refused.value) == (
        f"app-review: no saved plan {folder / 'app-review.tfplan'}; run "
        f"`python -m ops plan --env review --out {folder}` (and review it) first")
    assert not network_exists()


def test_a_plan_from_another_synth_is_refused(review, fresh_plans):
    folder = fresh_plans[0][0]
    changed = _variant(review.environment, state={"noncurrent_version_expiration_days": 30})
    with pytest.raises(PlanRefused) as refused:
        saved.apply(changed, review.env, folder, ["state-review"], review.outdir)
    assert str(refused.value).startswith(
        f"state-review: {folder / 'state-review.tfplan'} was made from another synth "
        "than this checkout")
    assert not network_exists()


def test_a_fresh_plan_applies_and_one_made_stale_by_that_apply_is_refused(review, fresh_plans):
    (first, _, _), (second, _, _) = fresh_plans
    lines = []
    saved.apply(review.environment, review.env, first, ["network-review"], review.outdir,
                progress=lines.append)
    assert network_exists()
    assert lines[-1].startswith("  network-review: applied (")
    after = saved.current_state(review, "network-review")
    assert after[1] > 0
    # `second` was planned against the empty state, like `first`: Terraform itself cannot tell
    # it is stale (hashicorp/terraform issue 27721), ops.apply does.
    assert saved_prior_state(second / "network-review.tfplan") == ("", 0)
    with pytest.raises(PlanRefused) as refused:
        saved.apply(review.environment, review.env, second, ["network-review"], review.outdir)
    assert str(refused.value) == (
        f"network-review: {second / 'network-review.tfplan'} is stale: the state changed after "
        f"planning (serial 0 then, {after[1]} now; another apply ran); plan again and review it")
    assert saved.current_state(review, "network-review") == after
    # The same check holds for a plan made against a non-empty state.
    _, plans, _ = run_plan(review, second)
    assert saved_prior_state(second / "network-review.tfplan") == after
    # What drift.yml would report from these plans: state and network are clean, the app not.
    app = plans[2].counts
    assert drift.drifted(review.environment, second) == [
        f"app-review: {app['add']} to add, 0 to change, 0 to destroy"]
    # With nothing to change, the plan is skipped rather than applied.
    lines.clear()
    saved.apply(review.environment, review.env, second, ["network-review"], review.outdir,
                progress=lines.append)
    assert lines[-1] == "  network-review: nothing to apply"
    assert saved.current_state(review, "network-review") == after


def test_after_apply_the_plan_has_no_changes_and_exits_0(review, fresh_plans, tmp_path):
    # A first deploy: the app was pending in the reviewed plans (no VPC yet); with the network
    # applied from its saved plan above, it is planned now and applied, as it only creates.
    first = fresh_plans[0][0]
    notes = saved.apply(review.environment, review.env, first, ["app-review"], review.outdir,
                        pending=True)
    assert notes == [f"- `app-review` was planned at apply time: ops.plan had it pending "
                     f"({fresh_plans[0][1][2].message}). Planned once the stacks before it were "
                     f"applied, it only creates ({resource_count(review, 'app-review')} "
                     "resources), as a first deploy does, exactly the resources its reviewed "
                     "preview showed, so it was applied."]
    code, plans, summary = run_plan(review, tmp_path)
    assert [plan.status for plan in plans] == ["no changes"] * 3, \
        [review_plan.describe(plan) for plan in plans]
    assert code == review_plan.NO_CHANGES
    assert "No changes." in summary.read_text()
    assert review_plan.main(["--env", "no-such-env"]) == 2


def test_a_change_forcing_replacement_is_flagged_at_the_top(review, tmp_path):
    narrower = _variant(review.environment, network={"subnet_prefix_length": 25})
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


def test_the_apply_command_refuses_with_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["apply", "--env", "uat", "--plans", str(tmp_path)]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert err == (f"error: state-uat: no saved plan {tmp_path / 'state-uat.tfplan'}; "
                   f"run `python -m ops plan --env uat --out {tmp_path}` (and review it) "
                   "first\n")
    assert cli.main(["apply", "--env", "uat", "--stack", "app-prod"]) == EXIT_REFUSED
    assert capsys.readouterr().err == ("error: --stack app-prod: not a stack of uat; "
                                       "allowed: state-uat, network-uat, app-uat\n")
