"""constructs_lib/fargate_service.py, through the app-<env> stacks."""

from cdktf import Testing
from cdktf_cdktf_provider_aws.appautoscaling_policy import AppautoscalingPolicy
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster
from cdktf_cdktf_provider_aws.ecs_service import EcsService
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

from helpers import document, ref, rules_of
from stacks.props import fargate_service as service_props

PARTITION = "${data.aws_partition.partition.partition}"


def app_json(synthesized, env) -> str:
    return synthesized.json[f"app-{env.name}"]


def only(synthesized, env, resource_type) -> dict:
    (resource,) = synthesized.resources(f"app-{env.name}", resource_type).values()
    return resource


def roles(synthesized, env) -> dict:
    return synthesized.resources(f"app-{env.name}", "aws_iam_role")


def test_cluster_has_container_insights(synthesized, env):
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), EcsCluster.TF_RESOURCE_TYPE, {
        "name": f"hello-world-{env.name}",
        "setting": [{"name": "containerInsights", "value": "enabled"}],
    })


def test_task_definition_is_a_fargate_task_of_the_configured_size(synthesized, env):
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), EcsTaskDefinition.TF_RESOURCE_TYPE, {
        "family": f"hello-world-{env.name}",
        "requires_compatibilities": ["FARGATE"],
        "network_mode": "awsvpc",
        "cpu": str(service_props(env).cpu),
        "memory": str(service_props(env).memory),
        "execution_role_arn": ref("aws_iam_role", "service_execution_role", "arn"),
        "task_role_arn": ref("aws_iam_role", "service_task_role", "arn"),
    })


def test_container_runs_the_image_on_its_port_with_env_and_logs(synthesized, env):
    task = only(synthesized, env, "aws_ecs_task_definition")
    (container,) = document(task["container_definitions"])
    assert container["name"] == "web"
    assert container["image"] == ref("aws_ssm_parameter", "image_version_parameter",
                                     "insecure_value")
    assert container["essential"] is True
    assert container["portMappings"] == [{"containerPort": 8000, "protocol": "tcp"}]
    assert container["environment"] == [{"name": "NODE_ENV", "value": env.name}]
    assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": ref("aws_cloudwatch_log_group", "service_log_group", "name"),
        "awslogs-region": "ap-south-1",
        "awslogs-stream-prefix": "web",
    }}


def test_uat_runs_the_guides_task(synthesized, environments):
    uat = environments["uat"].service
    assert (uat.image, uat.cpu, uat.memory, dict(uat.environment)) == (
        "crccheck/hello-world:latest", 2048, 4096, {"NODE_ENV": "uat"})


def test_prod_pins_an_image_tag(environments):
    assert not environments["prod"].service.image.endswith(":latest")
    assert ":" in environments["prod"].service.image


def test_log_group_keeps_logs_for_the_configured_days(synthesized, env):
    assert Testing.to_have_resource_with_properties(
        app_json(synthesized, env), CloudwatchLogGroup.TF_RESOURCE_TYPE,
        {"name": f"/ecs/hello-world-{env.name}",
         "retention_in_days": service_props(env).log_retention_days})
    assert service_props(env).log_retention_days > 0


def test_roles_trust_only_ecs_tasks(synthesized, env):
    for name in ("service_execution_role", "service_task_role"):
        trust = document(roles(synthesized, env)[name]["assume_role_policy"])
        assert trust["Statement"] == [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                       "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]


# state-uat creates the repository; uat and prod run images from it (prod shares it on
# purpose), named, not referenced.
REPOSITORY_ARN = (f"arn:{PARTITION}:ecr:ap-south-1:${{data.aws_caller_identity.account."
                  "account_id}:repository/hello-world/hello-world")


def test_execution_role_may_write_its_log_group_and_pull_from_its_repository(synthesized, env):
    policy = only(synthesized, env, "aws_iam_role_policy")
    assert policy["role"] == ref("aws_iam_role", "service_execution_role")
    statements = document(policy["policy"])["Statement"]
    assert statements == [{
        "Sid": "WriteLogs", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": ref("aws_cloudwatch_log_group", "service_log_group", "arn") + ":*",
    }, {
        "Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }, {
        "Sid": "PullImage", "Effect": "Allow",
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                   "ecr:GetDownloadUrlForLayer"],
        "Resource": REPOSITORY_ARN,
    }]


