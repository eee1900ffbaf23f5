"""What an environment costs to run, line by line: an hourly and a 30-day on-demand estimate.

    python -m ops.cost [--env uat[,prod]] [--explain] [--json] [--nat-gb-per-month 50 ...]

Prices come from one file per region, `ops/prices/<region>.toml`, which records the date they
were taken from AWS's pricing pages and those pages; the output repeats that date. Traffic that
the config cannot tell (GB through the NAT gateways, ALB capacity units, log volume) comes from
`Assumptions`, whose defaults are stated on every line that uses them.

`estimate(env)` returns an `Estimate` of `Line`s keyed by a stable `key`, so another tool (a PR
plan summary) can estimate before and after a change and show `diff(before, after)`.
Fargate lines are priced at the service's minimum and at its maximum task count; every other
line is the same at both.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib.config import ConfigError, EnvironmentConfig, load_environments, \
    select_environments
from constructs_lib.config import ALARM_NAMES, INTERFACE_ENDPOINT_SERVICES

ROOT = Path(__file__).resolve().parent.parent
PRICES_DIR = Path(__file__).resolve().parent / "prices"
HOURS = 720  # a 30-day month: every "30 days" figure is the hourly figure x 720


class PriceError(Exception):
    """No or bad price file for a region; the message is the one line shown to the user."""


@dataclass(frozen=True)
class Assumptions:
    """Usage the config cannot tell. Change them with dataclasses.replace, or on the CLI."""

    # Everything the private subnets send to and receive from outside the VPC through NAT:
    # image pulls (Docker Hub / ECR), CloudWatch Logs and ECS agent API calls, app egress.
    nat_gb_per_month: float = 50.0
    # Average Load Balancer Capacity Units billed per hour. Light HTTP traffic (a few new
    # connections a second) stays under 1 LCU; an idle ALB is billed a fraction of one.
    alb_lcu: float = 1.0
    # Container log volume ingested into CloudWatch Logs, for the whole service.
    log_gb_per_month: float = 5.0
    # Of the NAT traffic, the GB that interface VPC endpoints carry instead (when enabled).
    endpoint_gb_per_month: float = 10.0
    # VPC flow log records delivered to CloudWatch Logs (when network.flow_logs is on).
    flow_log_gb_per_month: float = 2.0


@dataclass(frozen=True)
class Prices:
    region: str
    recorded_on: str
    sources: tuple[str, ...]
    verified: bool
    values: dict[str, dict[str, float]]
    path: Path

    def __getitem__(self, dotted: str) -> float:
        section, name = dotted.split(".")
        try:
            return float(self.values[section][name])
        except KeyError:
            raise PriceError(f"{self.path}: missing price '{dotted}'") from None


def load_prices(region: str, directory: Path = PRICES_DIR) -> Prices:
    path = directory / f"{region}.toml"
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise PriceError(f"no prices for region {region}: add {path} "
                         f"(copy {next(directory.glob('*.toml'), 'an existing file')} and "
                         "fill in that region's prices)") from None
    except tomllib.TOMLDecodeError as error:
        raise PriceError(f"{path}: not valid TOML: {error}") from None
    if data.get("region") != region:
        raise PriceError(f"{path}: region = {data.get('region')!r}, expected {region!r}")
    values = {key: value for key, value in data.items() if isinstance(value, dict)}
    return Prices(region, str(data.get("recorded_on", "unknown date")),
                  tuple(data.get("sources", ())), bool(data.get("verified", False)), values, path)


class _Monthly:
    """30-day figures from the hourly ones."""

    @property
    def monthly_min(self) -> float:
        return self.hourly_min * HOURS

    @property
    def monthly_max(self) -> float:
        return self.hourly_max * HOURS


@dataclass(frozen=True)
class Line(_Monthly):
    """One billed quantity. `per_hour_*` is how many `unit`s accrue per hour of running."""

    key: str  # stable identifier, for diffs: "nat.hours", "fargate.vcpu", ...
    item: str  # what is billed, for people
    unit: str  # "NAT gateway-hour", "GB", "vCPU-hour", ...
    unit_price: float
    per_hour_min: float  # units per hour at the service's minimum task count
    per_hour_max: float  # ... and at its maximum
    basis: str  # how the quantity follows from the config and the assumptions

    @property
    def hourly_min(self) -> float:
        return self.per_hour_min * self.unit_price

    @property
    def hourly_max(self) -> float:
        return self.per_hour_max * self.unit_price


@dataclass(frozen=True)
class Estimate(_Monthly):
    env: str
    region: str
    prices_recorded_on: str
    prices_verified: bool
    sources: tuple[str, ...]
    min_tasks: int
    max_tasks: int
    assumptions: Assumptions
    lines: tuple[Line, ...]
    notes: tuple[str, ...] = ()

    def line(self, key: str) -> Line:
        return next(line for line in self.lines if line.key == key)

    @property
    def hourly_min(self) -> float:
        return sum(line.hourly_min for line in self.lines)

    @property
    def hourly_max(self) -> float:
        return sum(line.hourly_max for line in self.lines)

    def to_markdown(self) -> str:
        """A Markdown table (for pull request comments); same figures as format_estimate."""
        verified = "" if self.prices_verified else ", verify before relying on them"
        rows = [f"USD, on-demand prices for {self.region} as recorded on "
                f"{self.prices_recorded_on}{verified}; {self.min_tasks}-{self.max_tasks} tasks "
                f"(figures at min-max tasks); 30 days = {HOURS} h.", "",
                "| line | per 30 days x USD | per hour | per 30 days |", "|---|---|--:|--:|"]
        rows += [f"| {line.item} | {_quantity(line)} | {_range(line.hourly_min, line.hourly_max, 4)}"
                 f" | {_range(line.monthly_min, line.monthly_max, 2)} |" for line in self.lines]
        rows.append(f"| **total** | | **{_range(self.hourly_min, self.hourly_max, 4)}** | "
                    f"**{_range(self.monthly_min, self.monthly_max, 2)}** |")
        rows += [""] + [f"- {line.item}: {line.basis}" for line in self.lines]
        rows += [f"- {note}" for note in self.notes]
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env, "region": self.region, "currency": "USD", "hours_per_month": HOURS,
            "prices_recorded_on": self.prices_recorded_on,
            "prices_verified": self.prices_verified, "sources": list(self.sources),
            "min_tasks": self.min_tasks, "max_tasks": self.max_tasks,
            "assumptions": dataclasses.asdict(self.assumptions),
            "lines": [dict(dataclasses.asdict(line), hourly_min=line.hourly_min,
                           hourly_max=line.hourly_max, monthly_min=line.monthly_min,
                           monthly_max=line.monthly_max) for line in self.lines],
            "total": {"hourly_min": self.hourly_min, "hourly_max": self.hourly_max,
                      "monthly_min": self.monthly_min, "monthly_max": self.monthly_max},
            "notes": list(self.notes),
        }


def _fixed(key: str, item: str, unit: str, price: float, per_hour: float, basis: str) -> Line:
    return Line(key, item, unit, price, per_hour, per_hour, basis)


def estimate(env: EnvironmentConfig, assumptions: Assumptions = Assumptions(),
             prices: Prices | None = None) -> Estimate:
    """The environment's on-demand cost, by line; pure arithmetic on config, prices, assumptions."""
    prices = prices or load_prices(env.region)
    network, service = env.network, env.service
    zones = network.availability_zones
    nats = network.nat_zones
    crossing = [zone for zone in zones if network.nat_zone_for(zone) != zone]
    scaling = service.scaling
    vcpu, gib = service.cpu / 1024, service.memory / 1024
    a = assumptions
    lines = [
        _fixed("nat.hours", "NAT gateway hours", "NAT gateway-hour", prices["nat_gateway.per_hour"],
               len(nats), f"{len(nats)} NAT gateway(s) ({network.nat_gateways.value}: "
               f"{', '.join(nats)}), always on"),
        _fixed("nat.processing", "NAT gateway data processed", "GB",
               prices["nat_gateway.per_gb_processed"], a.nat_gb_per_month / HOURS,
               f"assumed {a.nat_gb_per_month:g} GB/month through NAT (Assumptions.nat_gb_per_month)"),
        _fixed("data.cross_az", "Cross-AZ data to the NAT gateway", "GB, both ways",
               prices["data_transfer.inter_az_per_gb_each_way"],
               2 * a.nat_gb_per_month * len(crossing) / len(zones) / HOURS,
               f"private subnets in {', '.join(crossing)} have no NAT of their own: their share "
               f"({len(crossing)}/{len(zones)}, traffic spread evenly over AZs) of the NAT GB, "
               "billed leaving one AZ and entering the other" if crossing else
               "every private subnet uses its own AZ's NAT gateway: none"),
        _fixed("ipv4.nat", "Elastic IPs of the NAT gateways", "public IPv4-hour",
               prices["public_ipv4.per_hour"], len(nats), f"{len(nats)} Elastic IP(s), one per NAT"),
        _fixed("alb.hours", "ALB hours", "ALB-hour", prices["alb.per_hour"], 1,
               "1 internet-facing Application Load Balancer"),
        _fixed("alb.lcu", "ALB capacity units", "LCU-hour", prices["alb.per_lcu_hour"], a.alb_lcu,
               f"assumed {a.alb_lcu:g} LCU on average (Assumptions.alb_lcu)"),
        _fixed("ipv4.alb", "ALB public IPv4 addresses", "public IPv4-hour",
               prices["public_ipv4.per_hour"], len(zones),
               f"an internet-facing ALB holds one public IPv4 per AZ ({len(zones)})"),
        Line("fargate.vcpu", "Fargate vCPU", "vCPU-hour", prices["fargate.per_vcpu_hour"],
             vcpu * scaling.min_capacity, vcpu * scaling.max_capacity,
             f"{service.cpu} cpu units = {vcpu:g} vCPU per task x {scaling.min_capacity} "
             f"(min) / {scaling.max_capacity} (max) tasks"),
        Line("fargate.memory", "Fargate memory", "GB-hour", prices["fargate.per_gb_hour"],
             gib * scaling.min_capacity, gib * scaling.max_capacity,
             f"{service.memory} MiB = {gib:g} GB per task x {scaling.min_capacity} (min) / "
             f"{scaling.max_capacity} (max) tasks"),
        _fixed("logs.ingestion", "CloudWatch Logs ingestion", "GB",
               prices["cloudwatch.logs_ingestion_per_gb"], a.log_gb_per_month / HOURS,
               f"assumed {a.log_gb_per_month:g} GB/month of container logs "
               "(Assumptions.log_gb_per_month)"),
    ]
    if env.network.flow_logs:
        lines.append(_fixed("logs.flow_logs", "VPC flow logs ingestion", "GB",
                            prices["cloudwatch.vended_logs_per_gb"],
                            a.flow_log_gb_per_month / HOURS,
                            f"assumed {a.flow_log_gb_per_month:g} GB/month of flow log records "
                            "(Assumptions.flow_log_gb_per_month)"))
    notes = ["not included: data transfer out to the internet, log storage "
             f"({service.log_retention_days} days retention), Container Insights metrics, "
             "ECR storage, " + ("ALB access logs in S3, " if service.alb_access_logs else "")
             + "dashboards past the 3 free, taxes; Fargate is Linux/x86 on demand (no Savings Plans or Spot)"]
    endpoints = INTERFACE_ENDPOINT_SERVICES if env.network.vpc_endpoints else ()
    if endpoints:
        lines += [
            _fixed("endpoints.hours", "Interface VPC endpoints", "endpoint AZ-hour",
                   prices["vpc_endpoint.interface_per_az_hour"], len(endpoints) * len(zones),
                   f"{len(endpoints)} interface endpoint(s) ({', '.join(endpoints)}) x "
                   f"{len(zones)} AZs"),
            _fixed("endpoints.processing", "VPC endpoint data processed", "GB",
                   prices["vpc_endpoint.interface_per_gb"], a.endpoint_gb_per_month / HOURS,
                   f"assumed {a.endpoint_gb_per_month:g} GB/month through the endpoints "
                   "(Assumptions.endpoint_gb_per_month)"),
        ]
    lines.append(_fixed("cloudwatch.alarms", "CloudWatch alarms", "alarm-month",
                        prices["cloudwatch.alarm_per_month"], len(ALARM_NAMES) / HOURS,
                        f"{len(ALARM_NAMES)} standard-resolution alarms"))
    return Estimate(env.name, env.region, prices.recorded_on, prices.verified, prices.sources,
                    scaling.min_capacity, scaling.max_capacity, assumptions, tuple(lines),
                    tuple(notes))


