"""ops/apply.py's checks with real Terraform on a stack of outputs only (local state, no AWS),
so that Terraform's own stale-plan refusal is exercised too; tests/test_plan_apply_e2e.py applies
an environment's stacks on the emulator."""

import json
import os

import pytest

from ops import apply as saved
from ops.core.runner import Runner
from ops.errors import Refused

STACK = "mini"


@pytest.fixture
def mini(tmp_path, environments):
    """A Runner of one stack whose configuration is one output; `write(value)` changes it."""
    folder = tmp_path / "cdktf.out" / "stacks" / STACK
    folder.mkdir(parents=True)
    deployment = Runner(environments["uat"], dict(os.environ), tmp_path / "cdktf.out")

    def write(value, resource=None):
        config = {"output": {"x": {"value": value}}}
        if resource is not None:  # a resource of Terraform's built-in provider (no download)
            config["resource"] = {"terraform_data": {"made": {"input": resource}}}
        (folder / "cdk.tf.json").write_text(json.dumps(config))

    deployment.write = write
    write(1)
    deployment.init(STACK)
    return deployment


def count_shows(deployment, monkeypatch) -> list:
    """The `terraform show` runs `deployment` makes from now on (each a provider start)."""
    shows, real = [], deployment.show
    monkeypatch.setattr(deployment, "show", lambda *args: shows.append(args) or real(*args))
    return shows


def plan_into(deployment, folder, value):
    deployment.write(value)
    folder.mkdir(exist_ok=True)
    deployment.plan(STACK, str(folder / f"{STACK}.tfplan"))
    return folder


def test_a_plan_checked_against_the_state_it_was_made_from_applies(mini, tmp_path):
    plans = plan_into(mini, tmp_path / "p1", 1)
    saved.check(mini, [STACK], plans)  # nothing raised: same synth, same state
    saved.apply_saved(mini, STACK, plans / f"{STACK}.tfplan")
    assert mini.outputs(STACK) == {"x": 1}
    assert mini.current_state(STACK)[1] == 1


def test_a_plan_made_stale_by_an_apply_in_between_is_refused_by_both_checks(mini, tmp_path):
    saved.apply_saved(mini, STACK, plan_into(mini, tmp_path / "p0", 1) / f"{STACK}.tfplan")
    stale = plan_into(mini, tmp_path / "stale", 2)
    saved.apply_saved(mini, STACK, plan_into(mini, tmp_path / "other", 3) / f"{STACK}.tfplan")
    lineage, serial = mini.current_state(STACK)
    mini.write(2)  # the synth the stale plan was made from
    with pytest.raises(Refused) as refused:
        saved.check(mini, [STACK], stale)
    assert str(refused.value) == (
        f"{STACK}: {stale / 'mini.tfplan'} is stale: the state changed after planning (serial "
        f"{serial - 1} then, {serial} now; another apply ran); plan again and review it")
    # Terraform refuses it too when asked directly; nothing is applied either way.
    with pytest.raises(Refused) as refused:
        saved.apply_saved(mini, STACK, stale / f"{STACK}.tfplan")
    assert str(refused.value) == (f"{STACK}: Terraform refused {stale / 'mini.tfplan'}: the "
                                  "state changed after planning; plan again and review it")
    assert mini.outputs(STACK) == {"x": 3}
    assert mini.current_state(STACK) == (lineage, serial)


def test_a_plan_of_another_synth_or_not_a_plan_is_refused(mini, tmp_path):
    plans = plan_into(mini, tmp_path / "p", 1)
    mini.write(5)
    with pytest.raises(Refused, match="was made from another synth than this checkout"):
        saved.check(mini, [STACK], plans)
    (plans / f"{STACK}.tfplan").write_text("not a zip")
    with pytest.raises(Refused, match="is not a plan Terraform saved"):
        saved.check(mini, [STACK], plans)


def pending_in(folder, reason="VPC 'uat-vpc' not found", previewed=None):
    """A plans folder as ops.plan leaves it for a stack it could not plan yet, with the
    addresses its preview showed created (None: no preview); returns its record."""
    folder.mkdir(exist_ok=True)
    record = {"stack": STACK, "status": "pending", "message": reason, "changes": None if
              previewed is None else [{"address": address, "actions": ["create"], "after": {}}
                                      for address in previewed]}
    (folder / f"{STACK}.changes.json").write_text(json.dumps(record))
    return record


