"""ops/cost.py and ops/inventory.py: the counts the estimate uses against the synthesized
resources, every line against figures worked out by hand from ops/prices/ap-south-1.toml
(change a price there and update the figures here), the cost change of a real plan, and the
price file's renewal from recorded AWS Price List API answers."""

import dataclasses
import gzip
import json
import zlib
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from ops import cost, inventory
from ops.core.synthesized import read_stacks

PLANS = Path(__file__).parent / "fixtures" / "plans"


def synthesized_inventory(synthesized, env) -> inventory.Inventory:
    """`synthesized`: the session's synth, or any with an outdir (several_services)."""
    return inventory.from_synthesized(
        read_stacks(env.stack_names.values(), synthesized.outdir), env.region)


def declared(synthesized, env, resource_type) -> dict:
    """Every resource of a type in the environment's synthesized stacks, by address."""
    found = {}
    for stack in env.stack_names.values():
        for name, values in synthesized.resources(stack, resource_type).items():
            found[f"{stack}/{resource_type}.{name}"] = values
    return found


def test_the_counts_the_estimate_uses_are_the_synthesized_resources(synthesized, env):
    inv = synthesized_inventory(synthesized, env)
    estimate = cost.estimate(inv, env=env.name)
    per_hour = {line.key: (line.per_hour_min, line.per_hour_max) for line in estimate.lines}

    nats = declared(synthesized, env, "aws_nat_gateway")
    assert len(inv.nat_gateways) == len(nats) and per_hour["nat.hours"] == (len(nats),) * 2
    eips = declared(synthesized, env, "aws_eip")
    assert inv.eips == len(eips) and per_hour["ipv4.eip"] == (len(eips),) * 2
    balancers = declared(synthesized, env, "aws_lb")
    assert len(inv.load_balancers) == len(balancers) and per_hour["alb.hours"] == (1, 1)
    public = [values for address, values in declared(synthesized, env, "aws_subnet").items()
              if values["tags"]["Tier"] == "public"]
    assert per_hour["ipv4.alb"] == (len(public),) * 2  # the ALB's subnets: the public ones
    alarms = declared(synthesized, env, "aws_cloudwatch_metric_alarm")
    assert inv.alarms == len(alarms) and per_hour["cloudwatch.alarms"][0] * 720 == len(alarms)
    interface = [v for v in declared(synthesized, env, "aws_vpc_endpoint").values()
                 if v["vpc_endpoint_type"] == "Interface"]
    assert len(inv.interface_endpoints) == len(interface)
    assert ("endpoints.hours" in per_hour) == bool(interface)

    (target,) = declared(synthesized, env, "aws_appautoscaling_target").values()
    (task,) = declared(synthesized, env, "aws_ecs_task_definition").values()
    (service,) = inv.services
    assert (service.min_tasks, service.max_tasks) == (target["min_capacity"],
                                                      target["max_capacity"])
    assert (service.cpu, service.memory) == (int(task["cpu"]), int(task["memory"]))
    vcpu, gb = int(task["cpu"]) / 1024, int(task["memory"]) / 1024
    assert per_hour["fargate.vcpu"] == (vcpu * target["min_capacity"],
                                        vcpu * target["max_capacity"])
    assert per_hour["fargate.memory"] == (gb * target["min_capacity"],
                                          gb * target["max_capacity"])
    flow_logs = declared(synthesized, env, "aws_flow_log")
    assert len(inv.flow_logs) == len(flow_logs)
    assert {name for name, _ in inv.log_groups} == {
        g["name"] for g in declared(synthesized, env, "aws_cloudwatch_log_group").values()}


