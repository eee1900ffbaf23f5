"""Open, update or close the environment's drift issue on GitHub from the plans `plan` wrote."""

from pathlib import Path

from ops.cli import ONE
from ops.commands import environment

ENV, TARGET, OUT = ONE, False, None


def arguments(parser):
    parser.add_argument("--plans", type=Path, metavar="DIR",
                        help="where `plan` wrote (its --out; default plans/<env>)")
    parser.add_argument("--run-url", default="", help="link to the run, shown in the issue")


def run(args):
    from ops import drift
    from ops.commands import github
    from ops.errors import BadInput
    from ops.core import ROOT

    found = environment(args)
    plans = args.plans or ROOT / "plans" / found.name
    if not plans.is_dir():
        raise BadInput(f"--plans {plans}: no such folder; run `python -m ops plan --env "
                       f"{found.name} --out {plans}` first")
    print(drift.reconcile(github(), found, plans, args.run_url))
