"""ops/core/runner.py's Runner with real Terraform on a stack of built-in `terraform_data`
resources (local state, no provider, no AWS): init runs only when what it depends on changed,
and an apply reports what it changed."""

import json
import os

import pytest

from ops import deploy
from ops.core import runner
from ops.core.runner import Runner

STACK = "tiny"


@pytest.fixture
def tiny(tmp_path, environments, monkeypatch):
    """A Runner of one stack; `write(**resources)` rewrites its configuration, `runs` lists
    the Terraform commands run (their first argument)."""
    folder = tmp_path / "cdktf.out" / "stacks" / STACK
    folder.mkdir(parents=True)
    deployment = Runner(environments["uat"], dict(os.environ), tmp_path / "cdktf.out")
    runs = []
    real = runner.terraform

    def counted(stack_dir, *args, **kwargs):
        runs.append(args[0])
        return real(stack_dir, *args, **kwargs)

    monkeypatch.setattr(runner, "terraform", counted)

    def write(backend="state.tfstate", **resources):
        (folder / "cdk.tf.json").write_text(json.dumps({
            "terraform": {"backend": {"local": {"path": backend}}},
            "resource": {"terraform_data": {name: {"input": value}
                                            for name, value in resources.items()}}}))

    deployment.write, deployment.runs, deployment.folder = write, runs, folder
    return deployment


def test_init_runs_again_only_when_what_it_depends_on_changed(tiny):
    tiny.write(one="a")
    tiny.init(STACK)
    tiny.init(STACK)
    assert tiny.runs == ["init"]
    tiny.write(one="b", two="c")  # resources only: init has nothing new to do
    tiny.init(STACK)
    assert tiny.runs == ["init"]
    tiny.init(STACK, reuse=False)
    assert tiny.runs == ["init"] * 2

    tiny.write(backend="other.tfstate", one="b")  # the backend: init must run (-reconfigure)
    with pytest.raises(runner.TerraformError):
        tiny.init(STACK)
    assert not (tiny.folder / ".terraform" / "ops-init.sha256").exists()  # a failed init: again
    tiny.write(one="b")
    tiny.init(STACK)
    assert tiny.runs == ["init"] * 4

    (tiny.folder / "x_override.tf.json").write_text(json.dumps({"terraform": {}}))
    tiny.init(STACK)
    (tiny.folder / ".terraform.lock.hcl").write_text("# changed\n")
    tiny.init(STACK)
    tiny.env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
    tiny.init(STACK)
    assert tiny.runs == ["init"] * 7
    tiny.init(STACK)
    assert tiny.runs == ["init"] * 7


def test_apply_plans_and_applies_in_one_run_and_reports_the_changes(tiny):
    tiny.write(one="a", two="b")
    first = tiny.apply(STACK)
    assert first.changes == {"add": 2, "change": 0, "destroy": 0}
    assert first.describe().startswith("applied: 2 to add (")
    tiny.write(one="a", two="c", three="d")
    assert tiny.apply(STACK).changes == {"add": 1, "change": 1, "destroy": 0}
    again = tiny.apply(STACK)
    assert again.changes == {} and again.describe().startswith("no changes (")
    assert tiny.runs == ["init", "apply", "apply", "apply"]


def test_a_refused_down_is_one_line_and_exit_2(monkeypatch, capsys):
    def refuse(environment, target):
        raise deploy.DownRefused(f"{environment.name}: not destroyed: load balancer x has "
                                 "deletion protection on: ...")
    monkeypatch.setattr(deploy, "down", refuse)
    assert deploy.main(["down", "--env", "prod", "--target", "aws"]) == 2
    assert capsys.readouterr().err == ("error: prod: not destroyed: load balancer x has deletion "
                                       "protection on: ...\n")