# By hand, 30 days = 720 h, prices from ops/prices/ap-south-1.toml, default Assumptions
# (50 GB/month through NAT, 1 LCU, 5 GB/month of logs per service, 2 GB/month of flow logs);
# (at min tasks, at max tasks):
UAT = {  # 1 NAT (in a), 3 AZs, 2 vCPU / 4 GB tasks, 1-3 tasks
    "nat.hours": (40.32, 40.32),  # 1 NAT x 720 h x 0.056
    "nat.processing": (2.80, 2.80),  # 50 GB x 0.056
    "data.cross_az": (2 / 3, 2 / 3),  # b and c route to a's NAT: 2/3 x 50 GB x 2 ways x 0.01
    "ipv4.eip": (3.60, 3.60),  # 1 EIP x 720 h x 0.005
    "alb.hours": (17.208, 17.208),  # 720 h x 0.0239
    "alb.lcu": (5.76, 5.76),  # 1 LCU x 720 h x 0.008
    "ipv4.alb": (10.80, 10.80),  # 3 subnets x 720 h x 0.005
    "fargate.vcpu": (61.2864, 183.8592),  # 2 vCPU x 1|3 tasks x 720 h x 0.04256
    "fargate.memory": (13.4064, 40.2192),  # 4 GB x 1|3 tasks x 720 h x 0.004655
    "logs.ingestion": (3.35, 3.35),  # 5 GB x 0.67
    "logs.flow_logs": (1.00, 1.00),  # 2 GB x 0.50
    "cloudwatch.alarms": (0.70, 0.70),  # 7 alarms x 0.10
}
UAT_TOTAL = (160.897467, 310.283067)  # the sum of the above
PROD = {  # 3 NATs (one per AZ), 3 AZs, 2 vCPU / 4 GB tasks, 2-6 tasks
    "nat.hours": (120.96, 120.96),  # 3 NATs x 720 h x 0.056
    "nat.processing": (2.80, 2.80),
    "data.cross_az": (0.0, 0.0),  # every private subnet routes to its own AZ's NAT
    "ipv4.eip": (10.80, 10.80),  # 3 EIPs x 720 h x 0.005
    "alb.hours": (17.208, 17.208),
    "alb.lcu": (5.76, 5.76),
    "ipv4.alb": (10.80, 10.80),
    "fargate.vcpu": (122.5728, 367.7184),  # 2 vCPU x 2|6 tasks x 720 h x 0.04256
    "fargate.memory": (26.8128, 80.4384),  # 4 GB x 2|6 tasks x 720 h x 0.004655
    "logs.ingestion": (3.35, 3.35),
    "logs.flow_logs": (1.00, 1.00),
    "cloudwatch.alarms": (0.70, 0.70),
}
PROD_TOTAL = (322.7636, 621.5348)


@pytest.mark.parametrize("name, expected, total", [("uat", UAT, UAT_TOTAL),
                                                   ("prod", PROD, PROD_TOTAL)])
def test_every_line_matches_hand_checked_figures(synthesized, environments, name, expected,
                                                 total):
    estimate = cost.estimate(synthesized_inventory(synthesized, environments[name]), env=name)
    assert {line.key: (line.monthly_min, line.monthly_max) for line in estimate.lines} == {
        key: pytest.approx(value, abs=1e-6) for key, value in expected.items()}
    assert (estimate.monthly_min, estimate.monthly_max) == pytest.approx(total, abs=1e-5)
    assert estimate.hourly_min == pytest.approx(total[0] / 720, abs=1e-7)
    assert len({line.key for line in estimate.lines}) == len(estimate.lines)


# examples/several-services: the API 1 vCPU / 2 GB x 1-3 tasks, the worker 0.5 vCPU / 1 GB x 1-2
# tasks (its own scaling target), the same network as uat (one NAT) and one ALB they share.
SHOP_FARGATE = {
    "fargate.vcpu.api-shop": (30.6432, 91.9296),  # 1 vCPU x 1|3 tasks x 720 h x 0.04256
    "fargate.memory.api-shop": (6.7032, 20.1096),  # 2 GB x 1|3 tasks x 720 h x 0.004655
    "fargate.vcpu.worker-shop": (15.3216, 30.6432),  # 0.5 vCPU x 1|2 tasks
    "fargate.memory.worker-shop": (3.3516, 6.7032),  # 1 GB x 1|2 tasks
}


