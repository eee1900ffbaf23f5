"""Apply exactly the plans `python -m ops.plan` saved, or refuse; never plan again (but see
--plan-pending).

    python -m ops.apply --env uat --plans plans/uat [--stack network-uat ... | --ci]
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
CI's own roles and is applied by an administrator only (`python -m ops.deploy up --stack`).

`--plan-pending` gets a first deploy past its missing network: a stack ops.plan left pending
(`<stack>.changes.json`: a dependency was not deployed, e.g. the app before its VPC) is planned
once the stacks before it are applied, and that plan is applied only if it creates and changes
nothing else, as a first deploy does, and creates exactly the resources of the preview ops.plan
showed for it; anything else is refused. `--summary` records it.

A plan with nothing to apply is skipped. Exit status: 0 applied (or nothing to apply), 1 a
Terraform error while applying, 2 refused.
"""

from __future__ import annotations

import json
import sys
import time
import zipfile
from pathlib import Path

from config import EnvironmentConfig
from ops.deploy import OUTDIR, Deployment, DeployError, synthesize

APPLIED, ERROR, REFUSED = 0, 1, 2
# The stack kinds CI applies: state-<env> is an administrator's (CI's roles live in it).
CI_KINDS = ("network", "app")


class Refused(Exception):
    """A plan that must not be applied; the message is the one line shown."""


def ci_stacks(environment: EnvironmentConfig) -> list[str]:
    """The stacks CI plans for review and applies, in deploy order."""
    return [environment.stack_names[kind] for kind in CI_KINDS]


def pending_stacks(plans: Path, stacks: list[str]) -> dict[str, dict]:
    """The records (ops.plan's `<stack>.changes.json`) of the stacks of `stacks` that ops.plan
    left pending in `plans`: no saved plan, a dependency was not deployed."""
    from ops.plan import read_records

    return {stack: found for stack, found in read_records(plans, stacks).items()
            if found["status"] == "pending" and not (plans / f"{stack}.tfplan").exists()}


def _created(changes: list[dict], actions_of=lambda change: change["actions"]) -> set[str]:
    return {change["address"] for change in changes if actions_of(change) == ["create"]}


def saved_config(plan_file: Path) -> dict:
    """The root module's configuration Terraform keeps inside a saved plan."""
    with zipfile.ZipFile(plan_file) as saved:
        return json.loads(saved.read("tfconfig/m-/cdk.tf.json"))


def saved_prior_state(plan_file: Path) -> tuple[str, int]:
    """(lineage, serial) of the state the plan was made against; ("", 0) for no state."""
    with zipfile.ZipFile(plan_file) as saved:
        state = json.loads(saved.read("tfstate"))
    return state.get("lineage", ""), state.get("serial", 0)


def current_state(deployment: Deployment, stack: str) -> tuple[str, int]:
    pulled = deployment.terraform(stack, "state", "pull")
    if pulled.returncode:
        raise deployment.explain(stack, pulled.stdout + pulled.stderr)
    state = json.loads(pulled.stdout or "{}")
    return state.get("lineage", ""), state.get("serial", 0)


def require_plans(environment: EnvironmentConfig, stacks: list[str], plans: Path) -> None:
    """Raise Refused for the first of `stacks` with no saved plan in `plans`."""
    for stack in stacks:
        plan_file = plans / f"{stack}.tfplan"
        if not plan_file.is_file():
            raise Refused(f"{stack}: no saved plan {plan_file}; run `python -m ops.plan --env "
                          f"{environment.name} --out {plans}` (and review it) first")


def check(deployment: Deployment, stacks: list[str], plans: Path, synthesized: Path) -> None:
    """Raise Refused for the first plan that is missing, from another synth, or stale."""
    require_plans(deployment.environment, stacks, plans)
    for stack in stacks:
        plan_file = plans / f"{stack}.tfplan"
        try:
            planned = saved_config(plan_file)
        except (zipfile.BadZipFile, KeyError, ValueError):
            raise Refused(f"{stack}: {plan_file} is not a plan Terraform saved") from None
        now = json.loads((synthesized / "stacks" / stack / "cdk.tf.json").read_text())
        if planned != now:
            raise Refused(f"{stack}: {plan_file} was made from another synth than this checkout "
                          f"(another commit or environment file); plan again and review it")
    for stack in stacks:
        plan_file = plans / f"{stack}.tfplan"
        deployment.init(stack)
        then, now = saved_prior_state(plan_file), current_state(deployment, stack)
        if then != now:
            raise Refused(f"{stack}: {plan_file} is stale: the state changed after planning "
                          f"(serial {then[1]} then, {now[1]} now; another apply ran); plan again "
                          "and review it")