# ---------------------------------------------------------------------------------------------
# Comparing two estimates (e.g. before and after a pull request).


@dataclass(frozen=True)
class LineChange:
    key: str
    item: str
    before_monthly_min: float  # 0 when the line is new
    before_monthly_max: float
    after_monthly_min: float  # 0 when the line is gone
    after_monthly_max: float

    @property
    def delta_monthly_min(self) -> float:
        return self.after_monthly_min - self.before_monthly_min

    @property
    def delta_monthly_max(self) -> float:
        return self.after_monthly_max - self.before_monthly_max


@dataclass(frozen=True)
class EstimateDiff:
    env: str
    changes: tuple[LineChange, ...]  # only lines whose cost changed, in the after order
    total: LineChange

    def __bool__(self) -> bool:
        return bool(self.changes)

    def to_markdown(self) -> str:
        if not self.changes:
            return f"No change in the 30-day estimate for `{self.env}`."
        rows = ["| line | before (30 days) | after | change |", "|---|--:|--:|--:|"]
        for c in self.changes + (self.total,):
            rows.append(f"| {c.item} | {_range(c.before_monthly_min, c.before_monthly_max, 2)} | "
                        f"{_range(c.after_monthly_min, c.after_monthly_max, 2)} | "
                        f"{_range(c.delta_monthly_min, c.delta_monthly_max, 2)} |")
        return "\n".join(rows)


