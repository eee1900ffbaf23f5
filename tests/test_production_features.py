"""Issue #4's settings, on and off: ECR images, deploy safety, blue/green, monitoring, hardening.

Modules: constructs_lib/image_repository.py, blue_green.py, monitoring.py, access_logs.py,
load_balancer.py and fargate_service.py, through synthesized app stacks."""

import json

import pytest
from cdktf import Testing
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import CodedeployDeploymentGroup
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic

from config import ALARM_NAMES, FieldError, ServiceConfig
from constructs_lib.props import PropError
from constructs_lib.props.load_balancer import LoadBalancerProps
from constructs_lib.props.monitoring import AlarmsProps
from helpers import document, ref, synth_variant, with_service
from stacks.props import check, image_repository

COMMIT = "3f9c2e1a7b4d"
SECRET = ("arn:aws:secretsmanager:ap-south-1:123456789012:secret:"
          "ecr-pullthroughcache/docker-hub-AbCdEf")
CERTIFICATE = "arn:aws:acm:ap-south-1:123456789012:certificate/0e7c2a4b-1d3f-4a5b-9c8d-112233445566"


@pytest.fixture(scope="module")
def variants(environments):
    """Synthesized app stacks of uat with one feature switched on, once per module."""
    uat = environments["uat"]
    settings = {
        "public": dict(ecr_repository=False),
        "ecr": dict(ecr_repository=True, image_tag=COMMIT),
        "ecr_digest": dict(ecr_repository=True, image_tag="sha256:" + "a" * 64),
        "https": dict(https=True, certificate_arn=CERTIFICATE, domain_name="app.example.com"),
        "access_logs": dict(alb_access_logs=True),
        "blue_green": dict(blue_green={"enabled": True, "test_listener_port": 8080,
                                       "traffic_shift": "canary_10_percent_for_5_minutes"}),
        "blue_green_tested_from": dict(blue_green={
            "enabled": True, "test_listener_port": 8080,
            "test_listener_cidrs": ("203.0.113.0/24", "198.51.100.7/32")}),
        "email": dict(alarms={"email": "oncall@example.com", "cpu_percent": 60}),
        "docker_hub_cache": dict(ecr_repository=False, docker_hub_credentials_secret=SECRET),
    }
    return {name: synth_variant(with_service(uat, **change))["app-uat"]
            for name, change in settings.items()}


@pytest.fixture(scope="module")
def ecr_state(environments) -> dict:
    """The state stack of uat with its own repository (where the repository lives)."""
    return synth_variant(with_service(environments["uat"], ecr_repository=True))["state-uat"]


def resources(stack: dict, kind: str) -> dict:
    return stack["resource"].get(kind, {})


def container(stack: dict) -> dict:
    (task,) = resources(stack, "aws_ecs_task_definition").values()
    (definition,) = document(task["container_definitions"])
    return definition


# --- versioned images ---------------------------------------------------------------------


def test_a_public_image_gets_no_repository_and_no_ecr_permissions(variants):
    assert "aws_ecr_repository" not in variants["public"]["resource"]
    assert "ecr_repository_url" not in variants["public"]["output"]
    (parameter,) = resources(variants["public"], "aws_ssm_parameter").values()
    assert parameter["insecure_value"] == "crccheck/hello-world:latest"
    (policy,) = resources(variants["public"], "aws_iam_role_policy").values()
    assert [s["Sid"] for s in document(policy["policy"])["Statement"]] == ["WriteLogs"]


def test_ecr_repository_has_immutable_scanned_encrypted_images(ecr_state):
    assert Testing.to_have_resource_with_properties(json.dumps(ecr_state), EcrRepository.TF_RESOURCE_TYPE, {
        "name": "hello-world/hello-world",
        "image_tag_mutability": "IMMUTABLE",
        "image_scanning_configuration": {"scan_on_push": True},
        "encryption_configuration": [{"encryption_type": "KMS"}],
    })