def apply_saved(deployment: Deployment, stack: str, plan_file: Path,
                progress=lambda line: None) -> None:
    started = time.monotonic()
    shown = json.loads(deployment.show(stack, str(plan_file), "-json"))
    if not shown.get("applyable", True):
        progress(f"  {stack}: nothing to apply")
        return
    result = deployment.terraform(stack, "apply", "-input=false", "-no-color", str(plan_file))
    output = result.stdout + result.stderr
    if "Saved plan is stale" in output or "does not match the given state" in output:
        raise Refused(f"{stack}: Terraform refused {plan_file}: the state changed after "
                      "planning; plan again and review it")
    if result.returncode:
        raise deployment.explain(stack, output)
    progress(f"  {stack}: applied ({time.monotonic() - started:.1f}s)")


def plan_pending(deployment: Deployment, stack: str, plans: Path, record: dict,
                 progress=lambda line: None) -> str:
    """Plan `stack`, which ops.plan left pending (`record`), now that the stacks before it are
    applied, and apply that plan if it only creates (a first deploy) and, when ops.plan could
    preview the stack, creates exactly the previewed resources; else refuse. Returns the
    Markdown line that records it."""
    reason = record["message"]
    plan_file = plans / f"{stack}.tfplan"
    deployment.init(stack)
    try:
        deployment.plan(stack, str(plan_file))
        shown = json.loads(deployment.show(stack, str(plan_file), "-json"))
    except DeployError:
        plan_file.unlink(missing_ok=True)
        raise
    others = [f"{change['address']} ({'/'.join(change['change']['actions'])})"
              for change in shown.get("resource_changes", [])
              if change["change"]["actions"] not in (["create"], ["no-op"], ["read"])]
    if others:
        plan_file.unlink()
        raise Refused(f"{stack}: was pending when planned for review ({reason}); planned now, it "
                      f"does more than create: {', '.join(others[:3])}"
                      f"{' ...' if len(others) > 3 else ''}; plan again with `python -m ops.plan "
                      f"--env {deployment.environment.name}` and review it")
    created = _created(shown.get("resource_changes", []), lambda c: c["change"]["actions"])
    previewed = None if record.get("changes") is None else _created(record["changes"])
    if previewed is not None and created != previewed:
        plan_file.unlink()
        extra, missing = sorted(created - previewed), sorted(previewed - created)
        raise Refused(f"{stack}: planned now, it would not create what its reviewed preview "
                      "showed: " + "; ".join(
                          part for part in (f"not previewed: {', '.join(extra[:3])}" if extra
                                            else "", f"previewed, not planned: "
                                            f"{', '.join(missing[:3])}" if missing else "")
                          if part) + f"; plan again with `python -m ops.plan --env "
                      f"{deployment.environment.name}` and review it")
    progress(f"  {stack}: was pending ({reason}); planned now: {len(created)} to create, "
             "nothing else")
    apply_saved(deployment, stack, plan_file, progress)
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
    deployment = Deployment(environment, env, outdir)
    later = pending_stacks(plans, stacks) if pending else {}
    reviewed = [stack for stack in stacks if stack not in later]
    require_plans(environment, reviewed, plans)  # before the synth: a refusal costs nothing
    progress(f"synthesizing {environment.name} to compare with the saved plans ...")
    synthesize(environment, Path(outdir), reuse=True)  # what this checkout makes, to apply in
    check(deployment, reviewed, plans, Path(outdir))
    notes = []
    for stack in stacks:
        if stack in later:
            notes.append(plan_pending(deployment, stack, plans, later[stack], progress))
        else:
            apply_saved(deployment, stack, plans / f"{stack}.tfplan", progress)
    return notes


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops apply` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="apply")


if __name__ == "__main__":
    sys.exit(main())
