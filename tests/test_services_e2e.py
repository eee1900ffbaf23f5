"""Several services end to end on the emulator (examples/several-services: an API on /api/*
with a secret, and a worker), applied beside today's uat: both run in the shared cluster, one
release changes one service's task definition and no other, the commands name the service,
and uat turned into [services.hello-world] plans moves, not replacements."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import pytest

from config import load_environments
from helpers import aws, deployable
from ops.emulator import put_test_image
from ops.release import Target
from test_services import as_several

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "several-services"
SECRET = "/shop/shop/db-password"


@pytest.fixture(scope="module")
def shop(tmp_path_factory, emulator, deployments, state_stacks):
    """The example and uat, applied side by side (uat as the session applies it)."""
    (environment,) = load_environments(EXAMPLE)
    deployment = deployable(environment, tmp_path_factory.mktemp("shop") / "cdktf.out")
    # ECS fetches the API's secret when its tasks start: it exists before the deploy.
    aws("ssm").put_parameter(Name=SECRET, Value="s3cret", Type="SecureString", Overwrite=True)
    uat = deployments["uat"]

    def apply_uat():
        state_stacks.bucket("uat")
        for stack in ("network-uat", "app-uat"):
            uat.apply(stack)
        state_stacks.applied("uat")

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(apply_uat), pool.submit(
                deployment.apply_in_order, list(environment.stack_names.values()))]:
            done.result()
    return deployment


def service(name: str, cluster: str = "shop-shop") -> dict:
    (found,) = aws("ecs").describe_services(cluster=cluster, services=[name])["services"]
    return found


def cli(capsys, shop, *argv: str) -> tuple[int, str, str]:
    """`python -m ops ...` on the module's deployment of the example."""
    from ops import commands
    from ops.cli import main

    def targets(args, names, every_service=False):
        environment = shop.environment
        each = (environment.each_service() if every_service and not args.service
                else [commands.focused(args, environment)])
        return [Target(one, shop.env, shop) for one in each]

    with mock.patch.object(commands, "release_targets", targets):
        code = main([*argv, "--env", "shop"])
    out, err = capsys.readouterr()
    return code, out, err


def settled(name: str, cluster: str = "shop-shop", timeout: float = 30) -> dict:
    """The service once its deployment is COMPLETED (the emulator takes ECS's time, scaled)."""
    deadline = time.monotonic() + timeout
    while (found := service(name, cluster))["deployments"][0]["rolloutState"] != "COMPLETED":
        assert time.monotonic() < deadline, found["deployments"]
        time.sleep(0.2)
    return found


def test_both_services_run_in_one_cluster_beside_uat(shop):
    api, worker = settled("api-shop"), settled("worker-shop")
    for one in (api, worker):
        assert one["status"] == "ACTIVE" and one["clusterArn"].endswith("/shop-shop")
        assert one["runningCount"] == one["desiredCount"] == 1
    assert worker["loadBalancers"] == []
    (balancer,) = api["loadBalancers"]
    (group,) = aws("elbv2").describe_target_groups(
        TargetGroupArns=[balancer["targetGroupArn"]])["TargetGroups"]
    assert group["HealthCheckPath"] == "/api/health"
    (alb,) = aws("elbv2").describe_load_balancers(Names=["shop-shop"])["LoadBalancers"]
    (listener,) = aws("elbv2").describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])[
        "Listeners"]
    rules = aws("elbv2").describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    routed = [rule for rule in rules if not rule["IsDefault"]]
    assert [(rule["Conditions"][0]["PathPatternConfig"]["Values"],
             rule["Actions"][0]["TargetGroupArn"]) for rule in routed] == [
        (["/api/*"], group["TargetGroupArn"])]
    assert settled("hello-world-uat", "hello-world-uat")["status"] == "ACTIVE"


def test_a_release_of_one_service_leaves_the_other_and_uat_alone(shop, capsys):
    worker, uat = service("worker-shop"), service("hello-world-uat", "hello-world-uat")
    worker_record = aws("ssm").get_parameter(Name="/shop/shop/worker/image")["Parameter"]["Value"]
    before = service("api-shop")["taskDefinition"]
    digest = put_test_image(aws("ecr"), "shop/api", "v1")

    code, out, err = cli(capsys, shop, "release", "--service", "api", "--version", "v1",
                         "--poll", "0.3", "--timeout", "120")
    assert (code, err) == (0, ""), out + err
    assert "shop (api): released " in out and digest in out
    # Its release command ran first, in a task of the new image with the service's secrets.
    assert out.index("migrating: DB_PASSWORD is set") < out.index("version of record ->")
    assert "exited with 0" in out and "s3cret" not in out
    family, revision = before.rsplit(":", 1)
    assert service("api-shop")["taskDefinition"] == f"{family}:{int(revision) + 1}"
    assert aws("ssm").get_parameter(Name="/shop/shop/api/image")["Parameter"]["Value"].endswith(
        digest)
    assert service("worker-shop")["taskDefinition"] == worker["taskDefinition"]
    assert aws("ssm").get_parameter(Name="/shop/shop/worker/image")["Parameter"][
        "Value"] == worker_record
    assert service("hello-world-uat", "hello-world-uat")["taskDefinition"] == (
        uat["taskDefinition"])


