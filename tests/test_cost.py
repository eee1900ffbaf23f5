"""ops/cost.py: the estimate's lines against figures worked out by hand from
ops/prices/ap-south-1.toml (change a price there and update the figures here), the NAT choice,
optional settings, and diff()."""

import dataclasses
import json

import pytest

from constructs_lib.config import NatGateways
from ops import cost
from constructs_lib.config import INTERFACE_ENDPOINT_SERVICES

# The lines every environment has, whatever optional settings (flow logs, alarms, ...) add.
CORE = ("nat.hours", "nat.processing", "data.cross_az", "ipv4.nat", "alb.hours", "alb.lcu",
        "ipv4.alb", "fargate.vcpu", "fargate.memory", "logs.ingestion")

# By hand, 30 days = 720 h, prices from ops/prices/ap-south-1.toml, default Assumptions
# (50 GB/month through NAT, 1 LCU, 5 GB/month of logs); (at min tasks, at max tasks):
UAT = {  # 1 NAT (single, in a), 3 AZs, 2 vCPU / 4 GB tasks, 1-3 tasks
    "nat.hours": (40.32, 40.32),  # 1 NAT x 720 h x 0.056
    "nat.processing": (2.80, 2.80),  # 50 GB x 0.056
    "data.cross_az": (2 / 3, 2 / 3),  # b and c have no NAT: 2/3 x 50 GB x 2 ways x 0.01
    "ipv4.nat": (3.60, 3.60),  # 1 EIP x 720 h x 0.005
    "alb.hours": (17.208, 17.208),  # 720 h x 0.0239
    "alb.lcu": (5.76, 5.76),  # 1 LCU x 720 h x 0.008
    "ipv4.alb": (10.80, 10.80),  # 3 AZs x 720 h x 0.005
    "fargate.vcpu": (67.0464, 201.1392),  # 2 vCPU x 1|3 tasks x 720 h x 0.04656
    "fargate.memory": (14.7168, 44.1504),  # 4 GB x 1|3 tasks x 720 h x 0.00511
    "logs.ingestion": (2.50, 2.50),  # 5 GB x 0.50
}
UAT_TOTAL = (165.41787, 328.94427)  # sum of the above
PROD = {  # 3 NATs (one per AZ), 3 AZs, 2 vCPU / 4 GB tasks, 2-6 tasks
    "nat.hours": (120.96, 120.96),  # 3 NATs x 720 h x 0.056
    "nat.processing": (2.80, 2.80),  # 50 GB x 0.056
    "data.cross_az": (0.0, 0.0),  # every AZ has its own NAT
    "ipv4.nat": (10.80, 10.80),  # 3 EIPs x 720 h x 0.005
    "alb.hours": (17.208, 17.208),
    "alb.lcu": (5.76, 5.76),
    "ipv4.alb": (10.80, 10.80),
    "fargate.vcpu": (134.0928, 402.2784),  # 2 vCPU x 2|6 tasks x 720 h x 0.04656
    "fargate.memory": (29.4336, 88.3008),  # 4 GB x 2|6 tasks x 720 h x 0.00511
    "logs.ingestion": (2.50, 2.50),
}
PROD_TOTAL = (334.3544, 661.4072)


def _core(estimate):
    return {key: (estimate.line(key).monthly_min, estimate.line(key).monthly_max)
            for key in CORE}


@pytest.mark.parametrize("name, expected, total", [("uat", UAT, UAT_TOTAL),
                                                   ("prod", PROD, PROD_TOTAL)])
def test_core_lines_match_hand_checked_figures(environments, name, expected, total):
    estimate = cost.estimate(environments[name])
    assert _core(estimate) == {key: pytest.approx(value, abs=1e-6)
                               for key, value in expected.items()}
    core_lines = [estimate.line(key) for key in CORE]
    assert sum(line.monthly_min for line in core_lines) == pytest.approx(total[0], abs=1e-4)
    assert sum(line.monthly_max for line in core_lines) == pytest.approx(total[1], abs=1e-4)
    assert sum(line.hourly_min for line in core_lines) == pytest.approx(total[0] / 720, abs=1e-6)


def test_totals_are_the_sum_of_every_line(env):
    estimate = cost.estimate(env)
    assert estimate.monthly_min == pytest.approx(sum(l.monthly_min for l in estimate.lines))
    assert estimate.monthly_max == pytest.approx(sum(l.monthly_max for l in estimate.lines))
    assert estimate.monthly_min <= estimate.monthly_max
    assert len({line.key for line in estimate.lines}) == len(estimate.lines)


