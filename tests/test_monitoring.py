"""constructs_lib/monitoring.py: what CloudWatch can deliver and what ALB and ECS publish.

The emulator checks neither a KMS key policy nor metric dimensions: a topic CloudWatch cannot
use, or an alarm on a dimension set no service publishes, passes every deploy there and stays
silent on AWS. These tests check the synthesized JSON against AWS's documentation instead."""


import pytest

from constructs_lib.alarm_set import ROLLBACK_ALARMS
from helpers import document, ref, synth_variant, with_service

# The dimension sets each metric is published with (AvailabilityZone variants left out: nothing
# here uses them). AWS/ApplicationELB: https://docs.aws.amazon.com/elasticloadbalancing/latest/
# application/load-balancer-cloudwatch-metrics.html ("Metric dimensions for Application Load
# Balancers", and each metric's "Dimensions" column); AWS/ECS: https://docs.aws.amazon.com/
# AmazonECS/latest/developerguide/available-metrics.html; ECS/ContainerInsights: https://docs.
# aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html.
LB, TG = frozenset({"LoadBalancer"}), frozenset({"LoadBalancer", "TargetGroup"})
SERVICE = frozenset({"ClusterName", "ServiceName"})
PUBLISHED = {
    ("AWS/ApplicationELB", "RequestCount"): {LB, TG},
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"): {LB},
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"): {LB, TG},
    ("AWS/ApplicationELB", "TargetResponseTime"): {LB, TG},
    ("AWS/ApplicationELB", "HealthyHostCount"): {TG},
    ("AWS/ApplicationELB", "UnHealthyHostCount"): {TG},
    ("AWS/ECS", "CPUUtilization"): {SERVICE, frozenset({"ClusterName"})},
    ("AWS/ECS", "MemoryUtilization"): {SERVICE, frozenset({"ClusterName"})},
    ("ECS/ContainerInsights", "RunningTaskCount"): {SERVICE},
    ("ECS/ContainerInsights", "DesiredTaskCount"): {SERVICE},
}
BLUE = "${aws_lb_target_group.load_balancer_target_group.arn_suffix}"
GREEN = "${aws_lb_target_group.load_balancer_green_target_group.arn_suffix}"
ALB = "${aws_lb.load_balancer_alb.arn_suffix}"


@pytest.fixture(scope="module")
def blue_green(environments) -> dict:
    return synth_variant(with_service(environments["uat"], blue_green={
        "enabled": True, "test_listener_port": 8080}))["app-uat"]


def alarms(stack: dict) -> dict:
    return {a["alarm_name"].split("-", 3)[3]: a  # hello-world-<env>-<suffix>
            for a in stack["resource"]["aws_cloudwatch_metric_alarm"].values()}


def metrics_of(stack: dict) -> list[tuple[str, str, dict]]:
    """(namespace, metric, dimensions) of every metric an alarm or the dashboard asks for."""
    found = []
    for alarm in stack["resource"]["aws_cloudwatch_metric_alarm"].values():
        if "metric_name" in alarm:
            found.append((alarm["namespace"], alarm["metric_name"], alarm["dimensions"]))
        for query in alarm.get("metric_query", []):
            if "metric" in query:
                metric = query["metric"]
                found.append((metric["namespace"], metric["metric_name"], metric["dimensions"]))
    for dashboard in stack["resource"]["aws_cloudwatch_dashboard"].values():
        for widget in document(dashboard["dashboard_body"])["widgets"]:
            for namespace, metric, *dims in widget["properties"]["metrics"]:
                found.append((namespace, metric, dict(zip(dims[::2], dims[1::2]))))
    return found


def test_every_alarm_and_dashboard_metric_is_one_aws_publishes(synthesized, env, blue_green):
    for stack in (synthesized.parsed(f"app-{env.name}"), blue_green):
        for namespace, metric, dimensions in metrics_of(stack):
            assert frozenset(dimensions) in PUBLISHED[namespace, metric], (metric, dimensions)


def test_the_check_finds_a_dimension_aws_does_not_publish():
    # the dashboard's former ELB 5xx line, per target group
    assert frozenset({"LoadBalancer", "TargetGroup"}) not in PUBLISHED[
        "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"]


def test_blue_green_alarms_see_whichever_target_group_serves(blue_green):
    found = alarms(blue_green)
    for name in ("alb-5xx", "target-5xx", "p90-latency"):  # the load balancer: every target group
        assert found[name]["dimensions"] == {"LoadBalancer": ALB}, name
    unhealthy = found["unhealthy-hosts"]
    assert "metric_name" not in unhealthy and "dimensions" not in unhealthy
    queries = {q["id"]: q for q in unhealthy["metric_query"]}
    assert queries["total"]["expression"] == "SUM([m0, m1])"
    assert queries["total"]["return_data"] is True
    assert [queries[m]["metric"]["dimensions"]["TargetGroup"] for m in ("m0", "m1")] == [
        BLUE, GREEN]
    assert {queries[m]["metric"]["metric_name"] for m in ("m0", "m1")} == {"UnHealthyHostCount"}
    (group,) = blue_green["resource"]["aws_codedeploy_deployment_group"].values()
    assert group["alarm_configuration"]["alarms"] == [
        ref("aws_cloudwatch_metric_alarm", f"monitoring_{key}", "alarm_name")
        for key in ROLLBACK_ALARMS]


def test_blue_green_dashboard_shows_both_target_groups(blue_green):
    (dashboard,) = blue_green["resource"]["aws_cloudwatch_dashboard"].values()
    (health,) = [w for w in document(dashboard["dashboard_body"])["widgets"]
                 if w["properties"]["title"] == "Healthy / unhealthy targets"]
    groups = [line[line.index("TargetGroup") + 1] for line in health["properties"]["metrics"]]
    assert groups == [BLUE, GREEN, BLUE, GREEN]


def test_the_alarm_topic_uses_a_key_cloudwatch_may_use(synthesized, env):
    stack = synthesized.parsed(f"app-{env.name}")
    (topic,) = stack["resource"]["aws_sns_topic"].values()
    assert topic["kms_master_key_id"] == ref("aws_kms_key", "monitoring_alarm_key", "arn")
    (key,) = stack["resource"]["aws_kms_key"].values()
    assert key["enable_key_rotation"] is True
    statements = {s["Sid"]: s for s in document(key["policy"])["Statement"]}
    account = "${data.aws_caller_identity.monitoring_account.account_id}"
    partition = "${data.aws_partition.monitoring_partition.partition}"
    assert statements["AccountAdministers"]["Principal"] == {
        "AWS": f"arn:{partition}:iam::{account}:root"}
    cloudwatch = statements["CloudWatchAlarmsEncrypt"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    only_these_alarms = {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{env.region}:{account}:alarm:"
                                     f"hello-world-{env.name}-*"}}
    assert cloudwatch["Condition"] == only_these_alarms
    (policy,) = stack["resource"]["aws_sns_topic_policy"].values()
    assert policy["arn"] == ref("aws_sns_topic", "monitoring_alarm_topic", "arn")
    (publish,) = document(policy["policy"])["Statement"]
    assert (publish["Principal"], publish["Action"], publish["Resource"]) == (
        {"Service": "cloudwatch.amazonaws.com"}, "sns:Publish", policy["arn"])
    assert publish["Condition"] == only_these_alarms
    # every alarm is one the conditions admit
    for alarm in alarms(stack).values():
        assert alarm["alarm_name"].startswith(f"hello-world-{env.name}-")
