"""deploy.yml, plan.yml and drift.yml, run job by job by the replay (tests/workflow_runner.py)
against the session's emulator, in the order a team meets them:

(a) an account where an administrator applied only the state stacks, with CI access on; a pull
    request (plan.yml comments its plans) is merged, and the push runs deploy.yml: uat, then
    prod once approved;
(b) a second pull request, merged: a new commit deployed;
(c) a pull request from a fork, and a drift.yml run.

The repository is a copy of this working tree as one commit, with environments/*.toml named for
this run (project, buckets, VPCs) and `[ci] github_repository` set; GitHub's variables are what
`python -m ops ci-vars` reads from the state stacks (github_variables). Each job gets
AWS credentials only from its OIDC role; GitHub's API is tests/fake_github.py; what the load
balancers serve is tests/fake_load_balancer.py (the jobs' HTTP_PROXY). One environment set for
the whole module, so Terraform runs stay few.

The emulator enforces IAM for the module (ops/emulator/iam: the roles' requests are evaluated
against their policies, the administrator's are not): each run records what IAM refused, and
a refusal a command survived still fails test_iam_refused_nothing. Where a run fails, the
assertion prints the job, the step and the tail of what the command printed.
"""

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from config import RELEASE_TAG_PREFIX, github_variable, load_environments
from fake_github import FakeGitHub
from fake_load_balancer import FakeLoadBalancers
from helpers import aws
from workflow_runner import Runner

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
RUN = uuid.uuid4().hex[:6]
REPOSITORY = "acme/hello-world"
# Its owner's and its own IDs: a repository made now has immutable OIDC subject claims
# (repo:owner@<id>/name@<id>:...), so the replay mints those and the roles trust them.
REPOSITORY_IDS = "81234567/912345678"
SUBJECT = "acme@81234567/hello-world@912345678"  # as GitHub names the repository in `sub`
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
# What the runner machine has: tools, and the emulator standing in for AWS's endpoints. No AWS
# credentials: a job has those only from its role. (BENCH_*: bench/tests.py counts the jobs'
# Terraform runs too.)
RUNNER_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "AWS_ENDPOINT_URL",
                    "AWS_EC2_METADATA_DISABLED", "TERRAFORM_LOG_DIR", "BENCH_TERRAFORM",
                    "BENCH_TERRAFORM_CPU")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=dev",
                           "-c", "user.email=dev@example.com", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def for_this_run(text: str, name: str, project: str) -> str:
    """An environment file named for `project` (this run's), with CI access for REPOSITORY."""
    text = f'project = "{project}"\n' + text
    text = re.sub(r'^(bucket|vpc_name) = "([^"]+)"', rf'\1 = "{project}-\2"', text,
                  flags=re.MULTILINE)
    provider = "create" if name == "uat" else "lookup"  # the account's one OIDC provider
    return text + (f'\n[ci]\ngithub_repository = "{REPOSITORY}"\n'
                   f'github_repository_ids = "{REPOSITORY_IDS}"\n'
                   f'oidc_provider = "{provider}"\n')


def refusals(denials: list) -> str:
    """One line per IAM refusal: action, resource, role."""
    return "\n".join(f"IAM refused {d['action']} on {d['resource']} to "
                     f"{d.get('role') or d['principal']}" for d in denials) or "nothing refused"