def test_several_services_are_priced_each_at_its_own_size_and_task_counts(several_services):
    shop = several_services.environment
    inv = synthesized_inventory(several_services, shop)
    app = read_stacks([shop.stack_names["app"]], several_services.outdir)[shop.stack_names["app"]]
    for service in inv.services:  # each from its own task definition and scaling target
        key = {"api-shop": "api", "worker-shop": "worker"}[service.name]
        task = app["resource"]["aws_ecs_task_definition"][f"{key}_service_task_definition"]
        target = app["resource"]["aws_appautoscaling_target"][f"{key}_service_autoscaling_target"]
        assert (service.cpu, service.memory, service.min_tasks, service.max_tasks) == (
            int(task["cpu"]), int(task["memory"]), target["min_capacity"], target["max_capacity"])
    estimate = cost.estimate(inv, env="shop")
    monthly = {line.key: (line.monthly_min, line.monthly_max) for line in estimate.lines}
    assert {key: value for key, value in monthly.items() if key.startswith("fargate.")} == {
        key: pytest.approx(value, abs=1e-6) for key, value in SHOP_FARGATE.items()}
    # What they share, once.
    assert monthly["alb.hours"] == pytest.approx((17.208, 17.208))
    assert monthly["nat.hours"] == pytest.approx((40.32, 40.32))
    assert monthly["logs.ingestion"] == pytest.approx((6.70, 6.70))  # 5 GB for each service
    assert (estimate.min_tasks, estimate.max_tasks) == (2, 5)
    assert (estimate.monthly_min, estimate.monthly_max) == pytest.approx(
        tuple(sum(figures) for figures in zip(*monthly.values())))
    shared = {key: value for key, value in monthly.items() if not key.startswith("fargate.")}
    assert estimate.monthly_max - sum(high for _, high in shared.values()) == pytest.approx(
        91.9296 + 20.1096 + 30.6432 + 6.7032)
    services = ("api-shop 1 vCPU / 2 GB per task x 1-3 tasks; "
                "worker-shop 0.5 vCPU / 1 GB per task x 1-2 tasks")
    text = cost.format_estimate(estimate, explain=True)
    assert f"\n  services: {services}\n" in text
    assert "  Fargate vCPU, worker-shop          360-720 vCPU-hour x 0.04256 " in text
    assert "worker-shop: 512 cpu units = 0.5 vCPU per task x 1 (min) / 2 (max) tasks" in text
    assert f"Services: {services}." in estimate.to_markdown()


def test_each_service_has_its_own_cpu_target(several_services):
    shop = several_services.environment
    stacks = read_stacks(shop.stack_names.values(), several_services.outdir)
    policy = stacks[shop.stack_names["app"]]["resource"]["aws_appautoscaling_policy"][
        "worker_service_autoscaling_cpu_target_tracking"]
    policy["target_tracking_scaling_policy_configuration"]["target_value"] = 50
    assert {s.name: s.cpu_target for s in inventory.from_synthesized(stacks).services} == {
        "api-shop": 70, "worker-shop": 50}


def plan_dir(tmp_path, name="uat-one-nat-per-az", leave_out=()) -> Path:
    """A recorded plan's `terraform show -json` files, as python -m ops plan writes them."""
    for packed in sorted((PLANS / name).glob("*.json.gz")):
        stack = packed.name.removesuffix(".json.gz")
        if stack not in leave_out:
            (tmp_path / f"{stack}.json").write_bytes(gzip.decompress(packed.read_bytes()))
    return tmp_path


def test_the_cost_change_of_a_plan_follows_from_its_before_and_after(environments, tmp_path):
    # Recorded from uat deployed to the emulator, then planned with one NAT per AZ and at most
    # 4 tasks (tests/fixtures/plans/README.md): 2 NATs and 2 EIPs to add, 2 routes and the
    # scaling target to update.
    change, notes = cost.plan_change(environments["uat"], plan_dir(tmp_path))
    assert notes == []
    assert {c.key: (round(c.delta_monthly_min, 4), round(c.delta_monthly_max, 4))
            for c in change.changes} == {
        "nat.hours": (80.64, 80.64),  # 2 more NATs x 720 h x 0.056
        "data.cross_az": (round(-2 / 3, 4),) * 2,  # b and c now use their own AZ's NAT
        "ipv4.eip": (7.20, 7.20),  # 2 more EIPs x 720 h x 0.005
        "fargate.vcpu": (0.0, 61.2864),  # max 3 -> 4 tasks: 2 vCPU x 720 h x 0.04256
        "fargate.memory": (0.0, 13.4064),  # 4 GB x 720 h x 0.004655
    }
    # The before side is uat as deployed: the same figures as its synthesized stacks.
    total = change.total
    assert (total.before_monthly_min, total.before_monthly_max) == \
        pytest.approx(UAT_TOTAL, abs=1e-5)
    assert total.delta_monthly_min == pytest.approx(80.64 + 7.20 - 2 / 3)
    assert "| NAT gateway hours | 40.32 | 120.96 | 80.64 |" in change.to_markdown()
    assert "NAT gateway hours" in cost.format_diff(change)