class _Ecr:
    """An ECR client's two calls that adoption makes, answering from `repositories` (name ->
    Environment tag, or an error code)."""

    def __init__(self, repositories: dict):
        self.repositories = repositories

    def _check(self, name):
        from botocore.exceptions import ClientError

        answer = self.repositories.get(name, "RepositoryNotFoundException")
        if answer.endswith("Exception"):
            raise ClientError({"Error": {"Code": answer, "Message": "-"}}, "DescribeRepositories")

    def describe_repositories(self, repositoryNames):
        (name,) = repositoryNames
        self._check(name)
        return {"repositories": [{"repositoryArn": f"arn:aws:ecr:ap-south-1:1:repository/{name}",
                                  "repositoryName": name}]}

    def list_tags_for_resource(self, resourceArn):
        name = resourceArn.split(":repository/")[1]
        return {"tags": [{"Key": "Environment", "Value": self.repositories[name]}]}


@pytest.fixture
def ecr_with(monkeypatch, environments, tmp_path):
    """A uat Runner whose ECR client answers from the given repositories; terraform is not
    run, its environment is recorded."""
    import ops.aws

    seen = []
    monkeypatch.setattr(runner, "terraform", lambda stack_dir, *args, env, check: seen.append(
        env.get("TF_VAR_adopt_image_repository")))

    def make(repositories: dict) -> tuple:
        monkeypatch.setattr(ops.aws, "client", lambda service, env: _Ecr(repositories))
        return Runner(environments["uat"], dict(os.environ), tmp_path), seen
    return make


@pytest.mark.parametrize("repositories, adopt", [
    ({}, "false"),  # a first deploy: the state stack creates it
    ({"hello-world/hello-world": "uat"}, "true"),  # made by app-uat before it moved: import
])
def test_the_state_stack_adopts_the_repository_only_when_it_exists(ecr_with, repositories,
                                                                   adopt):
    deployment, seen = ecr_with(repositories)
    deployment.terraform("state-uat", "plan", "-input=false")
    deployment.terraform("state-uat", "show", "tfplan")  # no plan or apply: not asked
    deployment.terraform("app-uat", "plan", "-input=false")  # another stack: not asked
    assert seen == [adopt, None, None]


@pytest.mark.parametrize("repositories, message", [
    ({"hello-world/hello-world": "staging"},
     "state-uat: ECR repository hello-world/hello-world exists and belongs to environment "
     "'staging' (its Environment tag); run images from it with service.ecr_repository_owner = "
     "'staging' and ecr_repository = false in environments/uat.toml, or delete it"),
    ({"hello-world/hello-world": "AccessDeniedException"},
     "state-uat: cannot tell whether ECR repository hello-world/hello-world exists "
     "(AccessDeniedException); its plan needs ecr:DescribeRepositories and "
     "ecr:ListTagsForResource on it"),
])
def test_another_environments_repository_or_no_permission_is_one_line(ecr_with, repositories,
                                                                       message):
    deployment, seen = ecr_with(repositories)
    with pytest.raises(runner.TerraformError) as error:
        deployment.terraform("state-uat", "plan", "-input=false")
    assert str(error.value) == message and seen == []


def test_down_reads_the_other_environments_from_the_environment_files(monkeypatch, tmp_path,
                                                                      environments):
    """Without `environments`, down finds those that may run from this one's repository in
    environments/ (what `python -m ops down` does)."""
    uat = environments["uat"]
    (tmp_path / "stacks" / uat.stack_names["app"]).mkdir(parents=True)
    seen = []
    monkeypatch.setattr(deploy, "check_protections", lambda runner_, stacks, every, target, say:
                        seen.append(sorted(environment.name for environment in every)))
    monkeypatch.setattr(Runner, "destroy", lambda self, stack: runner.StackResult(
        stack, {"destroy": 0}, 0.0))
    assert deploy.down(uat, "aws", tmp_path, env={}) == 0
    assert seen == [["prod", "uat"]]


def test_a_process_keeps_one_client_per_service_and_credentials():
    """A release polls for minutes: a new session per poll would assume a profile's role (and
    ask for its MFA code) again each time."""
    from ops.aws import client

    env = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "ap-south-1",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    first = client("ecs", env)
    assert client("ecs", dict(env)) is first
    assert client("ecs", {**env, "AWS_SESSION_TOKEN": "t"}) is not first  # other credentials
    assert client("ecs", {**env, "AWS_REGION": "eu-west-1"}).meta.region_name == "eu-west-1"
    assert client("ecr", env) is not first