class Project:
    """The repository, its GitHub (fake API, variables, approvals) and the replay."""

    def __init__(self, repo: Path, work: Path, github: FakeGitHub, balancers: str, emulator):
        self.repo, self.github, self.emulator = repo, github, emulator
        machine = {k: os.environ[k] for k in RUNNER_VARIABLES if k in os.environ}
        machine.update(HTTP_PROXY=balancers, NO_PROXY="127.0.0.1,localhost")
        self.runner = Runner(
            repository_dir=repo, work=work, repository=REPOSITORY,
            repository_ids=REPOSITORY_IDS, tools=ROOT,
            base_env=machine, approve=self.approve, api_url=github.url, token=github.token)

    def approve(self, environment: str, job: str) -> bool:
        return True  # the reviewers approve prod's deployment (run.approvals records it)

    def replay(self, *args):
        """runner.run(*args), with what IAM refused during the run as run.denials."""
        before = len(self.emulator.denials())
        run = self.runner.run(*args)
        run.denials = self.emulator.denials()[before:]
        return run

    def push(self, sha: str, before: str):
        return self.replay("deploy.yml", "push",
                           {"ref": "refs/heads/main", "before": before, "after": sha,
                            "repository": {"full_name": REPOSITORY}}, sha, "refs/heads/main")

    def pull_request(self, number: int, sha: str, head_repository: str = REPOSITORY):
        payload = {"action": "synchronize", "number": number, "pull_request": {
            "number": number, "head": {"ref": "change", "sha": sha,
                                       "repo": {"full_name": head_repository}},
            "base": {"ref": "main", "repo": {"full_name": REPOSITORY}}}}
        return self.replay("plan.yml", "pull_request", payload, sha,
                           f"refs/pull/{number}/merge")

    def propose(self, branch: str, change, title: str):
        """A branch off main with `change(repo)` committed, its pull request and plan.yml's run
        on it: (number, commit, run)."""
        git(self.repo, "checkout", "-q", "-b", branch, "main")
        change(self.repo)
        sha = commit(self.repo, title)
        git(self.repo, "checkout", "-q", "main")
        number = self.github.open_pull_request(title, head_sha=sha)
        return number, sha, self.pull_request(number, sha)

    def merge(self, number: int, branch: str):
        """The pull request merged into main (fast-forward), and deploy.yml's run on the push."""
        before = git(self.repo, "rev-parse", "main")
        git(self.repo, "merge", "-q", "--ff-only", branch)
        sha = git(self.repo, "rev-parse", "main")
        self.github.merge(number, sha)
        self.commits.append(sha)
        return self.push(sha, before)

    def dispatch(self, workflow: str, sha: str):
        return self.replay(workflow, "workflow_dispatch",
                           {"ref": "refs/heads/main", "inputs": {}}, sha, "refs/heads/main")


@pytest.fixture(scope="module")
def enforcing(emulator, tmp_path_factory):
    """The session's emulator, enforcing IAM for this module (unless the whole session does,
    EMULATOR_ENFORCE_IAM=1)."""
    from ops.emulator.iam import enforce

    if enforce.current() is not None:
        yield emulator
        return
    enforce.enable(tmp_path_factory.mktemp("iam") / "denials.jsonl")
    try:
        yield emulator
    finally:
        enforce.disable()


@contextmanager
def started_project(emulator, folder: Path, project: str, environments_edit=None):
    """The repository's first commit (environments/*.toml for `project`, then edited by
    `environments_edit(folder)` if given), the state stacks an administrator applied and
    GitHub's variables: the Project. At exit, the OIDC provider is deleted (one per account)."""
    import main
    from ops.ci_access import github_variables
    from ops.core.runner import Runner as StackRunner

    repo = folder / "repo"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if name.split("/")[0] in (".venv", "node_modules") or not source.is_file():
            continue
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, repo / name)
    if environments_edit:
        environments_edit(repo / "environments")
    for path in sorted((repo / "environments").glob("*.toml")):
        path.write_text(for_this_run(path.read_text(), path.stem, project))
    git(folder, "init", "-q", "-b", "main", str(repo))
    first = commit(repo, "the project, with CI access")

    environments = {env.name: env for env in load_environments(repo / "environments")}
    main.synth(list(environments.values()), str(folder / "cdktf.out"))
    admin = {name: StackRunner(env, dict(os.environ), folder / "cdktf.out")
             for name, env in environments.items()}
    # uat's creates the account's OIDC provider, which the others look up: they start once it
    # exists, while uat's waits on its bucket's lifecycle configuration (~55 s).
    first, *others = sorted(admin, key=lambda name: name != "uat")
    with ThreadPoolExecutor(max_workers=len(admin)) as pool:
        applies = [pool.submit(admin[first].apply, environments[first].stack_names["state"])]
        while others and not applies[0].done() and not aws("iam").list_open_id_connect_providers(
                )["OpenIDConnectProviderList"]:
            time.sleep(1)
        applies += [pool.submit(admin[name].apply, environments[name].stack_names["state"])
                    for name in others]
        for applying in applies:
            applying.result()
    try:
        with FakeGitHub(REPOSITORY, token=f"ghs_{RUN}") as github, \
                FakeLoadBalancers(aws) as balancers:
            started = Project(repo, folder / "runs", github, balancers.url, emulator)
            for name, deployment in admin.items():
                owner = admin.get(deployment.environment.service.ecr_repository_owner or "")
                for variable, arn in github_variables(deployment, owner).items():
                    if variable == github_variable("deploy", name):  # the GitHub environment's
                        started.runner.environment_vars.setdefault(name, {})[variable] = arn
                    else:
                        started.runner.vars[variable] = arn
            started.commits = [first]
            started.environments, started.admin = environments, admin
            yield started
    finally:
        iam = aws("iam")
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])