def test_a_stack_not_planned_yet_counts_as_created_from_its_synthesized_json(
        synthesized, environments, tmp_path):
    uat = environments["uat"]
    change, notes = cost.plan_change(uat, plan_dir(tmp_path, leave_out=("app-uat",)),
                                     synthesized.outdir)
    assert notes == ["not planned yet, counted as created as synthesized: app-uat"]
    added = {c.key: c for c in change.changes}
    assert added["alb.hours"].before_monthly_min == 0
    assert added["alb.hours"].after_monthly_min == pytest.approx(17.208)
    assert added["fargate.vcpu"].after_monthly_max == pytest.approx(183.8592)


def test_an_unchanged_plan_changes_no_cost(environments, tmp_path):
    folder = plan_dir(tmp_path)
    for path in folder.glob("*.json"):  # every change's after made its before: nothing planned
        shown = json.loads(path.read_text())
        for resource in shown["resource_changes"]:
            resource["change"]["after"] = resource["change"]["before"]
        path.write_text(json.dumps(shown))
    change, _ = cost.plan_change(environments["uat"], folder)
    assert not change and change.to_markdown() == "No change in the 30-day estimate for `uat`."


def test_assumptions_change_only_their_lines(synthesized, environments):
    inv = synthesized_inventory(synthesized, environments["uat"])
    base = cost.estimate(inv)
    more = cost.estimate(inv, cost.Assumptions(nat_gb_per_month=500))
    assert more.line("nat.processing").monthly_min == pytest.approx(500 * 0.056)
    assert more.line("data.cross_az").monthly_min == pytest.approx(500 * 2 / 3 * 2 * 0.01)
    assert "500 GB/month" in more.line("nat.processing").basis
    assert [c.key for c in cost.diff(base, more).changes] == ["nat.processing", "data.cross_az"]


def test_interface_endpoints_are_priced_per_az(synthesized, environments):
    inv = synthesized_inventory(synthesized, environments["uat"])
    assert "endpoints.hours" not in {line.key for line in cost.estimate(inv).lines}
    with_endpoints = dataclasses.replace(inv, interface_endpoints=(("ecr.api", 3), ("logs", 3)))
    hours = cost.estimate(with_endpoints).line("endpoints.hours")
    assert hours.monthly_min == pytest.approx(2 * 3 * 720 * 0.013)
    assert "ecr.api x 3 AZs" in hours.basis


def test_output_states_the_price_date_what_is_unconfirmed_and_the_assumptions(
        synthesized, environments):
    estimate = cost.estimate(synthesized_inventory(synthesized, environments["uat"]), env="uat")
    text = cost.format_estimate(estimate, explain=True)
    prices = cost.load_prices("ap-south-1")
    assert f"as recorded on {prices.recorded_on}" in text
    assert prices.unconfirmed and f"not confirmed for this region: " \
        f"{', '.join(prices.unconfirmed)}" in text
    assert "assumed: 50 GB/month through NAT" in text
    assert "1 aws_nat_gateway (ap-south-1a)" in text
    assert "| **total** |" in estimate.to_markdown()
    assert all(price.source and price.checked_on and price.usagetype.startswith("APS3-")
               for price in prices.prices.values())
    assert set(prices.prices) == set(cost.PRICE_LIST)


def test_unknown_region_and_a_price_without_source_are_one_line_errors(tmp_path):
    with pytest.raises(cost.PriceError, match="no prices for region eu-west-9"):
        cost.load_prices("eu-west-9")
    (tmp_path / "eu-west-9.toml").write_text('region = "eu-west-9"\n[alb.per_hour]\nusd = 1\n')
    with pytest.raises(cost.PriceError, match=r"\[alb.per_hour\] needs usd .* and source"):
        cost.load_prices("eu-west-9", tmp_path)


def test_cli_prints_every_environment_and_json(capsys, synthesized, environments):
    outdir = ["--no-synth", "--outdir", str(synthesized.outdir)]
    assert cost.main(["--env", "uat", *outdir]) == 0
    assert capsys.readouterr().out.startswith("uat (ap-south-1)")
    assert cost.main(["--json", *outdir]) == 0
    data = {item["env"]: item for item in json.loads(capsys.readouterr().out)}
    assert set(data) == set(environments)
    assert data["uat"]["total"]["monthly_min"] == pytest.approx(UAT_TOTAL[0])


