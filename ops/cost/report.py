"""The estimate as people read it (a table), and the command line of `python -m ops cost`."""

from __future__ import annotations


from ops.cost.estimate import HOURS, Estimate, EstimateDiff, LineChange, caveat, quantity, span


def format_estimate(est: Estimate, explain: bool = False) -> str:
    """A table: line, quantity per 30 days x unit price, per hour, per 30 days. `explain` adds
    how each quantity follows from the config and the assumptions."""
    a = est.assumptions
    out = [f"{est.env} ({est.region}): USD, on-demand prices as recorded on "
           f"{est.prices_recorded_on}{caveat(est)}; {est.min_tasks}-{est.max_tasks} tasks, "
           f"figures are at min-max tasks; 30 days = {HOURS} h"]
    if est.per_service:
        out.append(f"  services: {est.per_service}")
    out.append(f"  {'line':<34} {'per 30 days x USD':<34} {'per hour':>15} {'per 30 days':>15}")
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
               + " (python -m ops cost --help to change them)")
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
