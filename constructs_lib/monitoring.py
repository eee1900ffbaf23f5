"""Alarms on a load-balanced ECS service, an SNS topic they notify, and a dashboard."""

from __future__ import annotations

from constructs import Construct
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (CloudwatchMetricAlarm,
                                                              CloudwatchMetricAlarmMetricQuery)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription

from .alarm_set import METRIC_ALARMS, TASKS_BELOW_DESIRED, Alarm
from .iam import policy_document
from .json_document import json_document
from .props.monitoring import AlarmsProps, ServiceMonitoringProps  # noqa: F401

CLOUDWATCH = "cloudwatch.amazonaws.com"


class ServiceMonitoring(Construct):
    """An SNS topic encrypted with its own KMS key, both letting CloudWatch alarms of this
    service publish; the alarm set of constructs_lib/alarm_set.py on it (by key in `alarms`);
    and a dashboard."""

    def __init__(self, scope: Construct, id: str, props: ServiceMonitoringProps) -> None:
        super().__init__(scope, id)
        thresholds = props.alarms
        self.topic = self._topic(props)
        if thresholds.email:
            SnsTopicSubscription(self, "alarm_email", topic_arn=self.topic.arn,
                                 protocol="email", endpoint=thresholds.email)
        alb = {"LoadBalancer": props.load_balancer_arn_suffix}
        suffixes = [props.target_group_arn_suffix] + (
            [props.green_target_group_arn_suffix] if props.green_target_group_arn_suffix else [])
        targets = [{**alb, "TargetGroup": suffix} for suffix in suffixes]
        service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
        dimensions = {"alb": [alb], "target": targets, "service": [service]}
        balanced = props.load_balancer_arn_suffix is not None
        self.alarms = {alarm.key: self._alarm(props, alarm, dimensions[self._dimensions(
                           props, alarm)], getattr(thresholds, alarm.threshold))
                       for alarm in METRIC_ALARMS if alarm.watches(balanced)}
        self.alarms[TASKS_BELOW_DESIRED.replace("-", "_")] = self._tasks_below_desired(
            props, service)
        CloudwatchDashboard(self, "dashboard", dashboard_name=props.name,
                            dashboard_body=self._dashboard_body(props, alb, targets, service))

    @staticmethod
    def _dimensions(props: ServiceMonitoringProps, alarm: Alarm) -> str:
        """The application's own ALB metrics are the target group's when others share the
        load balancer (ALB publishes them per target group too); its own 5xx stay the ALB's."""
        if (props.shared_load_balancer and alarm.dimensions == "alb"
                and alarm.metric != "HTTPCode_ELB_5XX_Count"):
            return "target"
        return alarm.dimensions

    def _topic(self, props: ServiceMonitoringProps) -> SnsTopic:
        """CloudWatch cannot publish to a topic encrypted with the AWS managed key (alias/aws/
        sns), whose key policy cannot grant it: "Enable compatibility between event sources
        from AWS services and encrypted topics", https://docs.aws.amazon.com/sns/latest/dg/
        sns-key-management.html#compatibility-with-aws-services. A customer managed key grants
        it, and the topic policy lets it publish; both only for this account's alarms named
        <name>-* (aws:SourceAccount / aws:SourceArn against the confused deputy, https://docs.
        aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html)."""
        account = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        alarms = f"arn:{partition}:cloudwatch:{props.region}:{account}:alarm:{props.name}-*"
        only_these_alarms = {"StringEquals": {"aws:SourceAccount": account},
                             "ArnLike": {"aws:SourceArn": alarms}}
        key = KmsKey(self, "alarm_key", description=f"{props.name} alarm topic",
                     enable_key_rotation=True, policy=policy_document([
                         # The account's IAM policies decide who else may use the key.
                         {"Sid": "AccountAdministers", "Effect": "Allow",
                          "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                          "Action": "kms:*", "Resource": "*"},
                         {"Sid": "CloudWatchAlarmsEncrypt", "Effect": "Allow",
                          "Principal": {"Service": CLOUDWATCH},
                          "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
                          "Condition": only_these_alarms},
                     ]))
        KmsAlias(self, "alarm_key_alias", name=f"alias/{props.name}-alarms",
                 target_key_id=key.key_id)
        topic = SnsTopic(self, "alarm_topic", name=f"{props.name}-alarms",
                         kms_master_key_id=key.arn)
        SnsTopicPolicy(self, "alarm_topic_policy", arn=topic.arn, policy=policy_document([
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
             "Principal": {"Service": CLOUDWATCH}, "Action": "sns:Publish",
             "Resource": topic.arn, "Condition": only_these_alarms},
        ]))
        return topic

    def _alarm(self, props: ServiceMonitoringProps, alarm: Alarm, dimensions: list[dict],
               threshold: float) -> CloudwatchMetricAlarm:
        """One metric; or, over several dimension sets (blue and green), their SUM."""
        percentile = alarm.statistic.startswith("p")
        common = dict(alarm_name=f"{props.name}-{alarm.suffix}",
                      alarm_description=alarm.description,
                      comparison_operator="GreaterThanOrEqualToThreshold", threshold=threshold,
                      evaluation_periods=props.alarms.evaluation_minutes,
                      treat_missing_data="notBreaching",
                      alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn])
        if len(dimensions) == 1:
            return CloudwatchMetricAlarm(
                self, alarm.key, namespace=alarm.namespace, metric_name=alarm.metric,
                dimensions=dimensions[0], period=60,
                statistic=None if percentile else alarm.statistic,
                extended_statistic=alarm.statistic if percentile else None, **common)
        if percentile:  # a sum of percentiles means nothing
            raise ValueError(f"alarm {alarm.suffix}: a percentile cannot be summed over "
                             "target groups; use the load balancer's dimension")
        ids = [f"m{index}" for index in range(len(dimensions))]
        return CloudwatchMetricAlarm(self, alarm.key, metric_query=[
            *(CloudwatchMetricAlarmMetricQuery(id=id_, metric={
                "namespace": alarm.namespace, "metric_name": alarm.metric,
                "dimensions": dims, "period": 60, "stat": alarm.statistic})
              for id_, dims in zip(ids, dimensions)),
            CloudwatchMetricAlarmMetricQuery(
                id="total", expression=f"SUM([{', '.join(ids)}])",
                label=f"{alarm.metric}, all target groups", return_data=True),
        ], **common)

    def _tasks_below_desired(self, props: ServiceMonitoringProps,
                             service: dict) -> CloudwatchMetricAlarm:
        def metric(id_: str, name: str) -> CloudwatchMetricAlarmMetricQuery:
            return CloudwatchMetricAlarmMetricQuery(id=id_, metric={
                "namespace": "ECS/ContainerInsights", "metric_name": name,
                "dimensions": service, "period": 60, "stat": "Average"})
        return CloudwatchMetricAlarm(
            self, TASKS_BELOW_DESIRED.replace("-", "_"),
            alarm_name=f"{props.name}-{TASKS_BELOW_DESIRED}",
            alarm_description="Fewer tasks run than the service wants (needs Container Insights)",
            comparison_operator="GreaterThanThreshold", threshold=0,
            evaluation_periods=props.alarms.evaluation_minutes, treat_missing_data="notBreaching",
            metric_query=[
                metric("desired", "DesiredTaskCount"), metric("running", "RunningTaskCount"),
                CloudwatchMetricAlarmMetricQuery(id="missing", expression="desired - running",
                                                 label="Tasks missing", return_data=True),
            ],
            alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn])

    @staticmethod
    def _dashboard_body(props: ServiceMonitoringProps, alb: dict, targets: list[dict],
                        service: dict) -> str:
        def widget(title: str, namespace: str, metrics: list[str], dimensions: list[dict],
                   stat: str, more: tuple[str, list[dict]] | None = None) -> dict:
            """`metrics` over each of `dimensions` (and `more`: a metric over its own)."""
            pairs = [(metric, dims) for metric in metrics for dims in dimensions]
            if more:
                pairs += [(more[0], dims) for dims in more[1]]
            lines = [[namespace, metric, *[part for key, value in dims.items()
                                           for part in (key, value)]] for metric, dims in pairs]
            return {"type": "metric", "width": 12, "height": 6, "properties": {
                "title": title, "region": props.region, "stat": stat, "period": 60,
                "metrics": lines}}
        # Target 5xx and latency per load balancer: every target group; target health exists
        # per target group only (blue and green, with blue/green). Where others share the load
        # balancer, the service's own target groups (as the alarms). ELB 5xx exists per load
        # balancer only: a TargetGroup dimension would draw an empty line.
        own = targets if props.shared_load_balancer else [alb]
        balancer = [] if props.load_balancer_arn_suffix is None else [
            widget("Requests", "AWS/ApplicationELB", ["RequestCount"], own, "Sum"),
            widget("5xx", "AWS/ApplicationELB", ["HTTPCode_ELB_5XX_Count"], [alb], "Sum",
                   more=("HTTPCode_Target_5XX_Count", own)),
            widget("Latency p90", "AWS/ApplicationELB", ["TargetResponseTime"], own, "p90"),
            widget("Healthy / unhealthy targets", "AWS/ApplicationELB",
                   ["HealthyHostCount", "UnHealthyHostCount"], targets, "Maximum")]
        return json_document({"widgets": [
            *balancer,
            widget("CPU and memory", "AWS/ECS", ["CPUUtilization", "MemoryUtilization"],
                   [service], "Average"),
            widget("Tasks", "ECS/ContainerInsights", ["RunningTaskCount", "DesiredTaskCount"],
                   [service], "Average"),
        ]})
