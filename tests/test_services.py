"""Several services per environment ([services.<name>] + [shared]): what the example
(examples/several-services: an API on /api/*, a worker) synthesizes, the one-line errors of
what services may not share, and the moved blocks that turn the one [service] into
[services.<its name>] without a replacement (planned on the emulator: test_services_e2e.py)."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, SharedConfig, load_environments
from config.schema import SHARED_KEYS, ServiceConfig
from helpers import document

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "several-services" / "shop.toml"


def stack(example, kind: str) -> dict:
    return json.loads((example.outdir / "stacks" / f"{kind}-shop" / "cdk.tf.json").read_text())


def as_several(environment, name: str | None = None):
    """The one [service] as [services.<its name>], its [shared] keys moved to [shared]."""
    service = environment.service
    defaults = ServiceConfig()
    shared = SharedConfig(**{key: getattr(service, key) for key in SHARED_KEYS})
    alone = dataclasses.replace(service, **{key: getattr(defaults, key) for key in SHARED_KEYS})
    return dataclasses.replace(environment, service=None, services={
        name or service.name: dataclasses.replace(alone, name=name or service.name)},
        shared=shared)


def load(tmp_path: Path, text: str):
    path = tmp_path / "shop.toml"
    path.write_text(text)
    (environment,) = load_environments(tmp_path)
    return environment


def test_each_service_has_its_own_names_and_they_share_the_cluster_and_load_balancer(
        several_services):
    environment = several_services.environment
    assert environment.service_keys == ("api", "worker")
    names = {one.service_key: one.names for one in environment.each_service()}
    assert {key: (n.service, n.cluster, n.image_parameter, n.release_lock_parameter,
                  n.repository, n.log_group) for key, n in names.items()} == {
        "api": ("api-shop", "shop-shop", "/shop/shop/api/image", "/shop/shop/api/release-lock",
                "shop/api", "/ecs/api-shop"),
        "worker": ("worker-shop", "shop-shop", "/shop/shop/worker/image",
                   "/shop/shop/worker/release-lock", "shop/worker", "/ecs/worker-shop")}


def test_the_api_is_routed_by_path_and_the_worker_has_no_load_balancer(several_services):
    app = stack(several_services, "app")
    resources = app["resource"]
    (cluster,) = resources["aws_ecs_cluster"].values()
    assert cluster["name"] == "shop-shop"
    (alb,) = resources["aws_lb"].values()
    assert alb["name"] == "shop-shop"
    (listener,) = resources["aws_lb_listener"].values()
    assert listener["default_action"][0]["type"] == "fixed-response"  # no default service
    (rule,) = resources["aws_lb_listener_rule"].values()
    assert rule["condition"] == [{"path_pattern": {"values": ["/api/*"]}}]
    assert rule["action"][0]["target_group_arn"] == "${aws_lb_target_group.api_route_target_group.arn}"
    (group,) = resources["aws_lb_target_group"].values()
    assert group["health_check"]["path"] == "/api/health"

    services = resources["aws_ecs_service"]
    api, worker = services["api_service_service"], services["worker_service_service"]
    assert api["cluster"] == worker["cluster"] == "${aws_ecs_cluster.ecs.arn}"
    assert api["load_balancer"][0]["target_group_arn"] == (
        "${aws_lb_target_group.api_route_target_group.arn}")
    assert api["depends_on"] == ["aws_lb_listener_rule.api_route_rule"]
    assert "load_balancer" not in worker and "health_check_grace_period_seconds" not in worker
    tasks = resources["aws_ecs_task_definition"]
    (worker_container,) = document(tasks["worker_service_task_definition"]["container_definitions"])
    assert worker_container["portMappings"] == []
    assert (tasks["worker_service_task_definition"]["cpu"],
            tasks["worker_service_task_definition"]["memory"]) == ("512", "1024")
    ingress = resources["aws_vpc_security_group_ingress_rule"]
    assert sorted(ingress) == ["api_service_ingress_from_alb", "load_balancer_ingress_80"]
    assert resources["aws_appautoscaling_target"]["worker_service_autoscaling_target"][
        "max_capacity"] == 2


def test_only_the_api_reads_its_secret(several_services):
    app = stack(several_services, "app")
    tasks = app["resource"]["aws_ecs_task_definition"]
    (api,) = document(tasks["api_service_task_definition"]["container_definitions"])
    assert api["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": "/shop/shop/db-password"}]
    policies = app["resource"]["aws_iam_role_policy"]
    api_policy = document(policies["api_service_execution_role_policy"]["policy"])
    worker_policy = document(policies["worker_service_execution_role_policy"]["policy"])
    assert "ReadSecretParameters" in {one["Sid"] for one in api_policy["Statement"]}
    assert "ReadSecretParameters" not in {one["Sid"] for one in worker_policy["Statement"]}


def test_the_worker_has_no_load_balancer_alarms(several_services):
    alarms = stack(several_services, "app")["resource"]["aws_cloudwatch_metric_alarm"]
    assert sorted(name for name in alarms if name.startswith("worker_")) == [
        "worker_monitoring_cpu_high", "worker_monitoring_memory_high",
        "worker_monitoring_tasks_below_desired"]
    # The API alone is behind the load balancer: its metrics are the API's.
    for key in ("api_monitoring_target_5xx", "api_monitoring_p90_latency"):
        assert set(alarms[key]["dimensions"]) == {"LoadBalancer"}, key


def test_services_sharing_the_load_balancer_watch_their_own_target_group(tmp_path):
    import main

    text = EXAMPLE.read_text().replace("load_balanced = false",
                                       'path_patterns = ["/jobs/*"]')
    environment = load(tmp_path, text)
    main.synth([environment], str(tmp_path / "out"))
    app = json.loads((tmp_path / "out" / "stacks" / "app-shop" / "cdk.tf.json").read_text())
    alarms = app["resource"]["aws_cloudwatch_metric_alarm"]
    for service in ("api", "worker"):
        # 5xx and latency of the whole load balancer would be both services': the target group's.
        for key in ("target_5xx", "p90_latency"):
            assert set(alarms[f"{service}_monitoring_{key}"]["dimensions"]) == {
                "LoadBalancer", "TargetGroup"}, (service, key)
            assert alarms[f"{service}_monitoring_{key}"]["dimensions"]["TargetGroup"] == (
                f"${{aws_lb_target_group.{service}_route_target_group.arn_suffix}}")
        # The load balancer's own 5xx has no target group.
        assert set(alarms[f"{service}_monitoring_alb_5xx"]["dimensions"]) == {"LoadBalancer"}
    # Each dashboard too: ELB 5xx per load balancer (a target group's would be an empty line).
    from test_monitoring import PUBLISHED, metrics_of

    assert len(app["resource"]["aws_cloudwatch_dashboard"]) == 2
    for namespace, metric, dimensions in metrics_of(app):
        assert frozenset(dimensions) in PUBLISHED[namespace, metric], (metric, dimensions)


def test_each_service_has_its_outputs_and_repository(several_services):
    app, state = stack(several_services, "app"), stack(several_services, "state")
    for key in ("api", "worker"):
        for name in ("service_name", "task_definition_arn", "image_parameter_name",
                     "ecr_repository_url"):
            assert f"{key}_{name}" in app["output"], (key, name)
        assert f"{key}_ecr_repository_url" in state["output"]
        repository = state["resource"]["aws_ecr_repository"][f"{key}_images_repository"]
        assert repository["name"] == f"shop/{key}"
    assert "moved" not in app  # no service takes every request: nothing moves from [service]


@pytest.mark.parametrize("where, text, message", [
    ("both forms", "[service]\nimage = \"x\"\n[services.api]\n",
     "service = '[service]': give either one [service] table or [services.<name>] tables, "
     "not both"),
    ("a shared key per service", "[services.api]\nlistener_port = 8080\n",
     "services.api.listener_port = 8080: the services share the load balancer and cluster: set it "
     "once, in [shared]"),
    ("routing the one service", "[service]\npath_patterns = [\"/a/*\"]\n",
     "service.path_patterns = ('/a/*',): only with several services ([services.<name>] "
     "tables); the one [service] takes every request"),
    ("two defaults", "[services.api]\n[services.web]\n",
     "services.web.path_patterns = None: both api and web would take every request (neither "
     "has path_patterns or host_headers); route one by path or host"),
    ("one path twice", "[services.api]\npath_patterns = [\"/api/*\"]\n"
     "[services.web]\npath_patterns = [\"/web/*\", \"/api/*\"]\n",
     "services.web.path_patterns = ['/web/*', '/api/*']: '/api/*' is already api's route; "
     "give each service its own"),
    ("one host twice", "[services.api]\nhost_headers = [\"a.example.com\"]\n"
     "[services.web]\nhost_headers = [\"a.example.com\"]\n",
     "services.web.host_headers = ['a.example.com']: 'a.example.com' is already api's route; "
     "give each service its own"),
    ("one priority twice", "[services.api]\npath_patterns = [\"/a/*\"]\nroute_priority = 5\n"
     "[services.web]\npath_patterns = [\"/b/*\"]\nroute_priority = 5\n",
     "services.web.route_priority = 5: api's rule has it too; rules need distinct priorities"),
    ("a routed worker", "[services.jobs]\nload_balanced = false\npath_patterns = [\"/j/*\"]\n",
     "services.jobs.path_patterns = ('/j/*',): a worker (load_balanced = false) takes no "
     "requests; leave it out"),
    ("blue/green", "[services.api]\nblue_green = { enabled = true, test_listener_port = 8080 }\n",
     "services.api.blue_green.enabled = True: blue/green deploys need the one [service] "
     "table; several services deploy rolling"),
    ("a bad path", "[services.api]\npath_patterns = [\"api/*\"]\n",
     "services.api.path_patterns = 'api/*': URL paths like /api/* (starting with /, at most "
     "128 characters, * and ? as wildcards)"),
    ("a name key", "[services.api]\nname = \"web\"\n",
     "services.api.name = 'web': unknown key"),
    ("a bad service name", "[services.Api]\n",
     "services.Api.name = 'Api': lowercase letters, digits and '-', at most 24 characters"),
])
def test_what_services_may_not_share_is_one_line_naming_the_key(tmp_path, where, text,
                                                                   message):
    head = ('region = "ap-south-1"\n[state]\nbucket = "shop-tfstate"\n[network]\n'
            'vpc_name = "shop-vpc"\navailability_zones = ["ap-south-1a", "ap-south-1b"]\n')
    with pytest.raises(ConfigError) as error:
        load(tmp_path, head + text)
    assert str(error.value).startswith(f"{tmp_path / 'shop.toml'}: {message}"), where
    assert "\n" not in str(error.value)


def test_the_one_service_as_services_moves_every_resource_to_the_same_names(environments,
                                                                           tmp_path):
    """uat as [services.hello-world]: the cluster, load balancer and every name stay, and a
    `moved` block carries each of the one service's addresses to its new one."""
    import main

    uat = environments["uat"]
    main.synth([uat], str(tmp_path / "one"))
    main.synth([as_several(uat)], str(tmp_path / "several"))

    def read(which: str, kind: str) -> dict:
        return json.loads((tmp_path / which / "stacks" / f"{kind}-uat" / "cdk.tf.json")
                          .read_text())

    for kind in ("app", "state"):
        one, several = read("one", kind), read("several", kind)
        addresses = {which: {f"{kind_}.{name}" for kind_, found in stack_["resource"].items()
                             for name in found}
                     for which, stack_ in (("one", one), ("several", several))}
        moved = {block["from"]: block["to"] for block in several.get("moved", [])}
        assert set(moved) <= addresses["one"] and set(moved.values()) <= addresses["several"]
        # Every address of the one service is there still, or moved.
        assert {moved.get(address, address) for address in addresses["one"]} <= (
            addresses["several"]), kind
        # Same names: nothing is replaced because a name changed.
        for old, new in moved.items():
            kind_, old_name = old.split(".")
            _, new_name = new.split(".")
            for attribute in ("name", "family", "alarm_name", "dashboard_name"):
                assert (one["resource"][kind_][old_name].get(attribute)
                        == several["resource"][kind_][new_name].get(attribute)), (old, attribute)


