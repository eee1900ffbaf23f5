"""ops/release.py without AWS: the command line's one-line refusals, and the decisions a release
makes from data (which planned changes a release may apply, which version a rollback returns
to, the AppSpec it hands CodeDeploy). tests/test_release_e2e.py runs real releases."""

import json

import pytest

from helpers import with_service
from ops import release
from ops.release import Refused, Target
from ops.terraform import PlannedChange


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """`python -m ops.release argv` in this process: (exit status, stderr)."""
    try:
        code = release.main(list(argv))
    except SystemExit as exit:  # argparse
        code = exit.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (("deploy", "--env", "nope", "--version", "v1"),
     "error: unknown environment 'nope'; allowed: prod, uat (environments/<name>.toml)\n"),
    (("deploy", "--env", "uat", "--version", "not a tag!"),
     "error: --version 'not a tag!': not an image tag or sha256:<64 hex digits>\n"),
    (("deploy", "--env", "uat", "--version", "sha256:abc"),
     "error: --version 'sha256:abc': not an image tag or sha256:<64 hex digits>\n"),
    (("deploy", "--env", "uat"),
     "error: the following arguments are required: --version (python -m ops.release --help)\n"),
    (("promote", "--from", "uat", "--to", "uat"),
     "error: --from and --to are both 'uat'\n"),
    (("promote", "--from", "uat", "--to", "staging"),
     "error: unknown environment 'staging'; allowed: prod, uat (environments/<name>.toml)\n"),
    (("rollback", "--env", "qa"),
     "error: unknown environment 'qa'; allowed: prod, uat (environments/<name>.toml)\n"),
    (("ship", "--env", "uat"),
     "error: argument command: invalid choice: 'ship' (choose from 'deploy', 'promote', "
     "'rollback', 'unlock', 'status') (python -m ops.release --help)\n"),
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