def test_ecr_lifecycle_keeps_released_images_apart_and_expires_untagged(ecr_state,
                                                                        environments):
    (policy,) = resources(ecr_state, "aws_ecr_lifecycle_policy").values()
    rules = document(policy["policy"])["rules"]
    assert [rule["rulePriority"] for rule in rules] == [1, 2, 3, 4]
    assert rules[0]["selection"]["tagStatus"] == "untagged"
    service = image_repository(environments["uat"])
    # One rule per environment releasing from uat's repository, prod (delivered last) first:
    # an image prod runs is tagged for uat too, and counts among prod's releases only.
    assert [rule["selection"] for rule in rules[1:3]] == [
        {"tagStatus": "tagged", "tagPrefixList": [f"release-{name}-"],
         "countType": "imageCountMoreThan", "countNumber": service.keep_released_images}
        for name in ("prod", "uat")]
    assert rules[3]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan",
                                     "countNumber": service.keep_images}
    assert all(rule["action"] == {"type": "expire"} for rule in rules)


def expired(rules: list[dict], images: list[tuple[int, set[str]]]) -> set[int]:
    """The images (push time, tags) ECR's lifecycle `rules` expire, by its evaluation rules
    (ECR User Guide, lifecycle policies): by priority; an image whose tags a rule selects
    cannot be expired by a later rule, yet later rules still count it; imageCountMoreThan
    keeps the newest pushes; sinceImagePushed is left out (nothing here is old)."""
    claimed, gone = set(), set()
    for rule in sorted(rules, key=lambda rule: rule["rulePriority"]):
        selection = rule["selection"]
        if selection["countType"] != "imageCountMoreThan":
            continue
        prefixes = selection.get("tagPrefixList", [])
        chosen = [pushed for pushed, tags in images if selection["tagStatus"] == "any" or all(
            any(tag.startswith(prefix) for tag in tags) for prefix in prefixes)]
        beyond = sorted(chosen, reverse=True)[selection["countNumber"]:]
        gone |= {pushed for pushed in beyond if pushed not in claimed}
        claimed |= set(chosen)
    return gone


def test_uats_releases_never_push_out_the_image_prod_runs(ecr_state, environments):
    (policy,) = resources(ecr_state, "aws_ecr_lifecycle_policy").values()
    rules = document(policy["policy"])["rules"]
    keep = image_repository(environments["uat"]).keep_released_images
    # Pushed first, released to uat then promoted to prod; then many builds released to uat.
    images = [(0, {"abc", "release-uat-1", "release-prod-1"})] + [
        (pushed, {f"c{pushed}", f"release-uat-{pushed}"}) for pushed in range(1, keep + 20)]
    assert 0 not in expired(rules, images)
    assert len(expired(rules, images)) == 19  # uat keeps its last `keep` releases
    # The check would see it go under one rule for every environment's releases.
    one_rule = [rules[0], {**rules[1], "selection": {**rules[1]["selection"],
                                                     "tagPrefixList": ["release-"]}}, rules[3]]
    assert 0 in expired(one_rule, images)


def test_ecr_image_tag_seeds_the_version_of_record(variants):
    url = ("${data.aws_caller_identity.account.account_id}.dkr.ecr.ap-south-1."
           "${data.aws_partition.partition.dns_suffix}/hello-world/hello-world")
    seeds = {name: parameter["insecure_value"] for name in ("ecr", "ecr_digest")
             for parameter in resources(variants[name], "aws_ssm_parameter").values()}
    assert seeds == {"ecr": f"{url}:{COMMIT}", "ecr_digest": f"{url}@sha256:" + "a" * 64}
    image = ref("aws_ssm_parameter", "image_version_parameter", "insecure_value")
    assert container(variants["ecr"])["image"] == image
    assert variants["ecr"]["output"]["ecr_repository_url"]["value"] == url


