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


def _imports(tree: ast.AST) -> set[str]:
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
            for alias in node.names} | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_no_construct_module_imports_the_config_or_creates_a_provider():
    modules = sorted(CONSTRUCTS.rglob("*.py"))
    assert len(modules) > 20 and CONSTRUCTS / "ci_policies.py" in modules
    for path in modules:
        tree = ast.parse(path.read_text())
        imported = _imports(tree)
        assert not {name for name in imported if name.split(".")[0] in ("config", "stacks")}, (
            f"{path.relative_to(CONSTRUCTS)} imports the environment config or the stacks")
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert "AwsProvider" not in names, path.name


def test_the_props_load_no_cdktf():
    """The config loader checks a file by building props: that must not start jsii."""
    import subprocess
    import sys

    modules = ["constructs_lib.props." + path.stem
               for path in sorted((CONSTRUCTS / "props").glob("[!_]*.py"))]
    code = (f"import sys, {', '.join(modules)}, constructs_lib.ci_policies, stacks.props, config\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}\n"
            "             & {'cdktf', 'jsii', 'constructs'}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=CONSTRUCTS.parent,
                            capture_output=True, text=True, check=True)
    assert len(modules) >= 8 and result.stdout == "[]\n"


def test_every_prop_is_documented_with_its_default():
    """Each props field has a comment; a field with a default says it (`@default ...`), as
    aws-cdk-lib documents its props."""
    from ops.config_reference import field_comments

    classes = 0
    for path in CONSTRUCTS.rglob("*.py"):
        source = path.read_text()
        tree = ast.parse(source)
        comments = field_comments(source)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ClassDef) and node.name.endswith("Props")):
                continue
            classes += 1
            for item in node.body:
                if isinstance(item, ast.AnnAssign):
                    comment = comments[(node.name, item.target.id)]
                    assert comment, f"{path.name}: {node.name}.{item.target.id} has no comment"
                    assert item.value is None or "@default" in comment, (
                        f"{path.name}: {node.name}.{item.target.id}: say its @default")
    assert classes >= 12