@pytest.fixture(scope="module")
def project(enforcing, tmp_path_factory):
    with started_project(enforcing, tmp_path_factory.mktemp("workflows"), f"wf{RUN}") as started:
        yield started


def write(path: str, text: str):
    return lambda repo: (repo / path).write_text(text)


def scale_uat(repo: Path) -> None:
    uat = repo / "environments" / "uat.toml"
    uat.write_text(uat.read_text().replace("max_capacity = 3", "max_capacity = 4"))


@pytest.fixture(scope="module")
def first_pull_request(project):
    return project.propose("first", write("app/CHANGELOG", "first release\n"), "app: changelog")


@pytest.fixture(scope="module")
def first_merge(project, first_pull_request):
    """(a): the first merge to main."""
    return project.merge(first_pull_request[0], "first")


@pytest.fixture(scope="module")
def second_merge(project, first_merge):
    """(b): uat's scaling changed, planned on its pull request, merged."""
    number, _, _ = project.propose("scale", scale_uat, "uat: up to 4 tasks")
    return project.merge(number, "scale")


def deploy_jobs(run) -> list:
    return [job for job in run.jobs if job.id == "apply"]


def credential_steps(job) -> list:
    return [step for step in job.steps if step.uses.startswith(CREDENTIALS_ACTION)]


def test_the_matrix_is_what_ops_environments_lists(first_merge):
    environments = first_merge.job("environments")
    assert environments.conclusion == "success", first_merge.failure()
    matrix = json.loads(environments.outputs["matrix"])
    assert [entry["name"] for entry in matrix["include"]] == ["uat", "prod"]
    # One job per entry, in that order, as far as the run got (a skipped job is one job).
    ran = [job.matrix["name"] for job in deploy_jobs(first_merge) if job.matrix]
    assert ran == ["uat", "prod"][:len(ran)]


def test_each_job_gets_credentials_only_from_its_role_with_githubs_subject(project, first_merge):
    image = first_merge.job("image")
    assert image.oidc_subjects == [f"repo:{SUBJECT}:ref:refs/heads/main"]
    assert [step.outcome for step in credential_steps(image)] == ["success"], image.failure()
    for job in (job for job in first_merge.jobs if job.id == "plan"):
        assert job.oidc_subjects == [f"repo:{SUBJECT}:ref:refs/heads/main"], job.failure()
    for job in deploy_jobs(first_merge):
        if job.steps:  # it ran: it assumed the deploy role of its own GitHub environment
            assert job.oidc_subjects == [
                f"repo:{SUBJECT}:environment:{job.matrix['name']}"], job.failure()