def test_a_docker_hub_image_can_come_through_an_ecr_pull_through_cache(variants):
    stack = variants["docker_hub_cache"]
    (rule,) = resources(stack, "aws_ecr_pull_through_cache_rule").values()
    assert (rule["ecr_repository_prefix"], rule["upstream_registry_url"],
            rule["credential_arn"]) == ("hello-world-uat-dockerhub", "registry-1.docker.io",
                                        SECRET)
    account = "${data.aws_caller_identity.account.account_id}"
    (parameter,) = resources(stack, "aws_ssm_parameter").values()
    assert parameter["insecure_value"] == (
        f"{account}.dkr.ecr.ap-south-1.${{data.aws_partition.partition.dns_suffix}}/"
        "hello-world-uat-dockerhub/crccheck/hello-world:latest")
    (policy,) = resources(stack, "aws_iam_role_policy").values()
    statements = {s["Sid"]: s for s in document(policy["policy"])["Statement"]}
    assert sorted(statements) == ["EcrLogin", "PullThroughCache", "WriteLogs"]
    assert statements["PullThroughCache"]["Resource"] == (
        f"arn:${{data.aws_partition.partition.partition}}:ecr:ap-south-1:{account}:repository/"
        "hello-world-uat-dockerhub/*")
    assert {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:BatchGetImage"} <= set(
        statements["PullThroughCache"]["Action"])


def test_without_credentials_the_image_comes_from_docker_hub(synthesized, env):
    assert "aws_ecr_pull_through_cache_rule" not in synthesized.parsed(f"app-{env.name}")[
        "resource"]


def test_execution_role_may_pull_only_from_its_repository(variants):
    (policy,) = resources(variants["ecr"], "aws_iam_role_policy").values()
    statements = {s["Sid"]: s for s in document(policy["policy"])["Statement"]}
    assert statements["PullImage"]["Resource"] == (
        "arn:${data.aws_partition.partition.partition}:ecr:ap-south-1:"
        "${data.aws_caller_identity.account.account_id}:repository/hello-world/hello-world")
    assert statements["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"


# --- container and load balancer hardening ------------------------------------------------


def test_container_is_unprivileged_with_a_read_only_root(synthesized, env):
    definition = container(synthesized.parsed(f"app-{env.name}"))
    assert definition["privileged"] is False
    assert definition["readonlyRootFilesystem"] is True


def test_alb_drops_invalid_headers(synthesized, env):
    assert Testing.to_have_resource_with_properties(synthesized.json[f"app-{env.name}"], Lb.TF_RESOURCE_TYPE, {
        "drop_invalid_header_fields": True})


def test_no_access_logs_unless_asked(synthesized):
    (alb,) = synthesized.resources("app-uat", "aws_lb").values()
    assert "access_logs" not in alb
    assert "aws_s3_bucket" not in synthesized.parsed("app-uat")["resource"]


def test_access_logs_go_to_an_encrypted_private_bucket(variants):
    stack = variants["access_logs"]
    (alb,) = resources(stack, "aws_lb").values()
    bucket = ref("aws_s3_bucket", "load_balancer_access_logs_bucket")
    assert alb["access_logs"] == {"bucket": bucket, "enabled": True}
    (encryption,) = resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "AES256"}
    (block,) = resources(stack, "aws_s3_bucket_public_access_block").values()
    assert all(block[key] is True for key in ("block_public_acls", "block_public_policy",
                                              "ignore_public_acls", "restrict_public_buckets"))
    (policy,) = resources(stack, "aws_s3_bucket_policy").values()
    sids = [s["Sid"] for s in document(policy["policy"])["Statement"]]
    assert sids == ["ElbAccountDelivers", "LogDeliveryDelivers", "DenyInsecureTransport"]
    # Written together, S3 can refuse one with 409 OperationAborted.
    assert policy["depends_on"] == [
        "aws_s3_bucket_public_access_block.load_balancer_access_logs_public_access_block"]


