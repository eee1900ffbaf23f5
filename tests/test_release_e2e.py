"""Releases end to end against the local AWS emulator (python -m ops release): real Terraform
plans and applies of the app stack, ECS and CodeDeploy rollouts (ops/emulator/patches/ run them in
AWS's time scaled by EMULATOR_TIME_SCALE, or fail them for images in EMULATOR_FAILING_IMAGES).

Two environments, applied once for the module and side by side (threads, as in
test_variants_e2e.py): `relroll` (rolling ECS deploys; creates the ECR repository) and `relbg`
(CodeDeploy blue/green; shares relroll's repository, so promotion moves a digest between them).
Both are uat with their own name, project (so their own repository name), VPC, CIDR and state
bucket, so they never meet another module's resources. The tests run in file order and build on
each other's releases."""

import dataclasses
import json
import threading
import time
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from config import BlueGreenConfig
from ops import release
from ops.emulator import put_test_image
from ops.release import Refused, Target
from helpers import aws
from test_variants_e2e import in_parallel, synth, variant

pytestmark = pytest.mark.e2e
PROJECT = "relproj"
TIMING = {"timeout": 120, "poll": 0.3}


@dataclasses.dataclass
class Env:
    """An applied environment and what the tests read of it."""

    target: Target
    seconds: float = 0.0

    @property
    def names(self):
        return self.target.names

    def service(self) -> dict:
        (service,) = aws("ecs").describe_services(cluster=self.names.service,
                                                  services=[self.names.service])["services"]
        return service

    def record(self) -> str:
        return aws("ssm").get_parameter(Name=self.names.image_parameter)["Parameter"]["Value"]

    def image_running(self) -> str:
        definition = aws("ecs").describe_task_definition(
            taskDefinition=self.service()["taskDefinition"])["taskDefinition"]
        (container,) = definition["containerDefinitions"]
        return container["image"]

    def snapshot(self) -> dict:
        """What a refused release must leave as it was (the version of record's history too:
        a refusal writes nothing, not even a value it then restores)."""
        family = self.names.service
        return {"record": self.record(), "service": self.service()["taskDefinition"],
                "history": len(release.history(self.target)),
                "revisions": aws("ecs").list_task_definitions(familyPrefix=family)[
                    "taskDefinitionArns"],
                "lock": lock_exists(self)}

    def plan_exit_code(self) -> tuple[int, str]:
        result = self.target.deployment.terraform(
            self.target.app_stack, "plan", "-detailed-exitcode", "-no-color", "-input=false")
        return result.returncode, result.stdout + result.stderr


def lock_exists(env: Env) -> bool:
    try:
        aws("ssm").get_parameter(Name=env.names.release_lock_parameter)
        return True
    except ClientError:
        return False


@pytest.fixture(scope="module")
def envs(tmp_path_factory, environments, emulator) -> dict:
    uat = dataclasses.replace(environments["uat"], project=PROJECT)
    configs = {
        "relroll": variant(uat, "relroll", "10.70.0.0/16", project=PROJECT, ecr_repository=True,
                           ecr_repository_owner="", image_tag=""),
        "relbg": variant(uat, "relbg", "10.71.0.0/16", project=PROJECT, ecr_repository=False,
                         ecr_repository_owner="relroll", image_tag="",
                         blue_green=BlueGreenConfig(enabled=True, test_listener_port=8080)),
    }
    built = {}
    for name, config in configs.items():
        deployment = synth(tmp_path_factory.mktemp(name), config)
        built[name] = Env(Target(config, deployment.env, deployment))

    def apply(one: Env) -> None:
        """The state stack, then network and app as soon as the state bucket is ready."""
        started, deployment = time.monotonic(), one.target.deployment
        deployment.apply_in_order(list(one.target.environment.stack_names.values()))
        one.seconds = round(time.monotonic() - started, 1)

    in_parallel(built, apply)
    print(f"\napplied: {({name: one.seconds for name, one in built.items()})}")
    return built


@pytest.fixture(scope="module")
def images(envs) -> dict:
    """Stand-in images v1, v2, v3 and `broken` in the shared repository: tag -> digest."""
    ecr = aws("ecr")
    return {tag: put_test_image(ecr, envs["relroll"].names.repository, tag)
            for tag in ("v1", "v2", "v3", "broken")}