def diff(before: Estimate, after: Estimate, tolerance: float = 0.005) -> EstimateDiff:
    """Lines whose 30-day cost (at min or max tasks) moved by more than `tolerance` USD."""
    old = {line.key: line for line in before.lines}
    new = {line.key: line for line in after.lines}
    keys = list(new) + [key for key in old if key not in new]
    changes = []
    for key in keys:
        b, a = old.get(key), new.get(key)
        change = LineChange(key, (a or b).item,
                            b.monthly_min if b else 0.0, b.monthly_max if b else 0.0,
                            a.monthly_min if a else 0.0, a.monthly_max if a else 0.0)
        if abs(change.delta_monthly_min) > tolerance or abs(change.delta_monthly_max) > tolerance:
            changes.append(change)
    total = LineChange("total", "Total", before.monthly_min, before.monthly_max,
                       after.monthly_min, after.monthly_max)
    return EstimateDiff(after.env, tuple(changes), total)


# ---------------------------------------------------------------------------------------------
# Text output.


def _range(low: float, high: float, digits: int) -> str:
    return f"{low:.{digits}f}" if round(low, digits) == round(high, digits) \
        else f"{low:.{digits}f}-{high:.{digits}f}"


def _quantity(line: Line) -> str:
    def number(value: float) -> str:
        return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.2f}"
    low, high = line.per_hour_min * HOURS, line.per_hour_max * HOURS
    amount = number(low) if low == high else f"{number(low)}-{number(high)}"
    return f"{amount} {line.unit} x {line.unit_price:g}"


