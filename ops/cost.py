"""What an environment costs to run, line by line: an hourly and a 30-day on-demand estimate of
what its stacks declare.

    python -m ops.cost [--env uat[,prod]] [--explain] [--json] [--nat-gb-per-month 50 ...]
    python -m ops.cost --env uat --plan plans/uat      # the cost change of a saved plan
    python -m ops.cost --refresh-prices [--region ap-south-1]   # needs AWS credentials

Quantities come from what is synthesized (each stack's cdk.tf.json, read by ops/inventory.py):
NAT gateways and the AZs their private routes cross, Elastic IPs, load balancers and their
subnets, the ECS services' task size and autoscaling bounds, interface endpoints, alarms, log
groups and flow logs. For a plan, the plan JSON's before and after sides give the change. Usage
no stack can tell (GB through NAT, ALB capacity units, log volume) comes from `Assumptions`,
stated on every line that uses them.

Prices come from `ops/prices/<region>.toml`: every price carries its source, the date it was
checked and AWS's usage type; `--refresh-prices` rewrites the file from the AWS Price List API.
Fargate lines are priced at the services' minimum and at their maximum task counts; every other
line is the same at both. `diff(before, after)` compares two estimates.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import EnvironmentConfig
from ops.inventory import (Inventory, from_synthesized, inventory, load_stacks, merge, plan_sides,
                           synthesized_side)

ROOT = Path(__file__).resolve().parent.parent
PRICES_DIR = Path(__file__).resolve().parent / "prices"
HOURS = 720  # a 30-day month: every "30 days" figure is the hourly figure x 720


class PriceError(Exception):
    """No or bad price file for a region; the message is the one line shown to the user."""


@dataclass(frozen=True)
class Assumptions:
    """Usage the stacks cannot tell. Change them with dataclasses.replace, or on the CLI."""

    # Everything the private subnets send to and receive from outside the VPC through NAT:
    # image pulls (Docker Hub / ECR), CloudWatch Logs and ECS agent API calls, app egress.
    nat_gb_per_month: float = 50.0
    # Average Load Balancer Capacity Units billed per hour, per ALB. Light HTTP traffic (a few
    # new connections a second) stays under 1 LCU; an idle ALB is billed a fraction of one.
    alb_lcu: float = 1.0
    # Container log volume ingested into CloudWatch Logs, per ECS service.
    log_gb_per_month: float = 5.0
    # Of the NAT traffic, the GB that interface VPC endpoints carry instead (when there are any).
    endpoint_gb_per_month: float = 10.0
    # VPC flow log records delivered to CloudWatch Logs, per flow log.
    flow_log_gb_per_month: float = 2.0


# Where each price is in the AWS Price List API: service code, filters besides the region,
# and the usage type without its region prefix (ap-south-1's is "APS3-"; us-east-1 has none).
PRICE_LIST = {
    "nat_gateway.per_hour": ("AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Hours"),
    "nat_gateway.per_gb_processed": ("AmazonEC2", {"productFamily": "NAT Gateway"},
                                     "NatGateway-Bytes"),
    "public_ipv4.per_hour": ("AmazonVPC", {"group": "VPCPublicIPv4Address"},
                             "PublicIPv4:InUseAddress"),
    "data_transfer.inter_az_per_gb_each_way": ("AWSDataTransfer", {"transferType": "IntraRegion"},
                                               "DataTransfer-Regional-Bytes"),
    "alb.per_hour": ("AWSELB", {"productFamily": "Load Balancer-Application"},
                     "LoadBalancerUsage"),
    "alb.per_lcu_hour": ("AWSELB", {"productFamily": "Load Balancer-Application"}, "LCUUsage"),
    "fargate.per_vcpu_hour": ("AmazonECS", {"productFamily": "Compute"},
                              "Fargate-vCPU-Hours:perCPU"),
    "fargate.per_gb_hour": ("AmazonECS", {"productFamily": "Compute"}, "Fargate-GB-Hours"),
    "cloudwatch.logs_ingestion_per_gb": ("AmazonCloudWatch", {"productFamily": "Data Payload"},
                                         "DataProcessing-Bytes"),
    "cloudwatch.vended_logs_per_gb": ("AmazonCloudWatch", {"productFamily": "Data Payload"},
                                      "VendedLog-Bytes"),
    "cloudwatch.alarm_per_month": ("AmazonCloudWatch", {"productFamily": "Alarm"},
                                   "CW:AlarmMonitorUsage"),
    "vpc_endpoint.interface_per_az_hour": ("AmazonVPC", {"productFamily": "VpcEndpoint"},
                                           "VpcEndpoint-Hours"),
    "vpc_endpoint.interface_per_gb": ("AmazonVPC", {"productFamily": "VpcEndpoint"},
                                      "VpcEndpoint-Bytes"),
}
# Data transfer products name their region in fromRegionCode, the others in regionCode.
REGION_FIELD = {"AWSDataTransfer": "fromRegionCode"}


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    usagetype: str
    checked_on: str
    source: str
    confirmed: bool  # False: no source for this region was found; the value is carried over


@dataclass(frozen=True)
class Prices:
    region: str
    recorded_on: str
    prices: dict[str, Price]
    path: Path

    def __getitem__(self, dotted: str) -> float:
        return self.price(dotted).usd

    def price(self, dotted: str) -> Price:
        try:
            return self.prices[dotted]
        except KeyError:
            raise PriceError(f"{self.path}: missing price '{dotted}'") from None

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        return tuple(key for key, price in self.prices.items() if not price.confirmed)

    @property
    def verified(self) -> bool:
        return not self.unconfirmed

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(f"{key}: {price.usd:g} USD per {price.unit}, {price.source} "
                     f"(checked {price.checked_on})" for key, price in self.prices.items())


def load_prices(region: str, directory: Path = PRICES_DIR) -> Prices:
    path = directory / f"{region}.toml"
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise PriceError(f"no prices for region {region}: add {path} "
                         f"(python -m ops.cost --refresh-prices --region {region}, with AWS "
                         "credentials)") from None
    except tomllib.TOMLDecodeError as error:
        raise PriceError(f"{path}: not valid TOML: {error}") from None
    if data.get("region") != region:
        raise PriceError(f"{path}: region = {data.get('region')!r}, expected {region!r}")
    prices = {}
    for section, names in data.items():
        if not isinstance(names, dict):
            continue
        for name, entry in names.items():
            try:
                prices[f"{section}.{name}"] = Price(
                    float(entry["usd"]), str(entry["unit"]), str(entry.get("usagetype", "")),
                    str(entry["checked_on"]), str(entry["source"]),
                    bool(entry.get("confirmed", True)))
            except (KeyError, TypeError, ValueError):
                raise PriceError(f"{path}: [{section}.{name}] needs usd (a number), unit, "
                                 "checked_on and source") from None
    return Prices(region, str(data.get("recorded_on", "unknown date")), prices, path)


# ---------------------------------------------------------------------------------------------
# Renewing the price file from the AWS Price List API.


def _on_demand(product: dict) -> tuple[float, str, str]:
    """(USD, unit, effective date) of a Price List product's first on-demand tier."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        dimensions = sorted(term.get("priceDimensions", {}).values(),
                            key=lambda d: float(d.get("beginRange", "0") or 0))
        if dimensions:
            first = dimensions[0]
            return (float(first["pricePerUnit"]["USD"]), first.get("unit", ""),
                    term.get("effectiveDate", "")[:10])
    raise PriceError(f"{product.get('product', {}).get('sku')}: no on-demand price")


