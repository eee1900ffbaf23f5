"""deploy.yml's apply job under the deploy role, with the emulator enforcing IAM, for a blue/green
environment: what only blue/green asks of the role (the CodeDeploy service role created with its
boundary, AWSCodeDeployRoleForECS attached, PassRole to codedeploy, the CodeDeploy application
and group, the deployment), and the proof that the role's policy is what decides: one statement
taken from it, the apply job fails naming the action, the resource and the role.

One environment (uat, blue/green; prod left out to save Terraform runs). Runs are dispatched by
hand with apply_unreviewed (the pull requests' plans are tests/test_workflow_runs_e2e.py's).
"""

import os
import re
from pathlib import Path

import pytest

from helpers import aws
from test_workflow_runs_e2e import enforcing  # noqa: F401 (a fixture, shared)
from test_workflow_runs_e2e import RUN, commit, refusals, started_project

pytestmark = pytest.mark.e2e
BLUE_GREEN = "\n[service.blue_green]\nenabled = true\ntest_listener_port = 8080\n"
REMOVED = "TargetTrackingAlarms"  # the statement the proof takes from the deploy role


def only_uat_blue_green(environments: Path) -> None:
    """uat alone, blue/green, its service named apart from test_workflow_runs_e2e's (one
    emulator may hold both)."""
    (environments / "prod.toml").unlink()
    uat = environments / "uat.toml"
    text = uat.read_text().replace("[service]\n", '[service]\nname = "bg-world"\n', 1)
    uat.write_text(text + BLUE_GREEN)


@pytest.fixture(scope="module")
def project(enforcing, tmp_path_factory):
    with started_project(enforcing, tmp_path_factory.mktemp("bluegreen"), f"bg{RUN}",
                         only_uat_blue_green) as started:
        yield started


def dispatch(project, change, message: str):
    """`change(repo)` committed to main, and deploy.yml run on it by hand (apply_unreviewed)."""
    change(project.repo)
    sha = commit(project.repo, message)
    project.commits.append(sha)
    return project.replay("deploy.yml", "workflow_dispatch",
                          {"ref": "refs/heads/main", "inputs": {"apply_unreviewed": True}},
                          sha, "refs/heads/main", {"apply_unreviewed": True})


def changelog(text: str):
    return lambda repo: (repo / "app" / "CHANGELOG").write_text(text)


@pytest.fixture(scope="module")
def first_deploy(project):
    return dispatch(project, changelog("first release\n"), "app: changelog")


@pytest.fixture(scope="module")
def later_release(project, first_deploy):
    return dispatch(project, changelog("second release\n"), "app: second release")


def test_the_first_deploy_creates_the_blue_green_service_under_the_deploy_role(
        project, first_deploy):
    assert first_deploy.denials == [], refusals(first_deploy.denials)
    apply = first_deploy.job("apply (uat)")
    ran = {step.name.split()[0]: step.conclusion for step in apply.steps if step.name}
    assert (ran.get("Apply"), ran.get("Release")) == ("success", "success"), \
        first_deploy.failure()
    name = project.environments["uat"].names.service
    (group,) = aws("codedeploy").list_deployment_groups(applicationName=name)["deploymentGroups"]
    assert group


def test_the_first_deploy_passes_its_smoke_check(first_deploy):
    assert first_deploy.conclusion == "success", first_deploy.failure()


def test_a_later_release_goes_through_codedeploy_under_the_deploy_role(project, later_release):
    assert later_release.conclusion == "success", later_release.failure()
    assert later_release.denials == [], refusals(later_release.denials)
    name = project.environments["uat"].names.service
    deployments = aws("codedeploy").list_deployments(
        applicationName=name, deploymentGroupName=name)["deployments"]
    assert len(deployments) >= 2  # the first deploy's and this release's


@pytest.fixture(scope="module")
def without_a_statement(project, later_release, tmp_path_factory, monkeypatch_module):
    """state-uat re-applied by the administrator with the deploy role lacking REMOVED, then a
    change to the target tracking policy dispatched: its apply job."""
    import dataclasses

    import main
    from stacks import state as stacks
    from ops.core.runner import Runner

    def fewer(*args, **kwargs):
        roles = stacks_ci_roles(*args, **kwargs)
        deploy = roles["deploy"]
        assert REMOVED in {s["Sid"] for s in deploy.statements}
        roles["deploy"] = dataclasses.replace(deploy, statements=[
            s for s in deploy.statements if s["Sid"] != REMOVED])
        return roles

    stacks_ci_roles = stacks.ci_roles
    monkeypatch_module.setattr(stacks, "ci_roles", fewer)
    uat = project.environments["uat"]
    out = tmp_path_factory.mktemp("fewer") / "cdktf.out"
    main.synth([uat], str(out))
    Runner(uat, dict(os.environ), out).apply(uat.stack_names["state"])

    def retarget(repo: Path) -> None:
        toml = repo / "environments" / "uat.toml"
        toml.write_text(toml.read_text().replace("cpu_target_percent = 70",
                                                 "cpu_target_percent = 60"))

    return dispatch(project, retarget, "uat: scale at 60% CPU")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_one_statement_less_and_the_apply_job_fails_naming_action_resource_and_role(
        project, without_a_statement):
    run = without_a_statement
    apply = run.job("apply (uat)")
    assert apply.conclusion == "failure"
    step = next(step for step in apply.steps if step.conclusion == "failure")
    assert step.name.startswith("Apply"), apply.failure()
    role = project.environments["uat"].ci_role_names["deploy"]
    said = step.stdout + step.stderr
    refused = re.search(r".*is not authorized to perform: cloudwatch:PutMetricAlarm on "
                        r"resource: \S+:alarm:TargetTracking-\S+.*", said)
    assert refused and role in refused.group(0), apply.failure()
    print("the apply job said:", refused.group(0).strip())
    assert run.denials and all(
        d["action"] == "cloudwatch:PutMetricAlarm" and ":alarm:TargetTracking-" in d["resource"]
        for d in run.denials), refusals(run.denials)