def test_a_command_on_several_services_names_one(tmp_path):
    """No --service where there are several: one line listing them, exit 2, nothing run."""
    folder = tmp_path / "environments"
    folder.mkdir()
    folder.joinpath("shop.toml").write_text(EXAMPLE.read_text())
    run = subprocess.run([sys.executable, "-m", "ops", "unlock", "--env", "shop"],
                         cwd=ROOT, capture_output=True, text=True,
                         env={"ENVIRONMENTS_DIR": str(folder), "PATH": "/usr/bin:/bin"})
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == ("error: --service: shop has several services: name one of api, "
                          "worker\n")
    run = subprocess.run([sys.executable, "-m", "ops", "unlock", "--env", "shop", "--service",
                          "web"], cwd=ROOT, capture_output=True, text=True,
                         env={"ENVIRONMENTS_DIR": str(folder), "PATH": "/usr/bin:/bin"})
    assert (run.returncode, run.stderr) == (
        2, "error: --service: shop has no service 'web'; it has api, worker\n")


def test_names_that_collide_are_one_line(tmp_path):
    """In an environment named `task`, service bb's task role bb-task-task is service bb-task's
    own name."""
    path = tmp_path / "task.toml"
    path.write_text('region = "ap-south-1"\n[state]\nbucket = "task-tfstate"\n[network]\n'
                    'vpc_name = "task-vpc"\navailability_zones = ["ap-south-1a", "ap-south-1b"]'
                    '\n[services.bb]\n[services.bb-task]\npath_patterns = ["/t/*"]\n')
    with pytest.raises(ConfigError) as error:
        load_environments(tmp_path)
    assert str(error.value) == (f"{path}: services.bb-task.name = 'bb-task': its name "
                                "'bb-task-task' is already bb's; rename one of them")