def fetch_price(client, region: str, key: str) -> tuple[float, str, str, str]:
    """(USD, unit, usage type, effective date) of one PRICE_LIST entry, from get_products."""
    service, filters, usage = PRICE_LIST[key]
    fields = {REGION_FIELD.get(service, "regionCode"): region, **filters}
    found, token = [], None
    while True:
        request = {"ServiceCode": service, "FormatVersion": "aws_v1", "MaxResults": 100,
                   "Filters": [{"Type": "TERM_MATCH", "Field": f, "Value": v}
                               for f, v in fields.items()]}
        if token:
            request["NextToken"] = token
        page = client.get_products(**request)
        for text in page.get("PriceList", []):
            product = json.loads(text)
            usagetype = product.get("product", {}).get("attributes", {}).get("usagetype", "")
            if re.fullmatch(rf"(?:[A-Z0-9]+-)?{re.escape(usage)}", usagetype):
                found.append((usagetype, product))
        token = page.get("NextToken")
        if not token:
            break
    if len(found) != 1:
        raise PriceError(f"{key}: the Price List has {len(found)} {service} products with usage "
                         f"type *{usage} in {region} ({', '.join(u for u, _ in found) or 'none'}),"
                         " expected 1")
    usagetype, product = found[0]
    usd, unit, effective = _on_demand(product)
    return usd, unit, usagetype, effective


