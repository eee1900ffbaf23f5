"""ops/apply.py against the local AWS emulator, on an environment of its own ("applied": its own
bucket, VPC name, CIDR and service name, so nothing collides with the other e2e modules). Its
state stack is bootstrapped first (a fresh environment plans as a preview, with no plan to
apply), then the saved plans of its network are applied and refused; the tests run in file order
and share it, and the module destroys the network at the end."""

import dataclasses
import os

import boto3
import pytest

from ops import apply as saved
from ops import drift
from ops import plan as review_plan
from ops.deploy import Deployment, synthesize

pytestmark = pytest.mark.e2e

BUCKET = "hello-world-applied-tfstate"


def _variant(uat, **state):
    return dataclasses.replace(
        uat, name="applied",
        state=dataclasses.replace(uat.state, bucket=BUCKET, **state),
        network=dataclasses.replace(uat.network, vpc_name="applied-vpc", cidr="10.60.0.0/16"),
        service=dataclasses.replace(uat.service, name="applied"))


@pytest.fixture(scope="module")
def applied(tmp_path_factory, environments, emulator):
    root = tmp_path_factory.mktemp("applied")
    environment = _variant(environments["uat"])
    synthesize(environment, root / "cdktf.out")
    deployment = Deployment(environment, dict(os.environ), root / "cdktf.out")
    deployment.apply("state-applied")  # the bootstrap (~55 s: the lifecycle configuration)
    yield deployment
    deployment.destroy("network-applied")


@pytest.fixture(scope="module")
def fresh_plans(applied, tmp_path_factory):
    """Two plans of the same environment with only its state stack, made one after the other
    before any other apply."""
    folders = []
    for _ in range(2):
        folder = tmp_path_factory.mktemp("plans")
        code, plans, _ = review_plan.plan(applied.environment, applied.env, folder,
                                          applied.outdir, synth=False)
        assert code == review_plan.CHANGES
        assert [plan.status for plan in plans] == ["no changes", "changes", "pending"]
        folders.append(folder)
    return folders


def network_exists() -> bool:
    return bool(boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": ["applied-vpc"]}])["Vpcs"])


def test_a_missing_plan_is_refused_before_anything_is_applied(applied, fresh_plans):
    with pytest.raises(saved.Refused) as refused:
        saved.apply(applied.environment, applied.env, fresh_plans[0], outdir=applied.outdir)
    # network-applied has its plan, but app-applied was pending: nothing is applied at all.
    assert str(refused.value) == (
        f"app-applied: no saved plan {fresh_plans[0] / 'app-applied.tfplan'}; run "
        f"`python -m ops.plan --env applied --out {fresh_plans[0]}` (and review it) first")
    assert not network_exists()


def test_a_plan_from_another_synth_is_refused(applied, fresh_plans):
    changed = _variant(applied.environment, noncurrent_version_expiration_days=30)
    with pytest.raises(saved.Refused) as refused:
        saved.apply(changed, applied.env, fresh_plans[0], ["state-applied"], applied.outdir)
    assert str(refused.value).startswith(
        f"state-applied: {fresh_plans[0] / 'state-applied.tfplan'} was made from another synth "
        "than this checkout")
    assert not network_exists()


def test_a_fresh_plan_applies_and_one_made_stale_by_that_apply_is_refused(applied, fresh_plans):
    first, second = fresh_plans
    lines = []
    saved.apply(applied.environment, applied.env, first, ["network-applied"], applied.outdir,
                progress=lines.append)
    assert network_exists()
    assert lines[-1].startswith("  network-applied: applied (")
    after = saved.current_state(applied, "network-applied")
    assert after[1] > 0
    # `second` was planned against the empty state, like `first`: Terraform itself cannot tell
    # it is stale (hashicorp/terraform issue 27721), ops.apply does.
    assert saved.saved_prior_state(second / "network-applied.tfplan") == ("", 0)
    with pytest.raises(saved.Refused) as refused:
        saved.apply(applied.environment, applied.env, second, ["network-applied"],
                    applied.outdir)
    assert str(refused.value) == (
        f"network-applied: {second / 'network-applied.tfplan'} is stale: the state changed after "
        f"planning (serial 0 then, {after[1]} now; another apply ran); plan again and review it")
    assert saved.current_state(applied, "network-applied") == after
    # The same check holds for a plan made against a non-empty state.
    _, plans, _ = review_plan.plan(applied.environment, applied.env, second, applied.outdir,
                                   synth=False)
    assert saved.saved_prior_state(second / "network-applied.tfplan") == after
    # What drift.yml would report from these plans: state and network are clean, the app not.
    app = plans[2].counts
    assert drift.drifted(applied.environment, second) == [
        f"app-applied: {app['add']} to add, 0 to change, 0 to destroy"]
    # With nothing to change, the plan is skipped rather than applied.
    lines.clear()
    saved.apply(applied.environment, applied.env, second, ["network-applied"], applied.outdir,
                progress=lines.append)
    assert lines[-1] == "  network-applied: nothing to apply"
    assert saved.current_state(applied, "network-applied") == after


def test_the_command_refuses_with_one_line_and_exit_2(tmp_path, capsys):
    assert saved.main(["--env", "uat", "--plans", str(tmp_path)]) == saved.REFUSED
    err = capsys.readouterr().err
    assert err == (f"error: refused: state-uat: no saved plan {tmp_path / 'state-uat.tfplan'}; "
                   f"run `python -m ops.plan --env uat --out {tmp_path}` (and review it) "
                   "first\n")
    assert saved.main(["--env", "uat", "--stack", "app-prod"]) == saved.REFUSED
    assert capsys.readouterr().err == ("error: refused: --stack app-prod: not a stack of uat; "
                                       "allowed: state-uat, network-uat, app-uat\n")
