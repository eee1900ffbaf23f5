"""ops/release.py without AWS: the command line's one-line refusals, and the decisions a release
makes from data (which planned changes a release may apply, which version a rollback returns
to, the AppSpec it hands CodeDeploy). tests/test_release_e2e.py runs real releases."""

import importlib
import json
import re

import pytest

from helpers import with_service
from ops import release
from ops.core.planned import PlannedChange
from ops.release import Refused, Target


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """`python -m ops argv` in this process: (exit status, stderr)."""
    from ops.cli import main

    return main(list(argv)), capsys.readouterr().err


UNKNOWN = "error: ENVIRONMENTS = {!r}: unknown environment; allowed: prod, uat\n"


def unknown(name: str) -> str:
    return f"error: unknown environment {name!r}; allowed: prod, uat (environments/<name>.toml)\n"


NOT_A_VERSION = "error: --version {!r}: not an image tag or sha256:<64 hex digits>\n"


@pytest.mark.parametrize("argv, message", [
    (("release", "--env", "nope", "--version", "v1"), UNKNOWN.format("nope")),
    (("release", "--env", "uat", "--version", "not a tag!"),
     "error: --version 'not a tag!': not an image tag or sha256:<64 hex digits>\n"),
    (("release", "--env", "uat", "--version", "sha256:abc"),
     "error: --version 'sha256:abc': not an image tag or sha256:<64 hex digits>\n"),
    (("release", "--env", "uat"),
     "error: the following arguments are required: --version (python -m ops release --help)\n"),
    (("promote", "--from", "uat", "--to", "uat"),
     "error: --from and --to are both 'uat'\n"),
    (("promote", "--from", "uat", "--to", "staging"), UNKNOWN.format("staging")),
    (("rollback", "--env", "qa"), UNKNOWN.format("qa")),
    (("rollback", "--env", "uat,prod"),
     "error: --env uat,prod: rollback acts on one environment; name one\n"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert run_cli(capsys, *argv) == (2, message)


def test_an_environment_on_a_public_image_is_refused_before_any_aws_call(environments):
    public = with_service(environments["uat"], ecr_repository=False, ecr_repository_owner="")
    target = Target(public, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})  # nothing listens
    with pytest.raises(Refused) as refused:
        release.deploy(target, "3f9c2e1a7b4d", timeout=1, poll=1)
    assert str(refused.value) == (
        "uat: runs the public image 'crccheck/hello-world:latest' and has no ECR repository to "
        "release from; set service.ecr_repository = true (or ecr_repository_owner) in "
        "environments/uat.toml")


def test_promotion_between_two_repositories_is_refused_before_any_aws_call(environments):
    uat = with_service(environments["uat"], ecr_repository=True, ecr_repository_owner="")
    prod = with_service(environments["prod"], ecr_repository=True, ecr_repository_owner="",
                        name="other-service")
    nowhere = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    with pytest.raises(Refused) as refused:
        release.promote(Target(uat, nowhere), Target(prod, nowhere), timeout=1, poll=1)
    assert str(refused.value).startswith(
        "prod runs images from hello-world/other-service (ap-south-1), uat from "
        "hello-world/hello-world (ap-south-1): promotion moves one digest")


def change(address: str, action: str) -> PlannedChange:
    return PlannedChange(address, address.removeprefix("data.").split(".")[0], action)


def test_a_release_applies_only_a_new_task_definition_and_the_service_update():
    release_only = [change("aws_ecs_task_definition.service_task_definition", "replace"),
                    change("aws_ecs_service.service_service", "update"),
                    change("aws_lb.load_balancer_alb", "noop"),
                    change("data.aws_vpc.network_vpc", "read")]
    assert release.unexpected_changes(release_only) == []
    pending = release_only + [change("aws_cloudwatch_log_group.service_log_group", "update"),
                              change("aws_ecs_service.service_service", "replace"),
                              change("aws_iam_role.service_task_role", "create")]
    assert release.unexpected_changes(pending) == [
        "aws_cloudwatch_log_group.service_log_group (update)",
        "aws_ecs_service.service_service (replace)",
        "aws_iam_role.service_task_role (create)"]


def versions(*values: str) -> list[dict]:
    """History entries; a value 'restore:X' is X written back by a refused/failed release."""
    return [{"Version": number, "Value": value.removeprefix("restore:"),
             "Description": "restore: rollout failed" if value.startswith("restore:")
             else f"release {value}"} for number, value in enumerate(values, 1)]


@pytest.mark.parametrize("values, previous", [
    (("seed",), None),
    (("seed", "v1"), "seed"),
    (("seed", "v1", "v2"), "v1"),
    (("seed", "v1", "v1"), "seed"),  # the same value twice is one version
    (("seed", "v1", "broken", "restore:v1"), "seed"),  # broken never ran
    (("seed", "v1", "v2", "broken", "restore:v2"), "v1"),
    (("seed", "v1", "v2", "v1"), "v2"),  # a rollback of a rollback goes forward again
])
def test_rollback_goes_to_the_previous_version_that_ran(values, previous):
    assert release.previous_version(versions(*values)) == previous


def test_appspec_names_the_task_definition_container_and_port():
    arn = "arn:aws:ecs:ap-south-1:123456789012:task-definition/hello-world-uat:7"
    spec = json.loads(release.appspec(arn, "web", "8000"))
    assert spec["Resources"] == [{"TargetService": {
        "Type": "AWS::ECS::Service",
        "Properties": {"TaskDefinition": arn,
                       "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8000}}}}]


@pytest.mark.parametrize("shift, minutes", [
    ("all_at_once", 0), ("linear_10_percent_every_1_minute", 9),
    ("linear_10_percent_every_3_minutes", 27), ("canary_10_percent_for_5_minutes", 5),
    ("canary_10_percent_for_15_minutes", 15)])
def test_traffic_shift_minutes_come_from_the_codedeploy_config(shift, minutes):
    assert release.traffic_shift_minutes(shift) == minutes


def test_a_blue_green_release_waits_for_the_shift_the_termination_wait_and_a_margin(
        environments):
    from config import BlueGreenConfig

    slow = with_service(environments["uat"], blue_green=BlueGreenConfig(
        enabled=True, test_listener_port=8080, traffic_shift="linear_10_percent_every_3_minutes",
        termination_wait_minutes=60))
    # 27 min of shifting, 60 min of termination wait: far past the old fixed 1800 s.
    assert release.release_wait(Target(slow, env={})) == (27 + 60) * 60 + \
        release.START_MARGIN_SECONDS
    assert release.release_wait(Target(environments["uat"], env={})) == \
        release.ROLLING_WAIT_SECONDS
    from ops.cli import parser

    assert parser().parse_args(["rollback"]).timeout is None  # derived unless given


class FakeCodeDeploy:
    """ListDeployments in pages (running ones on the second page, as AWS may order them) and
    BatchGetDeployments refusing more than 25 ids, as AWS does; GetDeployment from a script."""

    def __init__(self, infos: list[dict], page: int = 100, script: list[dict] = ()):
        self.infos, self.page, self.script, self.calls = infos, page, list(script), []

    def get_paginator(self, operation):
        assert operation == "list_deployments"
        fake = self

        class Paginator:
            def paginate(self, **kwargs):
                fake.calls.append(("list_deployments", kwargs))
                statuses = kwargs.get("includeOnlyStatuses")
                ids = [info["deploymentId"] for info in fake.infos
                       if not statuses or info["status"] in statuses]
                return [{"deployments": ids[start:start + fake.page]}
                        for start in range(0, len(ids), fake.page)] or [{"deployments": []}]
        return Paginator()

    def batch_get_deployments(self, deploymentIds):  # noqa: N803 (boto3's name)
        assert len(deploymentIds) <= 25, "BatchGetDeployments takes at most 25 ids"
        return {"deploymentsInfo": [info for info in self.infos
                                    if info["deploymentId"] in deploymentIds]}

    def create_deployment(self, **kwargs):
        return {"deploymentId": "d-NEW"}

    def get_deployment(self, deploymentId):  # noqa: N803
        return {"deploymentInfo": self.script.pop(0) if len(self.script) > 1 else self.script[0]}


def deployments(count: int, running_at: int | None = None) -> list[dict]:
    return [{"deploymentId": f"d-{number:03}", "createTime": number,
             "status": "InProgress" if number == running_at else "Succeeded"}
            for number in range(count)]


def test_the_already_running_guard_reads_every_page_and_only_running_ones(monkeypatch,
                                                                         environments):
    fake = FakeCodeDeploy(deployments(130, running_at=5), page=100)
    monkeypatch.setattr(release.target, "client", lambda service, env: fake)
    target = Target(environments["uat"], env={})
    (running,) = release.running_codedeploy_deployments(target)
    assert running["deploymentId"] == "d-005"
    assert fake.calls[0][1]["includeOnlyStatuses"] == list(release.CODEDEPLOY_RUNNING)
    # Status: the running one first; with none running, the newest of all pages.
    assert release.latest_codedeploy_deployment(target)["deploymentId"] == "d-005"
    fake.infos = deployments(130)
    assert release.running_codedeploy_deployments(target) == []
    assert release.latest_codedeploy_deployment(target)["deploymentId"] == "d-129"


def test_a_release_whose_traffic_shifted_is_done_when_the_wait_ends_in_the_termination_wait(
        monkeypatch, environments):
    fake = FakeCodeDeploy([], script=[
        {"status": "InProgress"},
        {"status": "InProgress", "instanceTerminationWaitTimeStarted": True}])
    monkeypatch.setattr(release.target, "client", lambda service, env: fake)
    said = []
    outputs = {"codedeploy_application": "a", "codedeploy_deployment_group": "g",
               "task_definition_arn": "arn:td:2", "container_name": "web",
               "container_port": 8000}
    state = release.deploy_with_codedeploy(Target(environments["uat"], env={}), outputs, "d",
                                           timeout=0.05, poll=0.01, say=said.append)
    assert state == "CodeDeploy deployment d-NEW: traffic shifted, termination wait still running"
    assert said[-1] == ("uat: traffic fully shifted; the original task set stays 5 min for a "
                        "rollback before CodeDeploy reports Succeeded")
    fake.script = [{"status": "InProgress"}]  # never shifted: the wait ending is a timeout
    with pytest.raises(TimeoutError):
        release.deploy_with_codedeploy(Target(environments["uat"], env={}), outputs, "d",
                                       timeout=0.05, poll=0.01, say=said.append)


def test_status_shows_the_release_not_the_restore_after_a_failed_one():
    entries = versions("seed", "v1", "broken", "restore:v1")
    entries[1]["Description"] = "release v1 by alice"
    assert release.release_entry(entries) == entries[1]
    assert release.release_entry(versions("seed")) == versions("seed")[0]
    assert release.release_entry([]) is None


def test_a_missing_repository_names_the_state_stack_that_creates_it(environments, emulator):
    import dataclasses
    import os

    prod = dataclasses.replace(environments["prod"], project="norepo")  # nothing creates it
    with pytest.raises(Refused) as refused:
        release.deploy(Target(prod, env=dict(os.environ)), "v1", timeout=1, poll=1)
    assert str(refused.value) == (
        "prod: ECR repository norepo/hello-world does not exist; uat's state stack creates it: "
        "python -m ops up --env uat, then push (python -m ops image) and release "
        "again")


def test_a_rollback_done_between_two_polls_is_reported_from_ecs_event(monkeypatch, environments):
    # The failed deployment is gone once ECS finished rolling back; its event says why.
    service = {"status": "ACTIVE", "taskDefinition": "arn:aws:ecs:r:1:task-definition/app:3",
               "deployments": [{"taskDefinition": "arn:aws:ecs:r:1:task-definition/app:3",
                                "status": "PRIMARY", "rolloutState": "COMPLETED"}],
               "events": [{"message": "(service app) has reached a steady state."},
                          {"message": "(service app) rolling back to deployment ecs-svc/1."},
                          {"message": "(service app) (deployment ecs-svc/2) deployment failed: "
                                      "tasks failed to start."}]}
    monkeypatch.setattr(release.wait, "describe_service", lambda target: service)
    with pytest.raises(release.RolloutFailed) as failed:
        release.wait_for_ecs(Target(environments["uat"], env={}),
                             "arn:aws:ecs:r:1:task-definition/app:4", timeout=5, poll=0)
    assert str(failed.value) == ("ECS failed the deployment: tasks failed to start; the service "
                                 "went back to app:3")


def test_a_service_read_before_ecs_shows_the_deployment_is_not_a_rollback(monkeypatch,
                                                                          environments):
    # ECS is eventually consistent: the first reads after UpdateService may show it as it was.
    old, new = ("arn:aws:ecs:r:1:task-definition/app:3", "arn:aws:ecs:r:1:task-definition/app:4")

    def service(task_definition: str) -> dict:
        return {"status": "ACTIVE", "taskDefinition": task_definition, "runningCount": 1,
                "desiredCount": 1, "events": [], "deployments": [{
                    "taskDefinition": task_definition, "status": "PRIMARY",
                    "rolloutState": "COMPLETED", "runningCount": 1}]}
    reads = iter([service(old), service(old), service(new)])
    monkeypatch.setattr(release.wait, "describe_service", lambda target: next(reads))
    assert release.wait_for_ecs(Target(environments["uat"], env={}), new, timeout=5,
                                poll=0) == "COMPLETED, 1/1 running"
    # Past the catch-up time, or once the deployment was seen, it is a rollback.
    reads = iter([service(old)])
    monkeypatch.setattr(release.wait, "ECS_CATCH_UP_SECONDS", 0)
    with pytest.raises(release.RolloutFailed, match="^the service went back to app:3$"):
        release.wait_for_ecs(Target(environments["uat"], env={}), new, timeout=5, poll=0)


def test_status_lists_environments_in_deploy_order(monkeypatch, capsys, environments):
    # prod is promoted from uat: uat comes first whatever order the files or --env give.
    status_module = importlib.import_module("ops.release.status")  # `release.status`: the function
    monkeypatch.setattr(status_module, "status_row", lambda target: {"env": target.name})

    def listed(text: str) -> list[str]:
        return [line.split()[0] for line in text.splitlines()[1:]]

    assert release.main(["status"]) == 0
    assert listed(capsys.readouterr().out) == ["uat", "prod"]
    assert release.main(["status", "--env", "prod,uat"]) == 0
    assert listed(capsys.readouterr().out) == ["uat", "prod"]
    # Promoted from an environment not listed: no order from it, and no refusal.
    assert listed(release.status([Target(environments["prod"], env={})])) == ["prod"]


def test_a_release_tags_its_digest_for_the_lifecycle_policy_to_keep(environments, emulator):
    """ops.release retags the digest it rolls out release-<env>-<UTC time> (the prefix the
    repository's lifecycle rule keeps); a second release in the same second is no error."""
    import dataclasses
    import os

    import boto3

    from config import RELEASE_TAG_PREFIX
    from ops.emulator.cli import put_test_image

    uat = dataclasses.replace(environments["uat"], project="tagged")
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName=uat.names.repository, imageTagMutability="IMMUTABLE")
    digest = put_test_image(ecr, uat.names.repository, "v1")
    said = []
    target = Target(uat, env=dict(os.environ))
    for _ in range(2):
        release.tag_release(target, f"example.com/{uat.names.repository}@{digest}", said.append)
    (image,) = ecr.describe_images(repositoryName=uat.names.repository)["imageDetails"]
    released = [tag for tag in image["imageTags"] if tag != "v1"]
    assert image["imageDigest"] == digest and len(released) in (1, 2)
    assert all(re.fullmatch(rf"{RELEASE_TAG_PREFIX}uat-\d{{8}}T\d{{6}}Z", t) for t in released)
    assert said[0] == f"uat: tagged {digest[:19]} {released[0]}"
    ecr.delete_repository(repositoryName=uat.names.repository, force=True)
