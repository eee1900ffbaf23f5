"""Apply exactly the plans `python -m ops plan` saved, or refuse; never plan again (but see
--plan-pending).

    python -m ops apply --env uat --plans plans/uat [--stack network-uat ... | --ci]
                        [--plan-pending] [--summary FILE] [--target aws]

For each stack in deploy order, `<plans>/<stack>.tfplan` is applied in
`cdktf.out/stacks/<stack>` (synthesized there from this checkout, when not already). Before
anything is applied, every plan is checked, and the command refuses (one line, exit 2, nothing
changed):

- a missing plan file (ops.plan could not plan the stack, or never ran);
- a plan made from another synth: the configuration Terraform saved in the plan is not what the
  current checkout synthesizes (another commit, another environment file);
- a stale plan: the stack's state changed after planning (another apply ran in between). The
  plan's prior state (lineage, serial) must be the state now. Terraform checks this too, but not
  when the state was empty at plan time (hashicorp/terraform issue 27721); this check does.

`--ci` applies what CI applies: every stack but state-<env>, which holds the state bucket and
CI's own roles and is applied by an administrator only (`python -m ops up --stack`).

`--plan-pending` gets a first deploy past its missing network: a stack ops.plan left pending
(`<stack>.changes.json`: a dependency was not deployed, e.g. the app before its VPC) is planned
once the stacks before it are applied, and that plan is applied only if it creates and changes
nothing else, as a first deploy does, and creates exactly the resources of the preview ops.plan
showed for it; anything else is refused. `--summary` records it.

A plan with nothing to apply is skipped. Exit status: 0 applied (or nothing to apply), 1 a
Terraform error while applying, 2 refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

from config import EnvironmentConfig
from ops.core import OUTDIR, planned
from ops.core.runner import PlanRefused, Runner
from ops.core.synth import synthesize
from ops.errors import OpsError

# The stack kinds CI applies: state-<env> is an administrator's (CI's roles live in it).
CI_KINDS = ("network", "app")


def ci_stacks(environment: EnvironmentConfig) -> list[str]:
    """The stacks CI plans for review and applies, in deploy order."""
    return [environment.stack_names[kind] for kind in CI_KINDS]


def pending_stacks(plans: Path, stacks: list[str]) -> dict[str, dict]:
    """The records (ops.plan's `<stack>.changes.json`) of the stacks of `stacks` that ops.plan
    left pending in `plans`: no saved plan, a dependency was not deployed."""
    from ops.plan import read_records

    return {stack: found for stack, found in read_records(plans, stacks).items()
            if found["status"] == "pending" and not (plans / f"{stack}.tfplan").exists()}


def current_state(runner: Runner, stack: str) -> tuple[str, int]:
    """(lineage, serial) of `stack`'s state now (Runner.current_state, as check_state reads
    it)."""
    return runner.current_state(stack)


def require_plans(environment: EnvironmentConfig, stacks: list[str], plans: Path) -> None:
    """Refused for the first of `stacks` with no saved plan in `plans`."""
    for stack in stacks:
        plan_file = plans / f"{stack}.tfplan"
        if not plan_file.is_file():
            raise PlanRefused(f"{stack}: no saved plan {plan_file}; run `python -m ops plan "
                              f"--env {environment.name} --out {plans}` (and review it) first")


def check(runner: Runner, stacks: list[str], plans: Path) -> None:
    """Refused for the first plan that is missing, from another synth, or stale: every plan's
    synth first (no Terraform run), then every state."""
    require_plans(runner.environment, stacks, plans)
    for stack in stacks:
        runner.check_synth(stack, plans / f"{stack}.tfplan")
    for stack in stacks:
        runner.check_state(stack, plans / f"{stack}.tfplan")


def apply_saved(runner: Runner, stack: str, plan_file: Path,
                progress=lambda line: None, applyable: bool | None = None) -> None:
    """Apply the saved plan, or say there is nothing to apply (`applyable`, when the caller
    knows, else from the plan's show)."""
    if applyable is None:
        applyable = planned.applyable(runner.show_json(stack, plan_file))
    if not applyable:
        progress(f"  {stack}: nothing to apply")
        return
    progress(f"  {stack}: applied ({runner.apply_saved(stack, plan_file).seconds:.1f}s)")


def plan_pending(runner: Runner, stack: str, plans: Path, record: dict,
                 progress=lambda line: None) -> str:
    """Plan `stack`, which ops.plan left pending (`record`), now that the stacks before it are
    applied, and apply that plan if it only creates (a first deploy) and, when ops.plan could
    preview the stack, creates exactly the previewed resources; else refuse. Returns the
    Markdown line that records it."""
    reason = record["message"]
    plan_file = plans / f"{stack}.tfplan"
    runner.init(stack)
    try:  # what it plans, from the plan's own output: no `show` (a second provider start)
        changes = runner.plan_changes(stack, str(plan_file))
    except OpsError:
        plan_file.unlink(missing_ok=True)
        raise
    others = [f"{change.address} ({change.action})" for change in changes
              if change.action not in ("create", "noop", "read", "move", "import")]
    if others:
        plan_file.unlink()
        raise PlanRefused(f"{stack}: was pending when planned for review ({reason}); planned "
                          f"now, it does more than create: {', '.join(others[:3])}"
                          f"{' ...' if len(others) > 3 else ''}; plan again with `python -m "
                          f"ops plan --env {runner.environment.name}` and review it")
    created = {change.address for change in changes if change.action == "create"}
    previewed = None if record.get("changes") is None else planned.created(
        record["changes"], lambda change: change["actions"])
    if previewed is not None and created != previewed:
        plan_file.unlink()
        extra, missing = sorted(created - previewed), sorted(previewed - created)
        raise PlanRefused(f"{stack}: planned now, it would not create what its reviewed preview "
                          "showed: " + "; ".join(
                              part for part in (f"not previewed: {', '.join(extra[:3])}"
                                                if extra else "", f"previewed, not planned: "
                                                f"{', '.join(missing[:3])}" if missing else "")
                              if part) + f"; plan again with `python -m ops plan --env "
                          f"{runner.environment.name}` and review it")
    progress(f"  {stack}: was pending ({reason}); planned now: {len(created)} to create, "
             "nothing else")
    apply_saved(runner, stack, plan_file, progress,
                applyable=True if changes else None)  # no resource change: ask its show
    return (f"- `{stack}` was planned at apply time: ops.plan had it pending ({reason}). "
            f"Planned once the stacks before it were applied, it only creates ({len(created)} "
            "resources), as a first deploy does, " + (
                "exactly the resources its reviewed preview showed" if previewed is not None
                else "with no preview to compare (only its creating was checked)")
            + ", so it was applied.")


def apply(environment: EnvironmentConfig, env: dict[str, str], plans: Path,
          stacks: list[str] | None = None, outdir: Path = OUTDIR,
          progress=lambda line: None, pending: bool = False) -> list[str]:
    """Check every saved plan of `stacks` (default: all, in deploy order), then apply each.
    With `pending`, a stack ops.plan left pending is planned and applied by plan_pending() in
    its turn. Returns Markdown lines about what was not applied from a reviewed plan."""
    stacks = stacks or list(environment.stack_names.values())
    plans = Path(plans).resolve()
    runner = Runner(environment, env, outdir)
    later = pending_stacks(plans, stacks) if pending else {}
    reviewed = [stack for stack in stacks if stack not in later]
    require_plans(environment, reviewed, plans)  # before the synth: a refusal costs nothing
    progress(f"synthesizing {environment.name} to compare with the saved plans ...")
    synthesize(environment, Path(outdir), reuse=True)  # what this checkout makes, to apply in
    check(runner, reviewed, plans)
    notes = []
    for stack in stacks:
        if stack in later:
            notes.append(plan_pending(runner, stack, plans, later[stack], progress))
        else:
            apply_saved(runner, stack, plans / f"{stack}.tfplan", progress)
    return notes


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops apply` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="apply")


if __name__ == "__main__":
    sys.exit(main())