def test_https_listener_with_the_certificate_and_http_redirects(variants):
    stack = json.dumps(variants["https"])
    assert Testing.to_have_resource_with_properties(stack, LbListener.TF_RESOURCE_TYPE, {
        "port": 443, "protocol": "HTTPS", "certificate_arn": CERTIFICATE,
        "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "default_action": [{"type": "forward"}]})
    assert Testing.to_have_resource_with_properties(stack, LbListener.TF_RESOURCE_TYPE, {
        "port": 80, "protocol": "HTTP", "default_action": [{
            "type": "redirect",
            "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}]})
    ports = sorted(r["from_port"] for r in resources(
        variants["https"], "aws_vpc_security_group_ingress_rule").values()
        if r.get("cidr_ipv4") == "0.0.0.0/0")
    assert ports == [80, 443]
    assert variants["https"]["output"]["alb_url"]["value"].startswith("https://")


def test_prod_has_alb_deletion_protection_and_uat_not(synthesized):
    assert [a["enable_deletion_protection"] for a in
            synthesized.resources("app-prod", "aws_lb").values()] == [True]
    assert [a["enable_deletion_protection"] for a in
            synthesized.resources("app-uat", "aws_lb").values()] == [False]


# --- monitoring ---------------------------------------------------------------------------


ALARMS = {"alb-5xx": "HTTPCode_ELB_5XX_Count", "target-5xx": "HTTPCode_Target_5XX_Count",
          "unhealthy-hosts": "UnHealthyHostCount", "p90-latency": "TargetResponseTime",
          "cpu-high": "CPUUtilization", "memory-high": "MemoryUtilization"}


def test_every_alarm_notifies_the_encrypted_topic(synthesized, env):
    stack = synthesized.parsed(f"app-{env.name}")
    topic = ref("aws_sns_topic", "monitoring_alarm_topic", "arn")
    assert Testing.to_have_resource_with_properties(synthesized.json[f"app-{env.name}"], SnsTopic.TF_RESOURCE_TYPE, {
        "name": f"hello-world-{env.name}-alarms",
        "kms_master_key_id": ref("aws_kms_key", "monitoring_alarm_key", "arn")})
    alarms = {a["alarm_name"]: a for a in resources(stack, "aws_cloudwatch_metric_alarm").values()}
    assert sorted(alarms) == sorted(f"hello-world-{env.name}-{name}" for name in ALARM_NAMES)
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic]


def test_alarm_thresholds_come_from_config(synthesized, env):
    thresholds = env.service.alarms
    expected = {"alb-5xx": thresholds.alb_5xx_per_minute,
                "target-5xx": thresholds.target_5xx_per_minute,
                "unhealthy-hosts": thresholds.unhealthy_hosts,
                "p90-latency": thresholds.p90_latency_seconds,
                "cpu-high": thresholds.cpu_percent, "memory-high": thresholds.memory_percent}
    for suffix, metric in ALARMS.items():
        assert Testing.to_have_resource_with_properties(
            synthesized.json[f"app-{env.name}"], CloudwatchMetricAlarm.TF_RESOURCE_TYPE, {
                "alarm_name": f"hello-world-{env.name}-{suffix}", "metric_name": metric,
                "threshold": expected[suffix], "period": 60,
                "evaluation_periods": thresholds.evaluation_minutes})
    (latency,) = [a for a in synthesized.resources(f"app-{env.name}",
                                                    "aws_cloudwatch_metric_alarm").values()
                  if a["alarm_name"].endswith("p90-latency")]
    assert latency["extended_statistic"] == "p90" and "statistic" not in latency


def test_running_tasks_below_desired_is_alarmed(synthesized, env):
    (alarm,) = [a for a in synthesized.resources(f"app-{env.name}",
                                                  "aws_cloudwatch_metric_alarm").values()
                if a["alarm_name"].endswith("tasks-below-desired")]
    queries = {q["id"]: q for q in alarm["metric_query"]}
    assert queries["missing"]["expression"] == "desired - running"
    assert queries["running"]["metric"]["metric_name"] == "RunningTaskCount"
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)


def test_dashboard_shows_the_service(synthesized, env):
    (dashboard,) = synthesized.resources(f"app-{env.name}", "aws_cloudwatch_dashboard").values()
    widgets = document(dashboard["dashboard_body"])["widgets"]
    assert [w["properties"]["title"] for w in widgets] == [
        "Requests", "5xx", "Latency p90", "Healthy / unhealthy targets", "CPU and memory",
        "Tasks"]


def test_email_subscription_only_when_configured(synthesized, variants):
    assert "aws_sns_topic_subscription" not in synthesized.parsed("app-uat")["resource"]
    (subscription,) = resources(variants["email"], "aws_sns_topic_subscription").values()
    assert (subscription["protocol"], subscription["endpoint"]) == ("email",
                                                                    "oncall@example.com")
    (cpu,) = [a for a in resources(variants["email"], "aws_cloudwatch_metric_alarm").values()
              if a["alarm_name"].endswith("cpu-high")]
    assert cpu["threshold"] == 60


# --- blue/green ---------------------------------------------------------------------------


def test_rolling_deploys_by_default(synthesized):
    (service,) = synthesized.resources("app-uat", "aws_ecs_service").values()
    assert service["deployment_controller"] == {"type": "ECS"}
    assert "aws_codedeploy_app" not in synthesized.parsed("app-uat")["resource"]


def test_blue_green_hands_deploys_to_codedeploy(variants):
    stack = variants["blue_green"]
    (service,) = resources(stack, "aws_ecs_service").values()
    assert service["deployment_controller"] == {"type": "CODE_DEPLOY"}
    assert "deployment_circuit_breaker" not in service  # ECS-controller only
    assert service["lifecycle"] == {"ignore_changes": ["desired_count", "task_definition",
                                                       "load_balancer"]}
    listeners = {l["port"]: l for l in resources(stack, "aws_lb_listener").values()}
    assert sorted(listeners) == [80, 8080]
    for listener in listeners.values():
        assert listener["lifecycle"] == {"ignore_changes": ["default_action"]}
    assert listeners[8080]["default_action"][0]["target_group_arn"] == ref(
        "aws_lb_target_group", "load_balancer_green_target_group", "arn")
    assert len(resources(stack, "aws_lb_target_group")) == 2


def ingress(stack: dict) -> list[tuple]:
    return sorted((rule["from_port"], rule["cidr_ipv4"])
                  for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
                  if rule["security_group_id"] == ref("aws_security_group",
                                                      "load_balancer_security_group"))


def test_only_the_vpc_and_the_configured_cidrs_reach_the_test_listener(variants):
    vpc = "${data.aws_vpc.network_vpc.cidr_block}"
    assert ingress(variants["blue_green"]) == [(80, "0.0.0.0/0"), (8080, vpc)]
    assert ingress(variants["blue_green_tested_from"]) == [
        (80, "0.0.0.0/0"), (8080, vpc), (8080, "198.51.100.7/32"), (8080, "203.0.113.0/24")]


def load_balancer_props(**settings) -> LoadBalancerProps:
    return LoadBalancerProps(name="web", vpc_id="vpc-1", public_subnet_ids=["subnet-a"],
                             target_port=8000, target_group_name_prefix="web-", **settings)


def test_a_bad_test_listener_cidr_is_refused(environments):
    with pytest.raises(PropError, match=r"^LoadBalancerProps.test_listener_cidrs\[1\] = "
                                        r"'10.0.0.1/8': an IPv4 "):
        load_balancer_props(test_listener_cidrs=("10.0.0.0/8", "10.0.0.1/8"))
    with pytest.raises(FieldError, match=r"^service.blue_green.test_listener_cidrs\[1\] = "
                                         r"'10.0.0.1/8': an IPv4 "):
        check(with_service(environments["uat"], blue_green={
            "test_listener_cidrs": ("10.0.0.0/8", "10.0.0.1/8")}))


def test_blue_green_deployment_group_shifts_traffic_and_rolls_back_on_alarm(variants):
    stack = json.dumps(variants["blue_green"])
    blue = ref("aws_lb_target_group", "load_balancer_target_group", "name")
    green = ref("aws_lb_target_group", "load_balancer_green_target_group", "name")
    assert Testing.to_have_resource_with_properties(stack, CodedeployDeploymentGroup.TF_RESOURCE_TYPE, {
        "deployment_config_name": "CodeDeployDefault.ECSCanary10Percent5Minutes",
        "deployment_style": {"deployment_type": "BLUE_GREEN",
                             "deployment_option": "WITH_TRAFFIC_CONTROL"},
        "auto_rollback_configuration": {
            "enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
        "load_balancer_info": {"target_group_pair_info": {
            "prod_traffic_route": {"listener_arns": [
                ref("aws_lb_listener", "load_balancer_http_listener", "arn")]},
            "test_traffic_route": {"listener_arns": [
                ref("aws_lb_listener", "load_balancer_test_listener", "arn")]},
            "target_group": [{"name": blue}, {"name": green}]}},
    })
    (group,) = resources(variants["blue_green"], "aws_codedeploy_deployment_group").values()
    assert len(group["alarm_configuration"]["alarms"]) == 3
    (app,) = resources(variants["blue_green"], "aws_codedeploy_app").values()
    assert app["compute_platform"] == "ECS"


# --- bad values ---------------------------------------------------------------------------


@pytest.mark.parametrize("settings, field, allowed", [
    (dict(https=True), "https = True", "HTTPS needs certificate_arn"),
    (dict(certificate_arn="arn:aws:iam::123:certificate/x"), "certificate_arn = ",
     "an ACM certificate ARN"),
    (dict(image_tag="3f9c2e1a7b4d"), "image_tag = '3f9c2e1a7b4d'", "needs a repository"),
    (dict(ecr_repository=True, image_tag="bad tag"), "image_tag = 'bad tag'", "git commit"),
    (dict(ecr_repository=True, ecr_repository_owner="uat"), "ecr_repository_owner = 'uat'",
     "an environment creates its repository or shares another's"),
    (dict(ecr_repository_owner="Uat!"), "ecr_repository_owner = 'Uat!'",
     "the name of the environment that creates the repository"),
    (dict(docker_hub_credentials_secret="arn:aws:secretsmanager:ap-south-1:123456789012:"
                                        "secret:docker-hub"),
     "docker_hub_credentials_secret = ", "name starts with ecr-pullthroughcache/"),
    (dict(image="ghcr.io/acme/app:1", docker_hub_credentials_secret=SECRET),
     "docker_hub_credentials_secret = ", "image 'ghcr.io/acme/app:1' is not on Docker Hub"),
])
def test_bad_service_settings_are_refused(settings, field, allowed):
    with pytest.raises(FieldError) as error:
        ServiceConfig(**settings)
    assert field in str(error.value) and allowed in str(error.value)


def test_blue_green_needs_a_second_listener_port(environments):
    from config import BlueGreenConfig
    with pytest.raises(FieldError, match="test_listener_port = None: blue/green needs a second"):
        BlueGreenConfig(enabled=True)
    # The construct refuses two listeners on one port by itself, as the config does through it.
    with pytest.raises(PropError, match=r"^LoadBalancerProps.test_listener_port = 80: must "
                                        r"differ from the production listener port\(s\) \[80\]"):
        load_balancer_props(listener_port=80, test_listener_port=80, vpc_cidr="10.0.0.0/16")
    with pytest.raises(PropError, match=r"test_listener_port = 443: must differ from the "
                                        r"production listener port\(s\) \[80, 443\]"):
        load_balancer_props(certificate_arn=CERTIFICATE, test_listener_port=443,
                            vpc_cidr="10.0.0.0/16")
    with pytest.raises(PropError, match=r"^LoadBalancerProps.vpc_cidr = None: needed with a "):
        load_balancer_props(test_listener_port=8080)
    uat = environments["uat"]
    with pytest.raises(FieldError, match=r"^service.blue_green.test_listener_port = 80: must "
                                         "differ from the production listener"):
        check(with_service(uat, blue_green={"enabled": True, "test_listener_port": 80}))
    with pytest.raises(FieldError, match=r"^service.blue_green.traffic_shift = 'slowly': one of "
                                         "all_at_once"):
        check(with_service(uat, blue_green={"traffic_shift": "slowly"}))


@pytest.mark.parametrize("settings, message", [
    (dict(cpu_percent=150), "cpu_percent = 150: must be between 1 and 100"),
    (dict(p90_latency_seconds=0), "p90_latency_seconds = 0: must be between 0.01 and 60"),
    (dict(email="not-an-address"),
     "email = 'not-an-address': an email address, or unset for no subscription"),
    (dict(evaluation_minutes=0), "evaluation_minutes = 0: must be between 1 and 60"),
])
def test_bad_alarm_thresholds_are_refused(environments, settings, message):
    with pytest.raises(PropError) as error:
        AlarmsProps(**settings)
    assert str(error.value) == f"AlarmsProps.{message}"
    with pytest.raises(FieldError) as error:  # from the config: the key's path
        check(with_service(environments["uat"], alarms=settings))
    assert str(error.value) == f"service.alarms.{message}"