def refresh_prices(client, region: str, today: str | None = None) -> str:
    """The text of ops/prices/<region>.toml, every price read from the Price List API."""
    today = today or datetime.date.today().isoformat()
    lines = [f"# On-demand list prices for {region}, in USD, for `python -m ops.cost`; written by",
             "# `python -m ops.cost --refresh-prices` from the AWS Price List API (pricing",
             "# get_products). Renew with that command; do not edit by hand.",
             f'region = "{region}"', 'currency = "USD"', f'recorded_on = "{today}"']
    section = None
    for key in PRICE_LIST:
        usd, unit, usagetype, effective = fetch_price(client, region, key)
        service = PRICE_LIST[key][0]
        if key.split(".")[0] != section:
            section = key.split(".")[0]
            lines.append("")
        lines.append(f'[{key}]\nusd = {usd!r}\nunit = "{unit}"\nusagetype = "{usagetype}"\n'
                     f'checked_on = "{today}"\nsource = "AWS Price List API, {service} '
                     f'{usagetype}, effective {effective}"')
    return "\n".join(lines) + "\n"


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
    unconfirmed: tuple[str, ...]  # price keys no source for this region confirmed
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
        rows = [f"USD, on-demand prices for {self.region} as recorded on "
                f"{self.prices_recorded_on}{_caveat(self)}; {self.min_tasks}-{self.max_tasks} tasks "
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
            "prices_unconfirmed": list(self.unconfirmed), "sources": list(self.sources),
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


def _zones(zones) -> str:
    return ", ".join(zones) if zones else "AZ not known"


def estimate(inv: Inventory, assumptions: Assumptions = Assumptions(),
             prices: Prices | None = None, env: str = "") -> Estimate:
    """The on-demand cost of what `inv` declares (read from synthesized stacks or one side of a
    plan, ops/inventory.py), by line; pure arithmetic on it, the prices and the assumptions."""
    prices = prices or load_prices(inv.region)
    a = assumptions
    nats = inv.nat_gateways
    crossing = inv.cross_az_routes
    routes = inv.nat_routes
    albs = [lb for lb in inv.load_balancers if lb.type == "application"]
    public_albs = [lb for lb in albs if not lb.internal]
    alb_ips = sum(lb.subnet_count for lb in public_albs)
    services = inv.services
    lines = [
        _fixed("nat.hours", "NAT gateway hours", "NAT gateway-hour", prices["nat_gateway.per_hour"],
               len(nats), f"{len(nats)} aws_nat_gateway ({_zones(nats)}), always on"),
        _fixed("nat.processing", "NAT gateway data processed", "GB",
               prices["nat_gateway.per_gb_processed"], a.nat_gb_per_month / HOURS if nats else 0,
               f"assumed {a.nat_gb_per_month:g} GB/month through NAT (--nat-gb-per-month)"
               if nats else "no NAT gateway"),
        _fixed("data.cross_az", "Cross-AZ data to the NAT gateway", "GB, both ways",
               prices["data_transfer.inter_az_per_gb_each_way"],
               2 * a.nat_gb_per_month * len(crossing) / len(routes) / HOURS if crossing else 0,
               f"{len(crossing)} of {len(routes)} private route tables send 0.0.0.0/0 to a NAT "
               f"in another AZ ({', '.join(f'{s} -> {n}' for s, n in crossing)}): their share of "
               "the NAT GB (spread evenly), billed leaving one AZ and entering the other"
               if crossing else "every private subnet routes to a NAT gateway in its own AZ"),
        _fixed("ipv4.eip", "Elastic IPs", "public IPv4-hour", prices["public_ipv4.per_hour"],
               inv.eips, f"{inv.eips} aws_eip"),
        _fixed("alb.hours", "ALB hours", "ALB-hour", prices["alb.per_hour"], len(albs),
               f"{len(albs)} aws_lb of type application"),
        _fixed("alb.lcu", "ALB capacity units", "LCU-hour", prices["alb.per_lcu_hour"],
               a.alb_lcu * len(albs),
               f"assumed {a.alb_lcu:g} LCU on average per ALB (--alb-lcu)"),
        _fixed("ipv4.alb", "ALB public IPv4 addresses", "public IPv4-hour",
               prices["public_ipv4.per_hour"], alb_ips,
               f"an internet-facing ALB holds one public IPv4 per subnet: {alb_ips} "
               f"({', '.join(f'{lb.name}: {lb.subnet_count}' for lb in public_albs) or 'none'})"),
        Line("fargate.vcpu", "Fargate vCPU", "vCPU-hour", prices["fargate.per_vcpu_hour"],
             sum(s.vcpu * s.min_tasks for s in services),
             sum(s.vcpu * s.max_tasks for s in services),
             "; ".join(f"{s.name}: {s.cpu} cpu units = {s.vcpu:g} vCPU per task x "
                       f"{s.min_tasks} (min) / {s.max_tasks} (max) tasks" for s in services)
             or "no ECS service"),
        Line("fargate.memory", "Fargate memory", "GB-hour", prices["fargate.per_gb_hour"],
             sum(s.memory_gb * s.min_tasks for s in services),
             sum(s.memory_gb * s.max_tasks for s in services),
             "; ".join(f"{s.name}: {s.memory} MiB = {s.memory_gb:g} GB per task x "
                       f"{s.min_tasks} (min) / {s.max_tasks} (max) tasks" for s in services)
             or "no ECS service"),
    ]
    logged = [s for s in services if s.log_groups]
    if logged:
        lines.append(_fixed("logs.ingestion", "CloudWatch Logs ingestion", "GB",
                            prices["cloudwatch.logs_ingestion_per_gb"],
                            a.log_gb_per_month * len(logged) / HOURS,
                            f"assumed {a.log_gb_per_month:g} GB/month of container logs per "
                            f"service (--log-gb-per-month), into "
                            f"{', '.join(g for s in logged for g in s.log_groups)}"))
    to_logs = [f for f, _ in inv.flow_logs if f == "cloud-watch-logs"]
    if to_logs:
        lines.append(_fixed("logs.flow_logs", "VPC flow logs ingestion", "GB",
                            prices["cloudwatch.vended_logs_per_gb"],
                            a.flow_log_gb_per_month * len(to_logs) / HOURS,
                            f"{len(to_logs)} aws_flow_log to CloudWatch Logs; assumed "
                            f"{a.flow_log_gb_per_month:g} GB/month each (--flow-log-gb-per-month)"))
    if inv.interface_endpoints:
        az_hours = sum(count for _, count in inv.interface_endpoints)
        lines += [
            _fixed("endpoints.hours", "Interface VPC endpoints", "endpoint AZ-hour",
                   prices["vpc_endpoint.interface_per_az_hour"], az_hours,
                   f"{len(inv.interface_endpoints)} interface aws_vpc_endpoint ("
                   + ", ".join(f"{name} x {count} AZs" for name, count in inv.interface_endpoints)
                   + ")"),
            _fixed("endpoints.processing", "VPC endpoint data processed", "GB",
                   prices["vpc_endpoint.interface_per_gb"], a.endpoint_gb_per_month / HOURS,
                   f"assumed {a.endpoint_gb_per_month:g} GB/month through the endpoints "
                   "(--endpoint-gb-per-month)"),
        ]
    if inv.alarms:
        lines.append(_fixed("cloudwatch.alarms", "CloudWatch alarms", "alarm-month",
                            prices["cloudwatch.alarm_per_month"], inv.alarms / HOURS,
                            f"{inv.alarms} aws_cloudwatch_metric_alarm (standard resolution)"))
    retention = ", ".join(f"{name} {days or 'never expires'}{' days' if days else ''}"
                          for name, days in inv.log_groups)
    notes = ["not included: data transfer out to the internet, "
             + (f"log storage ({retention}), " if retention else "")
             + (f"{', '.join(inv.not_priced)} (no line here), " if inv.not_priced else "")
             + "taxes; Fargate is Linux/x86 on demand (no Savings Plans or Spot)"]
    return Estimate(env, inv.region, prices.recorded_on, prices.unconfirmed, prices.sources,
                    inv.min_tasks, inv.max_tasks, assumptions, tuple(lines), tuple(notes))


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


def _caveat(est: Estimate) -> str:
    return (f" (not confirmed for this region: {', '.join(est.unconfirmed)})"
            if est.unconfirmed else "")


def format_estimate(est: Estimate, explain: bool = False) -> str:
    """A table: line, quantity per 30 days x unit price, per hour, per 30 days. `explain` adds
    how each quantity follows from the config and the assumptions."""
    a = est.assumptions
    out = [f"{est.env} ({est.region}): USD, on-demand prices as recorded on "
           f"{est.prices_recorded_on}{_caveat(est)}; {est.min_tasks}-{est.max_tasks} tasks, "
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
        return (f"  {c.item:<36} {_range(c.before_monthly_min, c.before_monthly_max, 2):>15} -> "
                f"{_range(c.after_monthly_min, c.after_monthly_max, 2):>15}  "
                f"({_range(c.delta_monthly_min, c.delta_monthly_max, 2)})")
    if not change:
        return f"{change.env}: no change in the 30-day estimate"
    return "\n".join([f"{change.env}: 30-day estimate, USD, before -> after (change)"]
                     + [row(c) for c in change.changes] + [row(change.total)])


def stack_names(env: EnvironmentConfig) -> list[str]:
    return list(env.stack_names.values())


def estimate_synthesized(env: EnvironmentConfig, outdir: Path,
                         assumptions: Assumptions = Assumptions()) -> Estimate:
    """The estimate of `env`'s stacks as synthesized in `outdir` (cdktf.out)."""
    inv = from_synthesized(load_stacks(outdir, stack_names(env)), env.region)
    return estimate(inv, assumptions, env=env.name)


def plan_change(env: EnvironmentConfig, plan_dir: Path, outdir: Path | None = None,
                assumptions: Assumptions = Assumptions()) -> tuple[EstimateDiff, list[str]]:
    """The cost change of saved plans (`plan_dir/<stack>.json`, `terraform show -json`): the
    estimate of their before sides against their after sides. A stack with no plan JSON (not
    planned: a dependency is not deployed yet) counts as created from its synthesized JSON in
    `outdir`, if given; the notes say so."""
    plans, missing = {}, []
    for stack in stack_names(env):
        path = Path(plan_dir) / f"{stack}.json"
        if path.is_file():
            plans[stack] = json.loads(path.read_text())
        else:
            missing.append(stack)
    before, after = plan_sides(plans)
    notes = []
    if missing and outdir is not None:
        after = merge(after, synthesized_side(load_stacks(outdir, missing)))
        notes.append(f"not planned yet, counted as created as synthesized: {', '.join(missing)}")
    prices = load_prices(env.region)
    change = diff(estimate(inventory(before, env.region), assumptions, prices, env.name),
                  estimate(inventory(after, env.region), assumptions, prices, env.name))
    return change, notes


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops cost` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="cost", renames={"--outdir": "--stacks", "--plan": "--plans"})


if __name__ == "__main__":
    sys.exit(main())