def format_estimate(est: Estimate, explain: bool = False) -> str:
    """A table: line, quantity per 30 days x unit price, per hour, per 30 days. `explain` adds
    how each quantity follows from the config and the assumptions."""
    verified = "" if est.prices_verified else " (verify before relying on them)"
    a = est.assumptions
    out = [f"{est.env} ({est.region}): USD, on-demand prices as recorded on "
           f"{est.prices_recorded_on}{verified}; {est.min_tasks}-{est.max_tasks} tasks, "
           f"figures are at min-max tasks; 30 days = {HOURS} h",
           f"  {'line':<34} {'per 30 days x USD':<34} {'per hour':>15} {'per 30 days':>15}"]
    for line in est.lines:
        out.append(f"  {line.item:<34} {_quantity(line):<34} "
                   f"{_range(line.hourly_min, line.hourly_max, 4):>15} "
                   f"{_range(line.monthly_min, line.monthly_max, 2):>15}")
        if explain:
            out.append(f"      {line.basis}")
    out.append(f"  {'total':<34} {'':<34} {_range(est.hourly_min, est.hourly_max, 4):>15} "
               f"{_range(est.monthly_min, est.monthly_max, 2):>15}")
    crossing = est.line("data.cross_az").basis if est.line("data.cross_az").per_hour_min else ""
    out.append(f"  assumed: {a.nat_gb_per_month:g} GB/month through NAT"
               + (" (spread evenly over the AZs; the share of AZs without a NAT crosses AZs,"
                  " billed both ways)" if crossing else "")
               + f", {a.alb_lcu:g} ALB LCU on average, {a.log_gb_per_month:g} GB/month of "
               "container logs"
               + (f", {a.flow_log_gb_per_month:g} GB/month of flow logs"
                  if any(line.key == "logs.flow_logs" for line in est.lines) else "")
               + (f", {a.endpoint_gb_per_month:g} GB/month through interface endpoints"
                  if any(line.key == "endpoints.hours" for line in est.lines) else "")
               + " (python -m ops.cost --help to change them)")
    out += [f"  {note}" for note in est.notes]
    return "\n".join(out)