def reference(envs, digest: str) -> str:
    (repository,) = aws("ecr").describe_repositories(
        repositoryNames=[envs["relroll"].names.repository])["repositories"]
    return f"{repository['repositoryUri']}@{digest}"


def cli(capsys, envs, *argv: str) -> tuple[int, str, str]:
    """The command line (`python -m ops <command> ...`, `deploy` standing for `release`) on the
    module's environments: (exit status, stdout, stderr)."""
    from ops import commands
    from ops.cli import main

    def targets(args, names, **_):
        wanted = (names or ",".join(envs)).split(",")
        for name in wanted:
            if name not in envs:
                raise Refused(f"unknown environment {name!r}; allowed: {', '.join(envs)}")
        return [envs[name].target for name in wanted]

    command = {"deploy": "release"}.get(argv[0], argv[0])
    timing = ["--poll", "0.3", "--timeout", "120"] if command in (
        "release", "promote", "rollback") else []
    with mock.patch.object(commands, "release_targets", targets):
        code = main([command, *argv[1:], *timing])
    out, err = capsys.readouterr()
    return code, out, err


def test_rolling_release_rolls_out_the_next_revision_and_terraform_agrees(envs, images,
                                                                         capsys):
    roll = envs["relroll"]
    before = roll.service()["taskDefinition"]
    code, out, err = cli(capsys, envs, "deploy", "--env", "relroll", "--version", "v1")
    assert (code, err) == (0, ""), out + err
    assert f"relroll: released {reference(envs, images['v1'])}" in out

    assert roll.record() == reference(envs, images["v1"])
    service = roll.service()
    family, revision = before.rsplit(":", 1)
    assert service["taskDefinition"] == f"{family}:{int(revision) + 1}"
    assert roll.image_running() == reference(envs, images["v1"])
    (deployment,) = service["deployments"]
    assert (deployment["rolloutState"], service["runningCount"]) == ("COMPLETED",
                                                                     service["desiredCount"])
    description = aws("ssm").get_parameter_history(Name=roll.names.image_parameter)[
        "Parameters"][-1]["Description"]
    assert description.startswith(f"release v1 ({images['v1'][:19]}) (commit ")

    assert roll.plan_exit_code()[0] == 0, roll.plan_exit_code()[1]
    assert not roll.target.deployment.apply(roll.target.app_stack).changes
    assert roll.service()["taskDefinition"] == service["taskDefinition"]


def test_refusals_change_nothing(envs, images, capsys, environments):
    roll = envs["relroll"]
    unchanged = roll.snapshot()

    code, _, err = cli(capsys, envs, "deploy", "--env", "nope", "--version", "v2")
    assert (code, err) == (2, "error: unknown environment 'nope'; allowed: relroll, relbg\n")

    code, _, err = cli(capsys, envs, "deploy", "--env", "relroll", "--version", "v9")
    assert (code, err) == (2, f"error: relroll: version 'v9' is not in ECR repository "
                              f"{PROJECT}/hello-world; push it first (python -m ops image "
                              "--env relroll)\n")
    code, _, err = cli(capsys, envs, "deploy", "--env", "relroll", "--version",
                       "sha256:" + "0" * 64)
    assert code == 2 and "is not in ECR repository" in err

    public = dataclasses.replace(roll.target, environment=variant(
        environments["uat"], "relpub", "10.72.0.0/16", ecr_repository=False,
        ecr_repository_owner="", image_tag=""))
    with pytest.raises(Refused, match="relpub: runs the public image"):
        release.deploy(public, "v2", **TIMING)

    # A release lock left by another run: refused, with who holds it, since when, and the fix.
    aws("ssm").put_parameter(Name=roll.names.release_lock_parameter, Type="String", Value=json.dumps(
        {"holder": "alice", "host": "ci-7", "pid": 42, "since": "2026-11-26 10:00:00 UTC",
         "version": "x"}))
    code, _, err = cli(capsys, envs, "deploy", "--env", "relroll", "--version", "v2")
    assert (code, err) == (2, "error: relroll: a release is already in progress (held by alice "
                              "on ci-7 (pid 42) since 2026-11-26 10:00:00 UTC, releasing x); if "
                              "it died, clear it: python -m ops unlock --env relroll\n")
    assert roll.snapshot() == {**unchanged, "lock": True}
    code, out, _ = cli(capsys, envs, "unlock", "--env", "relroll")
    assert code == 0 and out.startswith("relroll: cleared the release lock (held by alice")

    # Infrastructure changed outside the release (here: drift of the log group's retention):
    # the release does not carry it along, and finds out before it writes anything.
    aws("logs").put_retention_policy(logGroupName=roll.names.log_group, retentionInDays=7)
    try:
        code, _, err = cli(capsys, envs, "deploy", "--env", "relroll", "--version", "v2")
        assert code == 2
        assert err.startswith("error: app-relroll has changes a release does not make: "
                              "aws_cloudwatch_log_group.service_log_group (update); review and "
                              "apply them first (make plan ENV=relroll")
        assert err.count("\n") == 1
    finally:
        aws("logs").put_retention_policy(logGroupName=roll.names.log_group,
                                         retentionInDays=30)
    assert roll.snapshot() == unchanged
    assert roll.plan_exit_code()[0] == 0