def test_a_release_without_service_names_them_and_changes_nothing(shop, capsys):
    before = {name: service(name)["taskDefinition"] for name in ("api-shop", "worker-shop")}
    code, out, err = cli(capsys, shop, "release", "--version", "v1")
    assert (code, out) == (2, "")
    assert err == "error: --service: shop has several services: name one of api, worker\n"
    assert {name: service(name)["taskDefinition"] for name in before} == before


def test_status_lists_every_service(shop, capsys):
    code, out, err = cli(capsys, shop, "status")
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["env", "service", "version"]
    assert [row.split()[:2] for row in rows] == [["shop", "api"], ["shop", "worker"]]
    assert "v1" in rows[0] and "ECS COMPLETED" in rows[1]


def test_the_secret_is_listed_by_name_never_by_value(shop, capsys, monkeypatch):
    monkeypatch.setenv("ENVIRONMENTS_DIR", str(EXAMPLE))
    from ops.cli import main

    assert main(["secrets", "list", "--env", "shop", "--service", "api"]) == 0
    out, err = capsys.readouterr()
    assert "DB_PASSWORD" in out and SECRET in out and "s3cret" not in out + err


def test_uat_as_services_plans_moves_and_replaces_nothing(shop, deployments, tmp_path):
    """[service] -> [services.hello-world] on the applied uat: the moved blocks carry every
    resource over; nothing is created, replaced or destroyed."""
    from ops.core.runner import Runner
    import main

    uat = as_several(deployments["uat"].environment)
    main.synth([uat], str(tmp_path / "cdktf.out"))
    converted = Runner(uat, dict(os.environ), tmp_path / "cdktf.out")
    for stack in ("state-uat", "app-uat"):
        converted.init(stack)
        changes = converted.plan_changes(stack, "moved.tfplan")
        actions = {change.address: change.action for change in changes}
        assert set(actions.values()) <= {"move", "noop", "read"}, (stack, {
            address: action for address, action in actions.items() if action != "move"})
        assert "move" in actions.values(), stack


def test_every_service_releases_those_whose_image_changed_in_order(shop, capsys):
    """deploy.yml's release step: the API runs v1 already (skipped), the worker gets it."""
    worker = service("worker-shop")["taskDefinition"]
    digest = put_test_image(aws("ecr"), "shop/worker", "v1")
    code, out, err = cli(capsys, shop, "release", "--every-service", "--version", "v1",
                         "--poll", "0.3", "--timeout", "120")
    assert (code, err) == (0, ""), out + err
    lines = out.splitlines()
    assert "shop (api): already runs that version; not released" in lines
    assert out.index("shop (api): already runs") < out.index("shop (worker): released")
    assert lines[-1] == "1 of 2 service(s) released"
    assert service("worker-shop")["taskDefinition"] != worker
    assert aws("ssm").get_parameter(Name="/shop/shop/worker/image")["Parameter"][
        "Value"].endswith(digest)


def test_a_failing_release_command_stops_the_release_and_the_services_after_it(shop, capsys):
    import dataclasses

    from ops import release

    failing = dataclasses.replace(shop.environment, services={
        **shop.environment.services, "api": dataclasses.replace(
            shop.environment.services["api"], release_command=("sh", "-c", "exit 3"))})
    targets = [Target(one, shop.env, shop) for one in failing.each_service()]
    records = {name: aws("ssm").get_parameter(Name=f"/shop/shop/{name}/image")["Parameter"][
        "Value"] for name in ("api", "worker")}
    definitions = {name: service(f"{name}-shop")["taskDefinition"] for name in records}
    for name in records:
        put_test_image(aws("ecr"), f"shop/{name}", "v2")
    said = []
    with pytest.raises(release.RolloutFailed) as error:
        release.each_service(targets, lambda target: release.deploy_changed(
            target, "v2", timeout=120, poll=0.3, say=said.append), say=said.append)
    assert str(error.value) == ("shop (api): the release command sh -c exit 3 exited with 3; "
                                "nothing was released")
    assert said[-1] == "shop (api): failed; not released: worker"
    assert {name: aws("ssm").get_parameter(Name=f"/shop/shop/{name}/image")["Parameter"][
        "Value"] for name in records} == records
    assert {name: service(f"{name}-shop")["taskDefinition"] for name in records} == definitions
    # The one-off task's revision is gone again; the service's family is untouched.
    assert aws("ecs").list_task_definitions(familyPrefix="api-shop-release", status="ACTIVE")[
        "taskDefinitionArns"] == []
