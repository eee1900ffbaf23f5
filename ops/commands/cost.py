"""Hourly and 30-day on-demand cost estimate of the synthesized stacks, per environment."""

from pathlib import Path

from ops.cli import MANY
from ops.commands import add_stacks, environments, stacks_dir, synthesized

ENV, TARGET, OUT = MANY, False, None


def arguments(parser):
    import dataclasses

    from ops.cost import Assumptions

    parser.add_argument("--json", action="store_true", help="print the estimates as JSON")
    parser.add_argument("--explain", action="store_true",
                        help="say how each quantity follows from the stacks and assumptions")
    add_stacks(parser)
    parser.add_argument("--plans", type=Path, metavar="DIR",
                        help="show the cost change of the plans in DIR (<stack>.json, as "
                        "`plan` writes them) instead")
    parser.add_argument("--refresh-prices", action="store_true",
                        help="rewrite ops/prices/<region>.toml from the AWS Price List API "
                        "(needs AWS credentials)")
    parser.add_argument("--region", default="ap-south-1", help="for --refresh-prices")
    for field in dataclasses.fields(Assumptions):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=float,
                            default=field.default, help=f"assumption (default {field.default:g})")


def run(args):
    import dataclasses
    import json

    from ops import cost
    from ops.errors import Failed

    if args.refresh_prices:
        return refresh(args.region)
    assumptions = cost.Assumptions(**{field.name: getattr(args, field.name)
                                      for field in dataclasses.fields(cost.Assumptions)})
    found = environments(args)
    try:
        if args.plans:
            for env in found:
                change, notes = cost.plan_change(env, args.plans, stacks_dir(args), assumptions)
                print("\n".join([cost.format_diff(change)] + [f"  {n}" for n in notes]))
            return
        stacks = synthesized(args, found)
        estimates = [cost.estimate_synthesized(env, stacks, assumptions) for env in found]
    except FileNotFoundError as error:
        raise Failed(str(error)) from None
    if args.json:
        print(json.dumps([est.to_dict() for est in estimates], indent=2))
    else:
        print("\n\n".join(cost.format_estimate(est, args.explain) for est in estimates))


def refresh(region: str) -> None:
    import boto3

    from ops import cost
    from ops.core import ROOT

    # The Price List API answers in us-east-1 (also eu-central-1, ap-south-1).
    text = cost.refresh_prices(boto3.client("pricing", region_name="us-east-1"), region)
    path = cost.PRICES_DIR / f"{region}.toml"
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")