def test_a_second_release_at_the_same_time_is_refused(envs, images, capsys):
    roll = envs["relroll"]
    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(summary=release.deploy(
        roll.target, "v2", say=lambda line: None, **TIMING)))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not lock_exists(roll):
            assert time.monotonic() < deadline and thread.is_alive(), "the first never locked"
            time.sleep(0.05)
        with pytest.raises(Refused) as refused:
            release.deploy(roll.target, "v3", **TIMING)
        assert "a release is already in progress" in str(refused.value)
        assert "releasing " + reference(envs, images["v2"]) in str(refused.value)
    finally:
        thread.join(timeout=180)
    assert first["summary"].startswith(f"relroll: released {reference(envs, images['v2'])}")
    assert roll.record() == reference(envs, images["v2"])
    assert not lock_exists(roll)


def test_a_failing_rollout_is_rolled_back(envs, images, capsys, monkeypatch):
    roll = envs["relroll"]
    monkeypatch.setenv("EMULATOR_FAILING_IMAGES", f"*@{images['broken']}")
    code, _, err = cli(capsys, envs, "deploy", "--env", "relroll", "--version", "broken")
    assert code == 1
    # What the release saw depends on when it polled: the FAILED deployment, or (the rollback
    # already done) ECS's event saying why.
    again = f"; the version of record is {reference(envs, images['v2'])} again\n"
    assert err.startswith("error: rolled back: relroll: ") and err.endswith(again), err
    assert "tasks failed to start" in err, err
    assert roll.record() == reference(envs, images["v2"])
    assert roll.image_running() == reference(envs, images["v2"])
    assert roll.plan_exit_code()[0] == 0


def test_rollback_returns_to_the_previous_version_that_ran(envs, images, capsys):
    roll = envs["relroll"]
    # v2 now; before it v1 (the broken release never ran, so it is skipped).
    code, out, err = cli(capsys, envs, "rollback", "--env", "relroll")
    assert (code, err) == (0, ""), out + err
    assert roll.record() == reference(envs, images["v1"])
    assert roll.image_running() == reference(envs, images["v1"])
    assert aws("ssm").get_parameter_history(Name=roll.names.image_parameter)[
        "Parameters"][-1]["Description"].startswith(f"rollback to v1 ({images['v1'][:19]})")
    assert roll.plan_exit_code()[0] == 0


