"""The estimate as people read it (a table), and the command line of `python -m ops.cost`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from config import ConfigError
from ops.core import OUTDIR, ROOT, environments
from ops.core.synth import synthesize
from ops.cost.estimate import (HOURS, Assumptions, Estimate, EstimateDiff, LineChange, caveat,
                                quantity, span, estimate_synthesized, plan_change)
from ops.cost.prices import PRICES_DIR, PriceError, refresh_prices
from ops.errors import OpsError


def format_estimate(est: Estimate, explain: bool = False) -> str:
    """A table: line, quantity per 30 days x unit price, per hour, per 30 days. `explain` adds
    how each quantity follows from the config and the assumptions."""
    a = est.assumptions
    out = [f"{est.env} ({est.region}): USD, on-demand prices as recorded on "
           f"{est.prices_recorded_on}{caveat(est)}; {est.min_tasks}-{est.max_tasks} tasks, "
           f"figures are at min-max tasks; 30 days = {HOURS} h",
           f"  {'line':<34} {'per 30 days x USD':<34} {'per hour':>15} {'per 30 days':>15}"]
    for line in est.lines:
        out.append(f"  {line.item:<34} {quantity(line):<34} "
                   f"{span(line.hourly_min, line.hourly_max, 4):>15} "
                   f"{span(line.monthly_min, line.monthly_max, 2):>15}")
        if explain:
            out.append(f"      {line.basis}")
    out.append(f"  {'total':<34} {'':<34} {span(est.hourly_min, est.hourly_max, 4):>15} "
               f"{span(est.monthly_min, est.monthly_max, 2):>15}")
    crossing = est.line("data.cross_az").per_hour_min
    out.append(f"  assumed: {a.nat_gb_per_month:g} GB/month through NAT"
               + (" (spread evenly over the private subnets; the share routed to another AZ's"
                  " NAT crosses AZs, billed both ways)" if crossing else "")
               + f", {a.alb_lcu:g} ALB LCU on average, {a.log_gb_per_month:g} GB/month of "
               "container logs per service"
               + (f", {a.flow_log_gb_per_month:g} GB/month of flow logs"
                  if any(line.key == "logs.flow_logs" for line in est.lines) else "")
               + (f", {a.endpoint_gb_per_month:g} GB/month through interface endpoints"
                  if any(line.key == "endpoints.hours" for line in est.lines) else "")
               + " (python -m ops.cost --help to change them)")
    out += [f"  {note}" for note in est.notes]
    return "\n".join(out)


def format_diff(change: EstimateDiff) -> str:
    def row(c: LineChange) -> str:
        return (f"  {c.item:<36} {span(c.before_monthly_min, c.before_monthly_max, 2):>15} -> "
                f"{span(c.after_monthly_min, c.after_monthly_max, 2):>15}  "
                f"({span(c.delta_monthly_min, c.delta_monthly_max, 2)})")
    if not change:
        return f"{change.env}: no change in the 30-day estimate"
    return "\n".join([f"{change.env}: 30-day estimate, USD, before -> after (change)"]
                     + [row(c) for c in change.changes] + [row(change.total)])


def main(argv: list[str] | None = None) -> int:
    import ops.cost  # its docstring is the command's reference

    parser = argparse.ArgumentParser(prog="python -m ops.cost",
                                     description=ops.cost.__doc__.split("\n")[0])
    parser.add_argument("--env", help="comma-separated environments (default: all)")
    parser.add_argument("--json", action="store_true", help="print the estimates as JSON")
    parser.add_argument("--explain", action="store_true",
                        help="say how each quantity follows from the stacks and assumptions")
    parser.add_argument("--outdir", type=Path, default=OUTDIR,
                        help="where the stacks are synthesized (default cdktf.out)")
    parser.add_argument("--no-synth", action="store_true",
                        help="read the stacks already in --outdir instead of synthesizing")
    parser.add_argument("--plan", type=Path, metavar="DIR",
                        help="show the cost change of the plans in DIR (<stack>.json, as "
                        "python -m ops.plan writes them) instead")
    parser.add_argument("--refresh-prices", action="store_true",
                        help="rewrite ops/prices/<region>.toml from the AWS Price List API "
                        "(needs AWS credentials)")
    parser.add_argument("--region", default="ap-south-1", help="for --refresh-prices")
    for f in dataclasses.fields(Assumptions):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=float, default=f.default,
                            help=f"assumption (default {f.default:g})")
    args = parser.parse_args(argv)
    if args.refresh_prices:
        return _refresh(args.region)
    assumptions = Assumptions(**{f.name: getattr(args, f.name)
                                 for f in dataclasses.fields(Assumptions)})
    try:
        envs = environments.load(args.env)
        if args.plan:
            for env in envs:
                change, notes = plan_change(env, args.plan, args.outdir, assumptions)
                print("\n".join([format_diff(change)] + [f"  {n}" for n in notes]))
            return 0
        if not args.no_synth:
            for env in envs:
                synthesize(env, args.outdir, reuse=True)
        estimates = [estimate_synthesized(env, args.outdir, assumptions) for env in envs]
    except (ConfigError, OpsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([est.to_dict() for est in estimates], indent=2))
    else:
        print("\n\n".join(format_estimate(est, args.explain) for est in estimates))
    return 0


def _refresh(region: str) -> int:
    import boto3
    import botocore.exceptions

    # The Price List API answers in us-east-1 (also eu-central-1, ap-south-1).
    client = boto3.client("pricing", region_name="us-east-1")
    try:
        text = refresh_prices(client, region)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
            PriceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    path = PRICES_DIR / f"{region}.toml"
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")
    return 0