def format_diff(change: EstimateDiff) -> str:
    def row(c: LineChange) -> str:
        return (f"  {c.item:<36} {_range(c.before_monthly_min, c.before_monthly_max, 2):>15} -> "
                f"{_range(c.after_monthly_min, c.after_monthly_max, 2):>15}  "
                f"({_range(c.delta_monthly_min, c.delta_monthly_max, 2)})")
    if not change:
        return f"{change.env}: no change in the 30-day estimate"
    return "\n".join([f"{change.env}: 30-day estimate, USD, before -> after (change)"]
                     + [row(c) for c in change.changes] + [row(change.total)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.cost", description=__doc__.split("\n")[0])
    parser.add_argument("--env", help="comma-separated environments (default: all)")
    parser.add_argument("--json", action="store_true", help="print the estimates as JSON")
    parser.add_argument("--explain", action="store_true",
                        help="say how each quantity follows from the config and assumptions")
    for f in dataclasses.fields(Assumptions):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=float, default=f.default,
                            help=f"assumption (default {f.default:g})")
    args = parser.parse_args(argv)
    assumptions = Assumptions(**{f.name: getattr(args, f.name)
                                 for f in dataclasses.fields(Assumptions)})
    try:
        envs = select_environments(load_environments(ROOT / "environments"), args.env)
        estimates = [estimate(env, assumptions) for env in envs]
    except (ConfigError, PriceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([est.to_dict() for est in estimates], indent=2))
    else:
        print("\n\n".join(format_estimate(est, args.explain) for est in estimates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