def test_promote_deploys_the_same_digest_blue_green(envs, images, capsys):
    roll, bg = envs["relroll"], envs["relbg"]
    code, out, err = cli(capsys, envs, "promote", "--from", "relroll", "--to", "relbg")
    assert (code, err) == (0, ""), out + err
    assert bg.record() == roll.record() == reference(envs, images["v1"])
    assert "Succeeded: traffic shifted" in out
    assert aws("ssm").get_parameter_history(Name=bg.names.image_parameter)["Parameters"][-1][
        "Description"].startswith(f"promote from relroll: v1 ({images['v1'][:19]})")

    codedeploy = aws("codedeploy")
    (deployment_id,) = codedeploy.list_deployments(
        applicationName=bg.names.service, deploymentGroupName=bg.names.service)["deployments"]
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Succeeded"
    spec = json.loads(info["revision"]["appSpecContent"]["content"])
    (resource,) = spec["Resources"]
    properties = resource["TargetService"]["Properties"]
    assert resource["TargetService"]["Type"] == "AWS::ECS::Service"
    assert properties["LoadBalancerInfo"] == {"ContainerName": "web", "ContainerPort": 8000}
    outputs = bg.target.deployment.outputs(bg.target.app_stack)
    assert properties["TaskDefinition"] == outputs["task_definition_arn"]
    assert bg.service()["taskDefinition"] == outputs["task_definition_arn"]
    assert bg.image_running() == reference(envs, images["v1"])
    assert bg.plan_exit_code()[0] == 0


def test_blue_green_release_that_fails_is_rolled_back(envs, images, capsys, monkeypatch):
    bg = envs["relbg"]
    running = bg.service()["taskDefinition"]
    monkeypatch.setenv("EMULATOR_FAILING_IMAGES", f"*@{images['broken']}")
    code, _, err = cli(capsys, envs, "deploy", "--env", "relbg", "--version", "broken")
    assert code == 1
    assert err.startswith("error: rolled back: relbg: CodeDeploy deployment ")
    assert "Failed: The ECS replacement task set failed its health checks" in err
    assert bg.record() == reference(envs, images["v1"])
    assert bg.service()["taskDefinition"] == running
    assert bg.plan_exit_code()[0] == 0


def test_promote_refuses_a_source_that_is_not_healthy(envs, images):
    roll, bg = envs["relroll"], envs["relbg"]
    # relroll's version of record says v3, but its service still runs v1.
    aws("ssm").put_parameter(Name=roll.names.image_parameter, Type="String", Overwrite=True,
                             Value=reference(envs, images["v3"]))
    unchanged = bg.snapshot()
    try:
        with pytest.raises(Refused, match="relroll: not healthy on its version of record v3"):
            release.promote(roll.target, bg.target, **TIMING)
    finally:
        aws("ssm").put_parameter(Name=roll.names.image_parameter, Type="String",
                                 Overwrite=True, Value=reference(envs, images["v1"]))
    assert bg.snapshot() == unchanged


def test_status_shows_what_runs_where(envs, images, capsys, environments):
    code, out, err = cli(capsys, envs, "status")
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split() == ["env", "version", "revision", "tasks", "state", "released"]
    by_env = {row.split()[0]: row for row in rows}
    for name in ("relroll", "relbg"):
        assert f"v1 ({images['v1'][:19]})" in by_env[name]
        assert f"hello-world-{name}:" in by_env[name]
        assert " 1/1 " in by_env[name]
    assert "ECS COMPLETED" in by_env["relroll"]
    assert "rollback to v1" in by_env["relroll"]
    # relbg's last deployment is the failed one; its last write, the restore after it, is no
    # release: the release shown is the promotion that made v1 its version of record.
    assert "Failed" in by_env["relbg"]
    assert "restore:" not in by_env["relbg"] and "promote from relroll: v1" in by_env["relbg"]

    nowhere = dataclasses.replace(envs["relroll"].target, environment=variant(
        environments["uat"], "relnone", "10.73.0.0/16"))
    assert "relnone  not deployed (python -m ops up --env relnone)" in release.status(
        [nowhere])


def test_blue_green_release_waits_for_a_codedeploy_deployment_in_progress(envs, images,
                                                                          monkeypatch):
    bg = envs["relbg"]
    monkeypatch.setenv("EMULATOR_TIME_SCALE", "1")  # real time: started by hand, still going
    aws("codedeploy").create_deployment(
        applicationName=bg.names.service, deploymentGroupName=bg.names.service,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": release.appspec(
            bg.service()["taskDefinition"], "web", 8000)}})
    unchanged = bg.snapshot()
    with pytest.raises(Refused, match=r"^relbg: CodeDeploy deployment \S+ is (Created|InProgress)"
                                      r"; a release waits for it to end"):
        release.deploy(bg.target, "v2", **TIMING)
    assert bg.snapshot() == unchanged
