"""Apply exactly the plans `python -m ops.plan` saved, or refuse; never plan again.

    python -m ops.apply --env uat --plans plans/uat [--stack state-uat ...] [--target aws]

For each stack in deploy order, `<plans>/<stack>.tfplan` is applied in
`cdktf.out/stacks/<stack>` (where ops.plan synthesized and initialized it). Before anything is
applied, every plan is checked, and the command refuses (one line, exit 2, nothing changed):

- a missing plan file (ops.plan could not plan the stack, or never ran);
- a plan made from another synth: the configuration Terraform saved in the plan is not what the
  current checkout synthesizes (another commit, another environment file);
- a stale plan: the stack's state changed after planning (another apply ran in between). The
  plan's prior state (lineage, serial) must be the state now. Terraform checks this too, but not
  when the state was empty at plan time (hashicorp/terraform issue 27721); this check does.

A plan with nothing to apply is skipped. Exit status: 0 applied (or nothing to apply), 1 a
Terraform error while applying, 2 refused.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from constructs_lib.config import ConfigError, environments_dir, EnvironmentConfig, load_environments, \
    select_environments
from ops.deploy import OUTDIR, Deployment, DeployError, add_environment_options, \
    select_stacks, synthesize, terraform_environment
from ops.terraform import ROOT

APPLIED, ERROR, REFUSED = 0, 1, 2


class Refused(Exception):
    """A plan that must not be applied; the message is the one line shown."""


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


def check(deployment: Deployment, stacks: list[str], plans: Path, synthesized: Path) -> None:
    """Raise Refused for the first plan that is missing, from another synth, or stale."""
    name = deployment.environment.name
    for stack in stacks:
        plan_file = plans / f"{stack}.tfplan"
        if not plan_file.is_file():
            raise Refused(f"{stack}: no saved plan {plan_file}; run `python -m ops.plan --env "
                          f"{name} --out {plans}` (and review it) first")
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


def apply(environment: EnvironmentConfig, env: dict[str, str], plans: Path,
          stacks: list[str] | None = None, outdir: Path = OUTDIR,
          progress=lambda line: None) -> None:
    """Check every saved plan of `stacks` (default: all, in deploy order), then apply each."""
    stacks = stacks or list(environment.stack_names.values())
    deployment = Deployment(environment, env, outdir)
    with tempfile.TemporaryDirectory() as folder:
        progress(f"synthesizing {environment.name} to compare with the saved plans ...")
        synthesize(environment, Path(folder))
        check(deployment, stacks, Path(plans).resolve(), Path(folder))
    for stack in stacks:
        apply_saved(deployment, stack, (Path(plans) / f"{stack}.tfplan").resolve(), progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.apply", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_environment_options(parser)
    parser.add_argument("--plans", type=Path, help="where ops.plan saved the plans "
                        "(default: plans/<env>)")
    parser.add_argument("--stack", action="append", help="only these stacks (default: all)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        (environment,) = select_environments(load_environments(environments_dir()), args.env)
        try:
            stacks = select_stacks(environment, args.stack)
        except DeployError as error:
            raise Refused(str(error)) from None
        apply(environment, terraform_environment(args.target, environment.region),
              args.plans or ROOT / "plans" / environment.name, stacks,
              progress=lambda line: print(line, flush=True))
    except (ConfigError, Refused) as error:
        print(f"error: refused: {error}", file=sys.stderr)
        return REFUSED
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return ERROR
    print(f"applied the saved plans of {environment.name} ({time.monotonic() - started:.1f}s)")
    return APPLIED


if __name__ == "__main__":
    sys.exit(main())
