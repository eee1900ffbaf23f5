"""ops/apply.py's checks with real Terraform on a stack of outputs only (local state, no AWS),
so that Terraform's own stale-plan refusal is exercised too; tests/test_plan_apply_e2e.py applies
an environment's stacks on the emulator."""

import json
import os

import pytest

from ops import apply as saved
from ops.deploy import Deployment

STACK = "mini"


@pytest.fixture
def mini(tmp_path, environments):
    """A Deployment of one stack whose configuration is one output; `write(value)` changes it."""
    folder = tmp_path / "cdktf.out" / "stacks" / STACK
    folder.mkdir(parents=True)
    deployment = Deployment(environments["uat"], dict(os.environ), tmp_path / "cdktf.out")

    def write(value):
        (folder / "cdk.tf.json").write_text(json.dumps({"output": {"x": {"value": value}}}))

    deployment.write = write
    write(1)
    deployment.init(STACK)
    return deployment


def plan_into(deployment, folder, value):
    deployment.write(value)
    folder.mkdir(exist_ok=True)
    deployment.plan(STACK, str(folder / f"{STACK}.tfplan"))
    return folder


def test_a_plan_checked_against_the_state_it_was_made_from_applies(mini, tmp_path):
    plans = plan_into(mini, tmp_path / "p1", 1)
    saved.check(mini, [STACK], plans, mini.outdir)  # nothing raised: same synth, same state
    saved.apply_saved(mini, STACK, plans / f"{STACK}.tfplan")
    assert mini.outputs(STACK) == {"x": 1}
    assert saved.current_state(mini, STACK)[1] == 1


def test_a_plan_made_stale_by_an_apply_in_between_is_refused_by_both_checks(mini, tmp_path):
    saved.apply_saved(mini, STACK, plan_into(mini, tmp_path / "p0", 1) / f"{STACK}.tfplan")
    stale = plan_into(mini, tmp_path / "stale", 2)
    saved.apply_saved(mini, STACK, plan_into(mini, tmp_path / "other", 3) / f"{STACK}.tfplan")
    lineage, serial = saved.current_state(mini, STACK)
    mini.write(2)  # the synth the stale plan was made from
    with pytest.raises(saved.Refused) as refused:
        saved.check(mini, [STACK], stale, mini.outdir)
    assert str(refused.value) == (
        f"{STACK}: {stale / 'mini.tfplan'} is stale: the state changed after planning (serial "
        f"{serial - 1} then, {serial} now; another apply ran); plan again and review it")
    # Terraform refuses it too when asked directly; nothing is applied either way.
    with pytest.raises(saved.Refused) as refused:
        saved.apply_saved(mini, STACK, stale / f"{STACK}.tfplan")
    assert str(refused.value) == (f"{STACK}: Terraform refused {stale / 'mini.tfplan'}: the "
                                  "state changed after planning; plan again and review it")
    assert mini.outputs(STACK) == {"x": 3}
    assert saved.current_state(mini, STACK) == (lineage, serial)


def test_a_plan_of_another_synth_or_not_a_plan_is_refused(mini, tmp_path):
    plans = plan_into(mini, tmp_path / "p", 1)
    mini.write(5)
    with pytest.raises(saved.Refused, match="was made from another synth than this checkout"):
        saved.check(mini, [STACK], plans, mini.outdir)
    (plans / f"{STACK}.tfplan").write_text("not a zip")
    with pytest.raises(saved.Refused, match="is not a plan Terraform saved"):
        saved.check(mini, [STACK], plans, mini.outdir)
