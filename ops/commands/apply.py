"""Apply the plans `plan` saved, exactly, refusing a stale one (what deploy.yml runs)."""

from pathlib import Path

from ops.cli import ONE
from ops.commands import add_summary, append, environment, say, stacks, terraform_env

ENV, TARGET, OUT = ONE, True, None


def arguments(parser):
    parser.add_argument("--plans", type=Path, metavar="DIR",
                        help="where `plan` saved them (its --out; default plans/<env>)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--stack", action="append", help="only these stacks (default: all)")
    chosen.add_argument("--ci", action="store_true", help="the stacks CI applies: all but "
                        "state-<env> (an administrator's)")
    parser.add_argument("--plan-pending", action="store_true", help="plan a stack `plan` left "
                        "pending once the stacks before it are applied, and apply it if it "
                        "only creates (a first deploy)")
    add_summary(parser, "what was applied without a reviewed plan")


def run(args):
    import time

    from ops import apply
    from ops.core import ROOT

    started = time.monotonic()
    found = environment(args)
    chosen = apply.ci_stacks(found) if args.ci else stacks(found, args.stack)
    plans = args.plans or ROOT / "plans" / found.name
    notes = apply.apply(found, terraform_env(args, found), plans, chosen, progress=say,
                        pending=args.plan_pending)
    if notes:
        append(args.summary, "### Applied without a reviewed plan\n\n" + "\n".join(notes))
    print(f"applied the saved plans of {found.name} ({time.monotonic() - started:.1f}s)")
