"""What an environment costs to run, line by line: an hourly and a 30-day on-demand estimate of
what its stacks declare.

    python -m ops cost [--env uat[,prod]] [--explain] [--json] [--nat-gb-per-month 50 ...]
    python -m ops cost --env uat --plans plans/uat      # the cost change of a saved plan
    python -m ops cost --refresh-prices [--region ap-south-1]   # needs AWS credentials

Quantities come from what is synthesized (each stack's cdk.tf.json, read by ops/inventory.py):
NAT gateways and the AZs their private routes cross, Elastic IPs, load balancers and their
subnets, the ECS services' task size and autoscaling bounds, interface endpoints, alarms, log
groups and flow logs. For a plan, the plan JSON's before and after sides give the change. Usage
no stack can tell (GB through NAT, ALB capacity units, log volume) comes from `Assumptions`,
stated on every line that uses them.

Prices come from `ops/prices/<region>.toml`: every price carries its source, the date it was
checked and AWS's usage type; `--refresh-prices` rewrites the file from the AWS Price List API.
Fargate lines are priced at the services' minimum and at their maximum task counts, a pair of
lines per service when there are several; every other line is the same at both.
`diff(before, after)` compares two estimates.

The package: prices (the price files and the Price List API), estimate (the arithmetic, and the
difference of two estimates), report (the table); the command is ops/commands/cost.py.
"""

from ops.cost.estimate import (HOURS, Assumptions, Estimate, EstimateDiff, Line, LineChange, diff,
                               estimate, estimate_synthesized, plan_change, stack_names)
from ops.cost.prices import (PRICE_LIST, PRICES_DIR, REGION_FIELD, Price, PriceError, Prices,
                             fetch_price, load_prices, refresh_prices)
from ops.cost.report import format_diff, format_estimate



def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops cost` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="cost", renames={"--outdir": "--stacks", "--plan": "--plans"})

__all__ = ["HOURS", "Assumptions", "Estimate", "EstimateDiff", "Line", "LineChange", "diff",
           "estimate", "estimate_synthesized", "plan_change", "stack_names", "PRICE_LIST",
           "PRICES_DIR", "REGION_FIELD", "Price", "PriceError", "Prices", "fetch_price",
           "load_prices", "refresh_prices", "format_diff", "format_estimate", "main"]