def test_a_pending_stack_is_planned_at_apply_and_applied_only_when_it_only_creates(
        mini, tmp_path, monkeypatch):
    plans = tmp_path / "first"
    record = pending_in(plans, previewed=["terraform_data.made"])
    assert saved.pending_stacks(plans, [STACK]) == {STACK: record}
    mini.write(1, resource="one")  # a first deploy: everything is created
    lines, shows = [], count_shows(mini, monkeypatch)
    note = saved.plan_pending(mini, STACK, plans, record, lines.append)
    assert shows == []  # its changes come from the plan's own output
    assert note == (f"- `{STACK}` was planned at apply time: ops.plan had it pending (VPC "
                    "'uat-vpc' not found). Planned once the stacks before it were applied, it "
                    "only creates (1 resources), as a first deploy does, exactly the resources "
                    "its reviewed preview showed, so it was applied.")
    assert lines[0] == f"  {STACK}: was pending (VPC 'uat-vpc' not found); planned now: 1 to " \
        "create, nothing else"
    assert mini.outputs(STACK) == {"x": 1}
    # Later, a pending record must not let through a plan that changes what exists.
    state = mini.current_state(STACK)
    mini.write(1, resource="two")
    again = tmp_path / "again"
    with pytest.raises(Refused) as refused:
        saved.plan_pending(mini, STACK, again, pending_in(again, "stale record"))
    assert str(refused.value) == (
        f"{STACK}: was pending when planned for review (stale record); planned now, it does "
        "more than create: terraform_data.made (update); plan again with `python -m ops plan "
        "--env uat` and review it")
    assert mini.current_state(STACK) == state
    assert not (again / f"{STACK}.tfplan").exists()
    # A stack that has a saved plan, or was not pending, is not planned again.
    (again / f"{STACK}.tfplan").write_text("x")
    assert saved.pending_stacks(again, [STACK]) == {}


def test_ci_applies_every_stack_but_the_state_stack(environments):
    for environment in environments.values():
        names = environment.stack_names
        assert saved.ci_stacks(environment) == [names["network"], names["app"]]
        assert names["state"] not in saved.ci_stacks(environment)


def test_the_command_refuses_before_synthesizing_and_records_nothing(tmp_path, capsys):
    summary = tmp_path / "summary.md"
    from ops.cli import main

    assert main(["apply", "--env", "uat", "--ci", "--plan-pending", "--plans", str(tmp_path),
                 "--summary", str(summary)]) == Refused.exit_code
    assert capsys.readouterr().err == (
        f"error: network-uat: no saved plan {tmp_path / 'network-uat.tfplan'}; run "
        f"`python -m ops plan --env uat --out {tmp_path}` (and review it) first\n")
    assert not summary.exists()


def test_a_pending_stack_creating_other_than_its_preview_is_refused(mini, tmp_path):
    mini.write(1, resource="one")
    plans = tmp_path / "plans"
    with pytest.raises(Refused) as refused:
        saved.plan_pending(mini, STACK, plans, pending_in(plans, previewed=["terraform_data.x"]))
    assert str(refused.value) == (
        f"{STACK}: planned now, it would not create what its reviewed preview showed: not "
        "previewed: terraform_data.made; previewed, not planned: terraform_data.x; plan again "
        "with `python -m ops plan --env uat` and review it")
    assert mini.current_state(STACK)[1] == 0 and not (plans / f"{STACK}.tfplan").exists()
    # Without a preview (ops.plan could not make one) only the creating is checked.
    note = saved.plan_pending(mini, STACK, plans, pending_in(plans))
    assert "with no preview to compare (only its creating was checked)" in note


def test_apply_reads_the_show_ops_plan_kept_only_while_both_files_are_unchanged(
        mini, tmp_path, monkeypatch):
    from ops.core import planned
    from ops.plan import plan_stack

    out = tmp_path / "plans"
    mini.write(1, resource="one")
    assert plan_stack(mini, STACK, out).status == "changes"
    plan_file = out / f"{STACK}.tfplan"
    kept = planned.kept_show(plan_file)
    assert kept["applyable"] is True and kept["resource_changes"][0]["address"] == \
        "terraform_data.made"
    shows = count_shows(mini, monkeypatch)
    saved.apply_saved(mini, STACK, plan_file)
    assert shows == [] and mini.outputs(STACK) == {"x": 1}
    # Planned again over it, not by ops.plan: the JSON beside it is another plan's.
    mini.write(2, resource="one")
    mini.plan(STACK, str(plan_file))
    assert planned.kept_show(plan_file) is None
    saved.apply_saved(mini, STACK, plan_file)
    assert len(shows) == 1 and mini.outputs(STACK) == {"x": 2}
    # An edited JSON is not read either.
    mini.write(3, resource="two")
    assert plan_stack(mini, STACK, out).status == "changes"
    shown, shows[:] = out / f"{STACK}.json", []
    shown.write_text(shown.read_text().replace('"applyable":true', '"applyable":false'))
    saved.apply_saved(mini, STACK, plan_file)
    assert len(shows) == 1 and mini.outputs(STACK) == {"x": 3}
