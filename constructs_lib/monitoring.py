"""Alarms on a load-balanced ECS service, an SNS topic they notify, and a dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (CloudwatchMetricAlarm,
                                                              CloudwatchMetricAlarmMetricQuery)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription

from .alarm_set import METRIC_ALARMS, TASKS_BELOW_DESIRED, Alarm
from .config import AlarmsConfig


@dataclass(frozen=True)
class ServiceMonitoringProps:
    """What ServiceMonitoring watches and how loudly."""

    name: str  # prefixes the topic, the alarms (<name>-<suffix>) and names the dashboard
    region: str  # the dashboard's metrics region
    cluster_name: str  # the ECS service's cluster (ECS and Container Insights metrics)
    service_name: str  # the ECS service watched
    load_balancer_arn_suffix: str  # the ALB in front of it (ApplicationELB metrics)
    target_group_arn_suffix: str  # the service's target group
    # @default the AlarmsConfig defaults: thresholds, evaluation minutes, optional email.
    alarms: AlarmsConfig = AlarmsConfig()


class ServiceMonitoring(Construct):
    """An encrypted SNS topic, the alarm set of constructs_lib/alarm_set.py on it (by key in
    `alarms`), and a dashboard."""

    def __init__(self, scope: Construct, id: str, props: ServiceMonitoringProps) -> None:
        super().__init__(scope, id)
        thresholds = props.alarms
        self.topic = SnsTopic(self, "alarm_topic", name=f"{props.name}-alarms",
                              kms_master_key_id="alias/aws/sns")
        if thresholds.email:
            SnsTopicSubscription(self, "alarm_email", topic_arn=self.topic.arn,
                                 protocol="email", endpoint=thresholds.email)
        alb = {"LoadBalancer": props.load_balancer_arn_suffix}
        target = {**alb, "TargetGroup": props.target_group_arn_suffix}
        service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
        dimensions = {"alb": alb, "target": target, "service": service}
        self.alarms = {alarm.key: self._alarm(props, alarm, dimensions[alarm.dimensions],
                                              getattr(thresholds, alarm.threshold))
                       for alarm in METRIC_ALARMS}
        self.alarms[TASKS_BELOW_DESIRED.replace("-", "_")] = self._tasks_below_desired(
            props, service)
        CloudwatchDashboard(self, "dashboard", dashboard_name=props.name,
                            dashboard_body=self._dashboard_body(props, alb, target, service))

    def _alarm(self, props: ServiceMonitoringProps, alarm: Alarm, dimensions: dict,
               threshold: float) -> CloudwatchMetricAlarm:
        percentile = alarm.statistic.startswith("p")
        return CloudwatchMetricAlarm(
            self, alarm.key, alarm_name=f"{props.name}-{alarm.suffix}",
            alarm_description=alarm.description, namespace=alarm.namespace,
            metric_name=alarm.metric, dimensions=dimensions, period=60,
            statistic=None if percentile else alarm.statistic,
            extended_statistic=alarm.statistic if percentile else None,
            comparison_operator="GreaterThanOrEqualToThreshold", threshold=threshold,
            evaluation_periods=props.alarms.evaluation_minutes,
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn])

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
    def _dashboard_body(props: ServiceMonitoringProps, alb: dict, target: dict,
                        service: dict) -> str:
        def widget(title: str, namespace: str, metrics: list[str], dimensions: dict,
                   stat: str) -> dict:
            dims = [part for key, value in dimensions.items() for part in (key, value)]
            return {"type": "metric", "width": 12, "height": 6, "properties": {
                "title": title, "region": props.region, "stat": stat, "period": 60,
                "metrics": [[namespace, metric, *dims] for metric in metrics]}}
        return json.dumps({"widgets": [
            widget("Requests", "AWS/ApplicationELB", ["RequestCount"], alb, "Sum"),
            widget("5xx", "AWS/ApplicationELB",
                   ["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"], target, "Sum"),
            widget("Latency p90", "AWS/ApplicationELB", ["TargetResponseTime"], target, "p90"),
            widget("Healthy / unhealthy targets", "AWS/ApplicationELB",
                   ["HealthyHostCount", "UnHealthyHostCount"], target, "Maximum"),
            widget("CPU and memory", "AWS/ECS", ["CPUUtilization", "MemoryUtilization"],
                   service, "Average"),
            widget("Tasks", "ECS/ContainerInsights", ["RunningTaskCount", "DesiredTaskCount"],
                   service, "Average"),
        ]}, sort_keys=True)