def test_cli_shows_the_cost_change_of_saved_plans(capsys, tmp_path):
    assert cost.main(["--env", "uat", "--plan", str(plan_dir(tmp_path)), "--no-synth"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("uat: 30-day estimate, USD, before -> after (change)")
    assert "NAT gateway hours" in out and "120.96" in out


# ---------------------------------------------------------------------------------------------
# Renewing the price file: get_products answers as the AWS Price List API gives them (one JSON
# string per product), recorded here, so no test reaches the network.


def product(service, family, usagetype, usd, unit="Hrs", tiers=None, region="ap-south-1"):
    sku = f"{zlib.crc32(usagetype.encode()):08X}"
    dimensions = {}
    for begin, end, price in tiers or [("0", "Inf", usd)]:
        dimensions[f"{sku}.JRTCKXETXF.{begin}"] = {
            "unit": unit, "beginRange": begin, "endRange": end, "appliesTo": [],
            "description": f"${price} per {unit} ({usagetype})", "rateCode": f"{sku}.{begin}",
            "pricePerUnit": {"USD": f"{float(price):.10f}"}}
    region_field = "fromRegionCode" if service == "AWSDataTransfer" else "regionCode"
    return json.dumps({
        "product": {"productFamily": family, "sku": sku, "attributes": {
            region_field: region, "location": "Asia Pacific (Mumbai)", "servicecode": service,
            "usagetype": usagetype, "operation": ""}},
        "serviceCode": service,
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {
            "priceDimensions": dimensions, "sku": sku, "offerTermCode": "JRTCKXETXF",
            "effectiveDate": "2026-11-01T00:00:00Z", "termAttributes": {}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"})


def answers():
    """Per PRICE_LIST key, the products its get_products filters return in ap-south-1."""
    nat = [product("AmazonEC2", "NAT Gateway", "APS3-NatGateway-Hours", "0.056"),
           product("AmazonEC2", "NAT Gateway", "APS3-NatGateway-Bytes", "0.056", "GB")]
    alb = [product("AWSELB", "Load Balancer-Application", "APS3-LoadBalancerUsage", "0.0239"),
           product("AWSELB", "Load Balancer-Application", "APS3-LCUUsage", "0.008", "LCU-Hrs"),
           product("AWSELB", "Load Balancer-Application", "APS3-Outposts-LoadBalancerUsage",
                   "0.5")]
    fargate = [product("AmazonECS", "Compute", "APS3-Fargate-vCPU-Hours:perCPU", "0.04256",
                       "hours"),
               product("AmazonECS", "Compute", "APS3-Fargate-GB-Hours", "0.004655", "hours"),
               product("AmazonECS", "Compute", "APS3-Fargate-ARM-vCPU-Hours:perCPU", "0.03405",
                       "hours")]
    payload = [product("AmazonCloudWatch", "Data Payload", "APS3-DataProcessing-Bytes", "0.67",
                       "GB"),
               product("AmazonCloudWatch", "Data Payload", "APS3-VendedLog-Bytes", None, "GB",
                       tiers=[("0", "10240", "0.67"), ("10240", "30720", "0.335"),
                              ("30720", "51200", "0.1675"), ("51200", "Inf", "0.067")])]
    endpoints = [product("AmazonVPC", "VpcEndpoint", "APS3-VpcEndpoint-Hours", "0.013"),
                 product("AmazonVPC", "VpcEndpoint", "APS3-VpcEndpoint-Bytes", None, "GB",
                         tiers=[("0", "1048576", "0.01"), ("1048576", "5242880", "0.006"),
                                ("5242880", "Inf", "0.004")])]
    return {
        "nat_gateway.per_hour": nat, "nat_gateway.per_gb_processed": nat,
        "public_ipv4.per_hour": [
            product("AmazonVPC", "", "APS3-PublicIPv4:InUseAddress", "0.005"),
            product("AmazonVPC", "", "APS3-PublicIPv4:IdleAddress", "0.005")],
        "data_transfer.inter_az_per_gb_each_way": [
            product("AWSDataTransfer", "Data Transfer", "APS3-DataTransfer-Regional-Bytes",
                    "0.01", "GB")],
        "alb.per_hour": alb, "alb.per_lcu_hour": alb,
        "fargate.per_vcpu_hour": fargate, "fargate.per_gb_hour": fargate,
        "cloudwatch.logs_ingestion_per_gb": payload, "cloudwatch.vended_logs_per_gb": payload,
        "cloudwatch.alarm_per_month": [
            product("AmazonCloudWatch", "Alarm", "APS3-CW:AlarmMonitorUsage", "0.10", "Alarms"),
            product("AmazonCloudWatch", "Alarm", "APS3-CW:HighResAlarmMonitorUsage", "0.30",
                    "Alarms")],
        "vpc_endpoint.interface_per_az_hour": endpoints,
        "vpc_endpoint.interface_per_gb": endpoints,
    }


def pricing_client():
    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="recorded",
                        aws_secret_access_key="recorded", endpoint_url="https://api.pricing."
                        "us-east-1.amazonaws.com")


def expected_request(key, token=None):
    service, filters, _ = cost.PRICE_LIST[key]
    fields = {cost.REGION_FIELD.get(service, "regionCode"): "ap-south-1", **filters}
    request = {"ServiceCode": service, "FormatVersion": "aws_v1", "MaxResults": 100,
               "Filters": [{"Type": "TERM_MATCH", "Field": f, "Value": v}
                           for f, v in fields.items()]}
    return dict(request, NextToken=token) if token else request


def test_refresh_prices_rewrites_the_file_from_the_price_list_api(tmp_path):
    client = pricing_client()
    recorded = answers()
    with Stubber(client) as stub:
        for key in cost.PRICE_LIST:
            products = recorded[key]
            if key == "fargate.per_vcpu_hour":  # a second page, as get_products paginates
                stub.add_response("get_products", {"PriceList": products[:1],
                                                   "FormatVersion": "aws_v1",
                                                   "NextToken": "page-2"}, expected_request(key))
                stub.add_response("get_products", {"PriceList": products[1:],
                                                   "FormatVersion": "aws_v1"},
                                  expected_request(key, "page-2"))
            else:
                stub.add_response("get_products", {"PriceList": products,
                                                   "FormatVersion": "aws_v1"},
                                  expected_request(key))
        text = cost.refresh_prices(client, "ap-south-1", today="2026-11-26")
        stub.assert_no_pending_responses()
    (tmp_path / "ap-south-1.toml").write_text(text)
    prices = cost.load_prices("ap-south-1", tmp_path)
    assert prices.verified and prices.recorded_on == "2026-11-26"
    assert {key: prices[key] for key in cost.PRICE_LIST} == {
        "nat_gateway.per_hour": 0.056, "nat_gateway.per_gb_processed": 0.056,
        "public_ipv4.per_hour": 0.005, "data_transfer.inter_az_per_gb_each_way": 0.01,
        "alb.per_hour": 0.0239, "alb.per_lcu_hour": 0.008,
        "fargate.per_vcpu_hour": 0.04256, "fargate.per_gb_hour": 0.004655,
        "cloudwatch.logs_ingestion_per_gb": 0.67,
        "cloudwatch.vended_logs_per_gb": 0.67,  # the first tier
        "cloudwatch.alarm_per_month": 0.10, "vpc_endpoint.interface_per_az_hour": 0.013,
        "vpc_endpoint.interface_per_gb": 0.01}
    assert prices.price("fargate.per_gb_hour").source == \
        "AWS Price List API, AmazonECS APS3-Fargate-GB-Hours, effective 2026-11-01"
    # The committed file holds the same usage types the API is asked for.
    committed = cost.load_prices("ap-south-1")
    assert {k: p.usagetype for k, p in committed.prices.items()} == \
        {k: p.usagetype for k, p in prices.prices.items()}


def test_refresh_prices_refuses_an_ambiguous_or_missing_product():
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"},
                          expected_request("nat_gateway.per_hour"))
        with pytest.raises(cost.PriceError, match=r"nat_gateway.per_hour: the Price List has 0 "
                                                  r"AmazonEC2 products .* expected 1"):
            cost.refresh_prices(client, "ap-south-1")


def test_the_docs_state_the_estimate_of_every_environment(synthesized, environments):
    doc = (Path(__file__).parent.parent / "docs" / "architecture-and-cost.md").read_text()
    for name, env in environments.items():
        estimate = cost.estimate(synthesized_inventory(synthesized, env), env=name)
        row = next(line for line in doc.splitlines() if line.startswith(f"| {name} | "))
        assert f"| {estimate.monthly_min:.2f}-{estimate.monthly_max:.2f} |" in row, row
