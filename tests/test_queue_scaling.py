"""A worker that scales on an SQS queue's backlog per task ([services.<name>.scaling]
queue_name): a second target tracking policy beside CPU's, with AWS's metric math (visible
messages / running tasks), valid Terraform; and the one-line errors of what may not scale on a
queue."""

import json
from pathlib import Path

import pytest

from config import ConfigError, load_environments
from helpers import validate_together

HEAD = ('region = "ap-south-1"\nproject = "shop"\n[state]\nbucket = "shop-tfstate"\n'
        '[network]\nvpc_name = "shop-vpc"\navailability_zones = ["ap-south-1a", "ap-south-1b"]\n')
# An API, a worker on a queue and a worker on CPU only.
SHOP = HEAD + """
[services.api]
path_patterns = ["/api/*"]

[services.worker]
load_balanced = false

[services.worker.scaling]
max_capacity = 8
queue_name = "shop-orders.fifo"
queue_messages_per_task = 50

[services.mailer]
load_balanced = false
"""


def load(folder: Path, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.toml").write_text(text)
    (environment,) = load_environments(folder)
    return environment


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """SHOP, synthesized: (environment, outdir)."""
    import main

    folder = tmp_path_factory.mktemp("queue-scaling")
    environment = load(folder / "environments", SHOP)
    main.synth([environment], str(folder / "out"))
    return environment, folder / "out"


def app(shop) -> dict:
    _, outdir = shop
    return json.loads((outdir / "stacks" / "app-shop" / "cdk.tf.json").read_text())


def policies_of(shop, key: str) -> dict:
    """The service's scaling policies by construct id, without their metadata."""
    prefix = f"{key}_service_autoscaling_"
    return {name.removeprefix(prefix): {k: v for k, v in policy.items() if k != "//"}
            for name, policy in app(shop)["resource"]["aws_appautoscaling_policy"].items()
            if name.startswith(prefix)}


def test_a_worker_on_a_queue_also_tracks_its_backlog_per_running_task(shop):
    policies = policies_of(shop, "worker")
    assert sorted(policies) == ["cpu_target_tracking", "queue_target_tracking"]
    target = "aws_appautoscaling_target.worker_service_autoscaling_target"
    queue = policies["queue_target_tracking"]
    assert queue == {
        "name": "worker-shop-queue-target-tracking",
        "policy_type": "TargetTrackingScaling",
        "resource_id": f"${{{target}.resource_id}}",
        "scalable_dimension": f"${{{target}.scalable_dimension}}",
        "service_namespace": f"${{{target}.service_namespace}}",
        "target_tracking_scaling_policy_configuration": {
            "customized_metric_specification": {"metrics": [
                {"id": "m1", "label": "Messages waiting in the queue", "return_data": False,
                 "metric_stat": {"stat": "Sum", "metric": {
                     "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
                     "dimensions": [{"name": "QueueName", "value": "shop-orders.fifo"}]}}},
                {"id": "m2", "label": "Running tasks of the service", "return_data": False,
                 "metric_stat": {"stat": "Average", "metric": {
                     "namespace": "ECS/ContainerInsights", "metric_name": "RunningTaskCount",
                     "dimensions": [
                         {"name": "ClusterName", "value": "${aws_ecs_cluster.ecs.name}"},
                         {"name": "ServiceName",
                          "value": "${aws_ecs_service.worker_service_service.name}"}]}}},
                {"id": "e1", "label": "Backlog per task", "expression": "m1 / m2",
                 "return_data": True}]},
            "target_value": 50, "scale_in_cooldown": 60, "scale_out_cooldown": 60}}
    # CPU target tracking stays: ECS scales out on whichever policy wants more tasks.
    cpu = policies["cpu_target_tracking"]["target_tracking_scaling_policy_configuration"]
    assert cpu["predefined_metric_specification"] == {
        "predefined_metric_type": "ECSServiceAverageCPUUtilization"}
    assert cpu["target_value"] == 70
    scaling_target = app(shop)["resource"]["aws_appautoscaling_target"][
        "worker_service_autoscaling_target"]
    assert scaling_target["max_capacity"] == 8
    # Container Insights (which counts the running tasks) is on in the shared cluster.
    assert app(shop)["resource"]["aws_ecs_cluster"]["ecs"]["setting"] == [
        {"name": "containerInsights", "value": "enabled"}]


@pytest.mark.parametrize("key", ["mailer", "api"])
def test_without_a_queue_a_service_scales_on_cpu_only(shop, key):
    policies = policies_of(shop, key)
    assert sorted(policies) == ["cpu_target_tracking"]
    assert "customized_metric_specification" not in policies["cpu_target_tracking"][
        "target_tracking_scaling_policy_configuration"]


def test_the_default_backlog_per_task_is_100(tmp_path):
    from stacks.props import scaling

    text = SHOP.replace("queue_messages_per_task = 50\n", "")
    environment = load(tmp_path, text).focus("worker")
    assert (scaling(environment).queue_name, scaling(environment).queue_messages_per_task) == (
        "shop-orders.fifo", 100)


def test_the_diagram_shows_what_the_worker_scales_on(shop):
    from ops import diagram

    environment, outdir = shop
    graph = diagram.synthesized_architecture(environment, outdir)
    assert "\nCPU target 70%\nqueue shop-orders.fifo: 50 messages/task\n" in graph.node(
        "service:worker-shop").label
    assert "queue" not in graph.node("service:mailer-shop").label


def test_the_app_stack_with_a_queue_policy_is_valid_terraform(shop, tmp_path):
    _, outdir = shop
    found = validate_together([outdir / "stacks" / "app-shop"], tmp_path / "validate")
    assert {name: [f"{d['summary']}: {d.get('detail', '')}" for d in diagnostics
                   if d["severity"] == "error"] for name, diagnostics in found.items()} == {
        "app-shop": [], "": []}


WORKER = '[services.worker]\nload_balanced = false\n'


@pytest.mark.parametrize("where, text, message", [
    ("a queue URL", WORKER + "[services.worker.scaling]\nqueue_name = "
     "\"https://sqs.ap-south-1.amazonaws.com/123456789012/jobs\"\n",
     "services.worker.scaling.queue_name = 'https://sqs.ap-south-1.amazonaws.com/123456789012/"
     "jobs': an SQS queue's name (not its URL or ARN): 1-80 letters, digits, '-' and '_', a "
     "FIFO queue's ending in .fifo"),
    ("too long", WORKER + f"[services.worker.scaling]\nqueue_name = \"{'q' * 76}.fifo\"\n",
     f"services.worker.scaling.queue_name = '{'q' * 76}.fifo': an SQS queue's name"),
    ("empty", WORKER + "[services.worker.scaling]\nqueue_name = \"\"\n",
     "services.worker.scaling.queue_name = '': an SQS queue's name"),
    ("a backlog without a queue", WORKER + "[services.worker.scaling]\n"
     "queue_messages_per_task = 10\n",
     "services.worker.scaling.queue_messages_per_task = 10: only with queue_name (the queue "
     "whose backlog per task it is)"),
    ("no backlog", WORKER + "[services.worker.scaling]\nqueue_name = \"jobs\"\n"
     "queue_messages_per_task = 0\n",
     "services.worker.scaling.queue_messages_per_task = 0: must be between 1 and 1000000"),
    ("a load-balanced service", "[services.api]\n[services.api.scaling]\nqueue_name = \"jobs\"\n",
     "services.api.scaling.queue_name = 'jobs': only a worker (load_balanced = false, in a "
     "[services.<name>] table) scales on a queue: a service behind the load balancer is sent "
     "requests, not messages, and scales on CPU"),
    ("the one service", "[service.scaling]\nqueue_name = \"jobs\"\n",
     "service.scaling.queue_name = 'jobs': only a worker (load_balanced = false, in a "
     "[services.<name>] table) scales on a queue"),
    ("no Container Insights", "[shared]\ncontainer_insights = false\n" + WORKER
     + "[services.worker.scaling]\nqueue_name = \"jobs\"\n",
     "shared.container_insights = False: scaling on queue 'jobs' divides its backlog by "
     "Container Insights' RunningTaskCount: leave Container Insights on"),
])
def test_what_may_not_scale_on_a_queue_is_one_line_naming_the_key(tmp_path, where, text,
                                                                   message):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, HEAD + text)
    assert str(error.value).startswith(f"{tmp_path / 'shop.toml'}: {message}"), where
    assert "\n" not in str(error.value)


def test_a_queue_name_may_be_80_characters_with_fifo(tmp_path):
    text = WORKER + f"[services.worker.scaling]\nqueue_name = \"{'q' * 75}.fifo\"\n"
    assert load(tmp_path, HEAD + text).services["worker"].scaling.queue_name.endswith(".fifo")
