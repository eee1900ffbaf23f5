"""The constructs take what they use: two services from the same constructs in one stack, with
nothing from this project's environment config but the value objects they are given."""

import ast
import json
from pathlib import Path

from cdktf import App, Testing, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.fargate_service import (FargateService, FargateServiceProps,
                                            ServiceLoadBalancer)
from constructs_lib.load_balancer import LoadBalancer, LoadBalancerProps
from constructs_lib.monitoring import ServiceMonitoring, ServiceMonitoringProps
from helpers import document

CONSTRUCTS = Path(__file__).resolve().parent.parent / "constructs_lib"
VPC, PUBLIC, PRIVATE = "vpc-0123", ["subnet-a", "subnet-b"], ["subnet-c", "subnet-d"]


def two_services() -> dict:
    stack = TerraformStack(Testing.stub_version(App(stack_traces=False)), "two")
    AwsProvider(stack, "aws", region="eu-west-1")
    for name, port, image in (("api", 8080, "nginx:1.27"), ("admin", 9000, "httpd:2.4")):
        alb = LoadBalancer(stack, f"{name}_lb", LoadBalancerProps(
            name=name, vpc_id=VPC, public_subnet_ids=PUBLIC, target_port=port,
            target_group_name_prefix=f"{name}-"))
        service = FargateService(stack, name, FargateServiceProps(
            name=name, log_group_name=f"/ecs/{name}", region="eu-west-1", partition="aws",
            vpc_id=VPC, private_subnet_ids=PRIVATE, image=image, container_port=port,
            cpu=256, memory=512,
            load_balancer=ServiceLoadBalancer(target_group_arn=alb.target_group.arn,
                                              security_group_id=alb.security_group.id,
                                              listener=alb.listener)))
        ServiceMonitoring(stack, f"{name}_monitoring", ServiceMonitoringProps(
            name=name, region="eu-west-1", cluster_name=service.cluster.name,
            service_name=service.service.name,
            load_balancer_arn_suffix=alb.load_balancer.arn_suffix,
            target_group_arn_suffix=alb.target_group.arn_suffix))
    return json.loads(Testing.synth(stack))


def test_two_services_from_the_same_constructs_in_one_stack():
    synthesized = two_services()
    resources = synthesized["resource"]
    assert sorted(s["name"] for s in resources["aws_ecs_service"].values()) == ["admin", "api"]
    assert sorted(lb["name"] for lb in resources["aws_lb"].values()) == ["admin", "api"]
    images = sorted(document(task["container_definitions"])[0]["image"]
                    for task in resources["aws_ecs_task_definition"].values())
    assert images == ["httpd:2.4", "nginx:1.27"]
    ports = sorted(group["port"] for group in resources["aws_lb_target_group"].values())
    assert ports == [8080, 9000]
    assert len(resources["aws_cloudwatch_metric_alarm"]) == 14  # the alarm set, twice
    # Defaults documented on the props: 100/200 rolling deploys with a circuit breaker.
    api = next(s for s in resources["aws_ecs_service"].values() if s["name"] == "api")
    assert (api["deployment_minimum_healthy_percent"], api["deployment_maximum_percent"]) == (
        100, 200)
    assert api["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


def test_no_construct_reads_the_service_config_or_creates_a_provider():
    for path in CONSTRUCTS.glob("*.py"):
        # The modules that map the environment config: the config itself, the stacks, and
        # what CI may do in an environment (derived from all its names).
        if path.name in ("config.py", "stacks.py", "ci_policies.py", "__init__.py"):
            continue
        names = {node.id for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Name)}
        assert not names & {"ServiceConfig", "EnvironmentConfig", "AwsProvider"}, path.name


def test_every_props_field_is_documented():
    for path in CONSTRUCTS.glob("*.py"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.startswith("class ") and line.rstrip(":").endswith("Props"):
                body = []
                for field_line in lines[number + 1:]:
                    if field_line and not field_line.startswith(" "):
                        break
                    body.append(field_line)
                fields = [i for i, text in enumerate(body)
                          if text.startswith("    ") and not text.startswith("     ")
                          and ": " in text and not text.strip().startswith(("#", '"'))]
                for i in fields:
                    documented = "#" in body[i] or body[i - 1].strip().startswith("#")
                    assert documented, f"{path.name}: {body[i].strip()} has no description"