def test_one_nat_per_az_triples_the_nat_lines_and_ends_cross_az_traffic(environments):
    uat = environments["uat"]
    assert uat.network.nat_gateways is NatGateways.SINGLE
    per_az = dataclasses.replace(uat, network=dataclasses.replace(
        uat.network, nat_gateways=NatGateways.ONE_PER_AZ))
    before, after = cost.estimate(uat), cost.estimate(per_az)
    assert after.line("nat.hours").monthly_min == pytest.approx(3 * 40.32)
    assert after.line("ipv4.nat").monthly_min == pytest.approx(3 * 3.60)
    assert after.line("data.cross_az").monthly_min == 0
    # Traffic through NAT is the same, just spread over three gateways.
    assert after.line("nat.processing") == before.line("nat.processing")

    change = cost.diff(before, after)
    assert {c.key: round(c.delta_monthly_min, 4) for c in change.changes} == {
        "nat.hours": 80.64, "data.cross_az": round(-2 / 3, 4), "ipv4.nat": 7.20}
    assert change.total.delta_monthly_min == pytest.approx(80.64 + 7.20 - 2 / 3)
    assert "NAT gateway hours" in cost.format_diff(change)
    assert "| NAT gateway hours | 40.32 | 120.96 | 80.64 |" in change.to_markdown()
    assert not cost.diff(before, cost.estimate(uat))


def test_more_tasks_move_only_the_fargate_lines(environments):
    uat = environments["uat"]
    bigger = dataclasses.replace(uat, service=dataclasses.replace(
        uat.service, scaling=dataclasses.replace(uat.service.scaling, max_capacity=6)))
    change = cost.diff(cost.estimate(uat), cost.estimate(bigger))
    assert [c.key for c in change.changes] == ["fargate.vcpu", "fargate.memory"]
    vcpu = change.changes[0]
    assert vcpu.delta_monthly_min == 0
    assert vcpu.delta_monthly_max == pytest.approx(2 * 3 * 720 * 0.04656)


def test_assumptions_change_the_traffic_lines(environments):
    estimate = cost.estimate(environments["uat"], cost.Assumptions(nat_gb_per_month=500))
    assert estimate.line("nat.processing").monthly_min == pytest.approx(500 * 0.056)
    assert estimate.line("data.cross_az").monthly_min == pytest.approx(500 * 2 / 3 * 2 * 0.01)
    assert "500 GB/month" in estimate.line("nat.processing").basis


def test_interface_endpoints_are_priced_only_when_enabled(environments):
    uat = environments["uat"]
    off = dataclasses.replace(uat, network=dataclasses.replace(uat.network, vpc_endpoints=False))
    on = dataclasses.replace(uat, network=dataclasses.replace(uat.network, vpc_endpoints=True))
    assert "endpoints.hours" not in {line.key for line in cost.estimate(off).lines}
    services = INTERFACE_ENDPOINT_SERVICES  # the S3 gateway endpoint is free
    hours = cost.estimate(on).line("endpoints.hours")
    # services x 3 AZs x 720 h x 0.011
    assert hours.monthly_min == pytest.approx(len(services) * 3 * 720 * 0.011)
    change = cost.diff(cost.estimate(off), cost.estimate(on))
    added = {c.key: c for c in change.changes}["endpoints.hours"]
    assert added.before_monthly_min == 0 and added.after_monthly_min == hours.monthly_min


def test_output_states_the_price_date_and_assumptions(environments):
    text = cost.format_estimate(cost.estimate(environments["uat"]))
    prices = cost.load_prices("ap-south-1")
    assert f"as recorded on {prices.recorded_on}" in text
    if not prices.verified:
        assert "verify before relying on them" in text
    assert "assumed: 50 GB/month through NAT" in text
    assert "1 NAT gateway(s)" in cost.format_estimate(cost.estimate(environments["uat"]),
                                                     explain=True)
    assert "| **total** |" in cost.estimate(environments["uat"]).to_markdown()
    assert prices.sources and all(s.startswith("https://aws.amazon.com/") for s in prices.sources)


def test_unknown_region_is_one_line_error():
    with pytest.raises(cost.PriceError, match="no prices for region eu-west-9"):
        cost.load_prices("eu-west-9")


def test_cli_prints_every_environment_and_json(capsys, environments):
    assert cost.main(["--env", "uat"]) == 0
    assert capsys.readouterr().out.startswith("uat (ap-south-1)")
    assert cost.main(["--json"]) == 0
    data = {item["env"]: item for item in json.loads(capsys.readouterr().out)}
    assert set(data) == set(environments)
    assert data["uat"]["total"]["monthly_min"] == pytest.approx(
        cost.estimate(environments["uat"]).monthly_min)