def test_the_version_of_record_is_seeded_once_and_then_left_to_releases(synthesized, env):
    parameter = only(synthesized, env, "aws_ssm_parameter")
    assert parameter["name"] == env.names.image_parameter == (
        f"/hello-world/{env.name}/hello-world/image")
    assert (parameter["type"], parameter["insecure_value"]) == ("String", env.service.image)
    # Releases write the value and describe themselves (tag, commit, who): Terraform keeps out.
    assert parameter["lifecycle"] == {"ignore_changes": ["insecure_value", "description"]}
    outputs = synthesized.parsed(f"app-{env.name}")["output"]
    assert outputs["image_parameter_name"]["value"] == ref(
        "aws_ssm_parameter", "image_version_parameter", "name")
    assert outputs["task_definition_arn"]["value"] == ref(
        "aws_ecs_task_definition", "service_task_definition", "arn")
    # Releases take the container's name and port from the config (stacks.props), as the task
    # definition does: no output echoes them back.
    assert not {"container_name", "container_port"} & set(outputs)
    (container,) = document(only(synthesized, env, "aws_ecs_task_definition")
                            ["container_definitions"])
    settings = service_props(env)
    assert (container["name"], container["portMappings"][0]["containerPort"]) == (
        settings.container_name, settings.container_port) == ("web", 8000)


def test_only_uats_state_stack_creates_the_shared_repository(synthesized):
    # there, CI's image job can push before network and app exist
    assert list(synthesized.resources("state-uat", "aws_ecr_repository")) == [
        "images_repository"]
    for stack in ("app-uat", "app-prod", "state-prod", "network-uat", "network-prod"):
        assert synthesized.resources(stack, "aws_ecr_repository") == {}, stack
    for env in ("uat", "prod"):
        assert synthesized.parsed(f"app-{env}")["output"]["ecr_repository_url"]["value"] == (
            "${data.aws_caller_identity.account.account_id}.dkr.ecr.ap-south-1."
            "${data.aws_partition.partition.dns_suffix}/hello-world/hello-world")
    assert synthesized.parsed("state-uat")["output"]["ecr_repository_url"]["value"] == ref(
        "aws_ecr_repository", "images_repository", "repository_url")


def test_uat_task_role_has_the_guides_managed_policies(synthesized):
    attachments = synthesized.resources("app-uat", "aws_iam_role_policy_attachment").values()
    assert sorted(a["policy_arn"] for a in attachments) == [
        f"arn:{PARTITION}:iam::aws:policy/AmazonS3FullAccess",
        f"arn:{PARTITION}:iam::aws:policy/SecretsManagerReadWrite",
    ]
    assert Testing.to_have_resource_with_properties(
        synthesized.json["app-uat"], IamRolePolicyAttachment.TF_RESOURCE_TYPE,
        {"role": ref("aws_iam_role", "service_task_role", "name")})


def test_prod_task_role_has_no_full_access_policies(synthesized):
    attachments = synthesized.resources("app-prod", "aws_iam_role_policy_attachment").values()
    assert not [a for a in attachments if "FullAccess" in a["policy_arn"]]


def test_service_security_group_admits_only_the_alb_on_the_container_port(synthesized, env):
    ingress = synthesized.resources(f"app-{env.name}", "aws_vpc_security_group_ingress_rule")
    (rule,) = rules_of(ingress, "service_security_group")
    assert rule["referenced_security_group_id"] == ref(
        "aws_security_group", "load_balancer_security_group")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 8000, 8000)
    assert "cidr_ipv4" not in rule


def test_alb_may_reach_only_the_service_on_the_container_port(synthesized, env):
    egress = synthesized.resources(f"app-{env.name}", "aws_vpc_security_group_egress_rule")
    (rule,) = rules_of(egress, "load_balancer_security_group")
    assert rule["referenced_security_group_id"] == ref("aws_security_group",
                                                       "service_security_group")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 8000, 8000)
    (service_egress,) = rules_of(egress, "service_security_group")
    assert (service_egress["ip_protocol"], service_egress["cidr_ipv4"]) == ("-1", "0.0.0.0/0")