def test_prod_is_asked_for_approval_only_after_uat_deployed(project, first_merge):
    asked = [environment for environment, _, _ in first_merge.approvals]
    assert asked in ([], ["uat"], ["uat", "prod"])
    if "prod" in asked:
        assert first_merge.job("apply (uat)").conclusion == "success"
    else:  # a failure stops the environments after it, before anyone is asked
        assert first_merge.conclusion == "failure"


def test_the_first_merge_deploys_uat_then_prod(project, first_merge):
    assert first_merge.conclusion == "success", first_merge.failure()
    assert [(job.name, job.conclusion) for job in first_merge.jobs] == [
        ("environments", "success"), ("image", "success"), ("plan (uat)", "success"),
        ("plan (prod)", "success"), ("apply (uat)", "success"), ("apply (prod)", "success")]
    assert first_merge.approvals == [("uat", "apply (uat)", True),
                                     ("prod", "apply (prod)", True)]


def test_a_second_merge_deploys_its_commit(project, second_merge):
    assert second_merge.conclusion == "success", second_merge.failure()
    repository = project.environments["uat"].names.repository
    tags = {tag for image in aws("ecr").describe_images(repositoryName=repository)[
        "imageDetails"] for tag in image.get("imageTags", [])}
    assert set(project.commits[1:]) <= tags  # every merge; the first commit never was
    # each release tagged what it rolled out, for the lifecycle policy to keep
    assert {tag.rsplit("-", 1)[0] for tag in tags if tag.startswith(RELEASE_TAG_PREFIX)} == {
        f"{RELEASE_TAG_PREFIX}uat", f"{RELEASE_TAG_PREFIX}prod"}


def test_a_pull_request_gets_one_plan_comment_per_environment(project, first_pull_request):
    number, _, run = first_pull_request
    assert run.conclusion == "success", run.failure()
    plans = [job for job in run.jobs if job.id == "plan"]
    assert [job.oidc_subjects for job in plans] == [[f"repo:{SUBJECT}:pull_request"]] * 2
    markers = sorted(body.splitlines()[0] for body in project.github.comments(number))
    assert markers == ["<!-- ops.plan:prod -->", "<!-- ops.plan:uat -->"]
    uat = next(body for body in project.github.comments(number) if "ops.plan:uat" in body)
    assert "app-uat" in uat
    for job in plans:  # what the job page shows is what the comment says
        assert job.summary.strip() in {body.strip() for body in
                                       project.github.comments(number)}


@pytest.fixture(scope="module")
def fork_pull_request(project, second_merge):
    number = project.github.open_pull_request("from a fork", head_sha=project.commits[-1])
    return project.pull_request(number, project.commits[-1], head_repository="someone/fork")


def test_a_pull_request_from_a_fork_gets_a_skipped_plan_not_a_failure(fork_pull_request):
    assert fork_pull_request.conclusion == "success", fork_pull_request.failure()


@pytest.fixture(scope="module")
def drift(project, second_merge):
    return project.dispatch("drift.yml", project.commits[-1])


def test_a_drift_run_keeps_at_most_one_issue_per_environment(project, drift):
    assert drift.conclusion == "success", drift.failure()
    jobs = [job for job in drift.jobs if job.id == "drift"]
    assert [job.oidc_subjects for job in jobs] == [[f"repo:{SUBJECT}:ref:refs/heads/main"]] * 2
    titles = [issue["title"] for issue in project.github.open_issues()]
    assert len(titles) == len(set(titles)) and set(titles) <= {"Drift in uat", "Drift in prod"}


def test_after_the_merges_nothing_has_drifted(project, drift):
    assert project.github.open_issues() == [], "\n\n".join(
        issue["body"] for issue in project.github.open_issues())


@pytest.mark.parametrize("name", ["first_pull_request", "first_merge", "second_merge",
                                  "fork_pull_request", "drift"])
def test_iam_refused_nothing(request, name):
    """Every request a job made as its role was one its policies allow, even where the command
    went on (a refused read it tolerated is a permission missing on AWS too)."""
    run = request.getfixturevalue(name)
    run = run[2] if isinstance(run, tuple) else run
    assert run.denials == [], refusals(run.denials)
