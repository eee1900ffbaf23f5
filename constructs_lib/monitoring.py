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

from .config import AlarmsConfig


@dataclass(frozen=True)
class ServiceMonitoringProps:
    name: str
    region: str
    config: AlarmsConfig
    cluster_name: str
    service_name: str
    load_balancer_arn_suffix: str
    target_group_arn_suffix: str


class ServiceMonitoring(Construct):
    def __init__(self, scope: Construct, id: str, props: ServiceMonitoringProps) -> None:
        super().__init__(scope, id)
        config = props.config
        self.topic = SnsTopic(self, "alarm_topic", name=f"{props.name}-alarms",
                              kms_master_key_id="alias/aws/sns")
        if config.email:
            SnsTopicSubscription(self, "alarm_email", topic_arn=self.topic.arn,
                                 protocol="email", endpoint=config.email)
        alb = {"LoadBalancer": props.load_balancer_arn_suffix}
        target = {**alb, "TargetGroup": props.target_group_arn_suffix}
        service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
        self.alarms = {
            "alb_5xx": self._alarm(props, "alb-5xx", "The load balancer answers 5xx",
                                   "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb, "Sum",
                                   config.alb_5xx_per_minute),
            "target_5xx": self._alarm(props, "target-5xx", "The application answers 5xx",
                                      "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", target,
                                      "Sum", config.target_5xx_per_minute),
            "unhealthy_hosts": self._alarm(props, "unhealthy-hosts", "Targets fail health checks",
                                           "AWS/ApplicationELB", "UnHealthyHostCount", target,
                                           "Maximum", config.unhealthy_hosts),
            "p90_latency": self._alarm(props, "p90-latency", "Slow responses (p90)",
                                       "AWS/ApplicationELB", "TargetResponseTime", target,
                                       "p90", config.p90_latency_seconds),
            "cpu_high": self._alarm(props, "cpu-high", "Service CPU high", "AWS/ECS",
                                    "CPUUtilization", service, "Average", config.cpu_percent),
            "memory_high": self._alarm(props, "memory-high", "Service memory high", "AWS/ECS",
                                       "MemoryUtilization", service, "Average",
                                       config.memory_percent),
            "tasks_below_desired": self._tasks_below_desired(props, service),
        }
        CloudwatchDashboard(self, "dashboard", dashboard_name=props.name,
                            dashboard_body=self._dashboard_body(props, alb, target, service))

    def _alarm(self, props: ServiceMonitoringProps, suffix: str, description: str,
               namespace: str, metric: str, dimensions: dict, statistic: str,
               threshold: float) -> CloudwatchMetricAlarm:
        percentile = statistic.startswith("p")
        return CloudwatchMetricAlarm(
            self, suffix.replace("-", "_"), alarm_name=f"{props.name}-{suffix}",
            alarm_description=description, namespace=namespace, metric_name=metric,
            dimensions=dimensions, period=60,
            statistic=None if percentile else statistic,
            extended_statistic=statistic if percentile else None,
            comparison_operator="GreaterThanOrEqualToThreshold", threshold=threshold,
            evaluation_periods=props.config.evaluation_minutes,
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn])

    def _tasks_below_desired(self, props: ServiceMonitoringProps,
                             service: dict) -> CloudwatchMetricAlarm:
        def metric(id_: str, name: str) -> CloudwatchMetricAlarmMetricQuery:
            return CloudwatchMetricAlarmMetricQuery(id=id_, metric={
                "namespace": "ECS/ContainerInsights", "metric_name": name,
                "dimensions": service, "period": 60, "stat": "Average"})
        return CloudwatchMetricAlarm(
            self, "tasks_below_desired", alarm_name=f"{props.name}-tasks-below-desired",
            alarm_description="Fewer tasks run than the service wants (needs Container Insights)",
            comparison_operator="GreaterThanThreshold", threshold=0,
            evaluation_periods=props.config.evaluation_minutes, treat_missing_data="notBreaching",
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