def test_service_runs_in_private_subnets_behind_the_target_group(synthesized, env):
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), EcsService.TF_RESOURCE_TYPE, {
        "name": f"hello-world-{env.name}",
        "cluster": ref("aws_ecs_cluster", "service_cluster", "arn"),
        "task_definition": ref("aws_ecs_task_definition", "service_task_definition", "arn"),
        "launch_type": "FARGATE",
        "network_configuration": {
            "subnets": ref("data.aws_subnets", "network_private_subnets", "ids"),
            "security_groups": [ref("aws_security_group", "service_security_group")],
            "assign_public_ip": False,
        },
        "load_balancer": [{
            "target_group_arn": ref("aws_lb_target_group", "load_balancer_target_group", "arn"),
            "container_name": "web", "container_port": 8000,
        }],
        "depends_on": ["aws_lb_listener.load_balancer_http_listener"],
    })


def test_service_count_starts_at_the_minimum_and_is_left_to_autoscaling(synthesized, env):
    service = only(synthesized, env, "aws_ecs_service")
    assert service["desired_count"] == service_props(env).scaling.min_capacity
    assert service["lifecycle"] == {"ignore_changes": ["desired_count"]}


def test_rolling_deploys_keep_full_capacity_and_roll_back(synthesized, env):
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), EcsService.TF_RESOURCE_TYPE, {
        "deployment_minimum_healthy_percent": 100,
        "deployment_maximum_percent": 200,
        "deployment_circuit_breaker": {"enable": True, "rollback": True},
        "health_check_grace_period_seconds": 60,
    })


def test_autoscaling_targets_the_service_count_between_min_and_max(synthesized, env):
    scaling = service_props(env).scaling
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), AppautoscalingTarget.TF_RESOURCE_TYPE, {
        "service_namespace": "ecs",
        "scalable_dimension": "ecs:service:DesiredCount",
        "resource_id": "service/%s/%s" % (
            ref("aws_ecs_cluster", "service_cluster", "name"),
            ref("aws_ecs_service", "service_service", "name")),
        "min_capacity": scaling.min_capacity,
        "max_capacity": scaling.max_capacity,
    })
    assert "role_arn" not in only(synthesized, env, "aws_appautoscaling_target")


def test_autoscaling_tracks_average_cpu_with_both_cooldowns(synthesized, env):
    scaling = service_props(env).scaling
    assert Testing.to_have_resource_with_properties(app_json(synthesized, env), AppautoscalingPolicy.TF_RESOURCE_TYPE, {
        "policy_type": "TargetTrackingScaling",
        "resource_id": ref("aws_appautoscaling_target", "service_autoscaling_target",
                           "resource_id"),
        "target_tracking_scaling_policy_configuration": {
            "predefined_metric_specification": {
                "predefined_metric_type": "ECSServiceAverageCPUUtilization"},
            "target_value": scaling.cpu_target_percent,
            "scale_in_cooldown": scaling.scale_in_cooldown_seconds,
            "scale_out_cooldown": scaling.scale_out_cooldown_seconds,
        },
    })


def test_uat_scales_like_the_guide(environments):
    scaling = service_props(environments["uat"]).scaling
    assert (scaling.min_capacity, scaling.max_capacity, scaling.cpu_target_percent,
            scaling.scale_in_cooldown_seconds, scaling.scale_out_cooldown_seconds) == (
        1, 3, 70, 60, 60)


def test_uats_state_stack_adopts_the_repository_its_app_stack_made(synthesized):
    # Deployments from before the move: state-uat imports what app-uat made (when ops.deploy
    # finds the repository exists: importing what does not exist fails) ...
    adopt = '${var.adopt_image_repository ? ["hello-world/hello-world"] : []}'
    assert synthesized.parsed("state-uat")["import"] == [
        {"for_each": adopt, "to": "aws_ecr_repository.images_repository", "id": "${each.value}"},
        {"for_each": adopt, "to": "aws_ecr_lifecycle_policy.images_lifecycle",
         "id": "${each.value}"}]
    assert synthesized.parsed("state-uat")["variable"]["adopt_image_repository"] == {
        "type": "bool", "default": False,
        "description": "Import the existing ECR repository hello-world/hello-world "
                       "(ops.deploy sets it)"}
    # ... and app-uat forgets it without destroying it, once state-uat has it.
    assert synthesized.parsed("app-uat")["removed"] == [
        {"from": "aws_ecr_repository.images_repository", "lifecycle": {"destroy": False}},
        {"from": "aws_ecr_lifecycle_policy.images_lifecycle", "lifecycle": {"destroy": False}}]
    for stack in ("state-prod", "app-prod", "network-uat"):
        assert not {"import", "removed"} & set(synthesized.parsed(stack)), stack
