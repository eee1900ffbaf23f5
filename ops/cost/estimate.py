"""The estimate: what an inventory (ops/inventory.py) costs, line by line, at the recorded prices
and the stated assumptions; and the difference of two estimates."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import EnvironmentConfig
from ops.core import synthesized
from ops.cost.prices import Prices, load_prices
from ops.inventory import (Inventory, Service, from_synthesized, inventory, merge, plan_sides,
                           synthesized_side, total)


HOURS = 720  # a 30-day month: every "30 days" figure is the hourly figure x 720


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
    services: tuple[Service, ...] = ()  # the ECS services the Fargate lines price

    @property
    def per_service(self) -> str:
        """Each service's size and task counts, when there are several ("" for one)."""
        return "; ".join(f"{s.name} {s.size} x {s.min_tasks}-{s.max_tasks} tasks"
                         for s in self.services) if len(self.services) > 1 else ""

    def line(self, key: str) -> Line:
        return next(line for line in self.lines if line.key == key)

    hourly_min = total("hourly_min", "lines")
    hourly_max = total("hourly_max", "lines")

    def to_markdown(self) -> str:
        """A Markdown table (for pull request comments); same figures as format_estimate."""
        rows = [f"USD, on-demand prices for {self.region} as recorded on "
                f"{self.prices_recorded_on}{caveat(self)}; {self.min_tasks}-{self.max_tasks} tasks "
                f"(figures at min-max tasks); 30 days = {HOURS} h."
                + (f" Services: {self.per_service}." if self.per_service else ""), "",
                "| line | per 30 days x USD | per hour | per 30 days |", "|---|---|--:|--:|"]
        rows += [f"| {line.item} | {quantity(line)} | {span(line.hourly_min, line.hourly_max, 4)}"
                 f" | {span(line.monthly_min, line.monthly_max, 2)} |" for line in self.lines]
        rows.append(f"| **total** | | **{span(self.hourly_min, self.hourly_max, 4)}** | "
                    f"**{span(self.monthly_min, self.monthly_max, 2)}** |")
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


def _per_task(key: str, item: str, unit: str, price: float, services, size, describe) -> Line:
    """A Fargate line: `size(service)` units per task, at the services' minimum and maximum
    task counts; `describe(service)` says what one task has."""
    return Line(key, item, unit, price, sum(size(s) * s.min_tasks for s in services),
                sum(size(s) * s.max_tasks for s in services),
                "; ".join(f"{s.name}: {describe(s)} per task x {s.min_tasks} (min) / "
                          f"{s.max_tasks} (max) tasks" for s in services) or "no ECS service")


def _fargate(prices: Prices, services: tuple[Service, ...]) -> list[Line]:
    """Fargate vCPU and memory; a pair for each service when there are several, so that each
    shows what it costs (the total adds them up)."""
    def pair(group, key: str, item: str) -> list[Line]:
        return [_per_task(f"fargate.vcpu{key}", f"Fargate vCPU{item}", "vCPU-hour",
                          prices["fargate.per_vcpu_hour"], group, lambda s: s.vcpu,
                          lambda s: f"{s.cpu} cpu units = {s.vcpu:g} vCPU"),
                _per_task(f"fargate.memory{key}", f"Fargate memory{item}", "GB-hour",
                          prices["fargate.per_gb_hour"], group, lambda s: s.memory_gb,
                          lambda s: f"{s.memory} MiB = {s.memory_gb:g} GB")]
    if len(services) <= 1:
        return pair(services, "", "")
    return [line for s in services for line in pair((s,), f".{s.name}", f", {s.name}")]


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
        *_fargate(prices, services),
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
                    inv.min_tasks, inv.max_tasks, assumptions, tuple(lines), tuple(notes),
                    services)


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
            rows.append(f"| {c.item} | {span(c.before_monthly_min, c.before_monthly_max, 2)} | "
                        f"{span(c.after_monthly_min, c.after_monthly_max, 2)} | "
                        f"{span(c.delta_monthly_min, c.delta_monthly_max, 2)} |")
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


def span(low: float, high: float, digits: int) -> str:
    return f"{low:.{digits}f}" if round(low, digits) == round(high, digits) \
        else f"{low:.{digits}f}-{high:.{digits}f}"


def quantity(line: Line) -> str:
    def number(value: float) -> str:
        return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.2f}"
    low, high = line.per_hour_min * HOURS, line.per_hour_max * HOURS
    amount = number(low) if low == high else f"{number(low)}-{number(high)}"
    return f"{amount} {line.unit} x {line.unit_price:g}"


def caveat(est: Estimate) -> str:
    return (f" (not confirmed for this region: {', '.join(est.unconfirmed)})"
            if est.unconfirmed else "")


def stack_names(env: EnvironmentConfig) -> list[str]:
    return list(env.stack_names.values())


def estimate_synthesized(env: EnvironmentConfig, outdir: Path,
                         assumptions: Assumptions = Assumptions()) -> Estimate:
    """The estimate of `env`'s stacks as synthesized in `outdir` (cdktf.out)."""
    inv = from_synthesized(synthesized.read_stacks(stack_names(env), outdir), env.region)
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
        after = merge(after, synthesized_side(synthesized.read_stacks(missing, outdir)))
        notes.append(f"not planned yet, counted as created as synthesized: {', '.join(missing)}")
    prices = load_prices(env.region)
    change = diff(estimate(inventory(before, env.region), assumptions, prices, env.name),
                  estimate(inventory(after, env.region), assumptions, prices, env.name))
    return change, notes
