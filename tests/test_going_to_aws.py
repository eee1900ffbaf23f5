"""docs/going-to-aws.md: every command in its sh blocks is tested, and its branch protection
names the checks the workflows make.

Each command line is one of:
- run by the workflows: it matches a `run:` line of .github/workflows once the workflow's
  `$VARIABLES` stand for any value (the workflow replay, tests/test_workflow_runs_e2e.py, runs
  those under the CI roles);
- run as written against the emulator by tests/test_going_to_aws_e2e.py (RUN_BY_E2E);
- a `python -m ops <command>` line that ops/cli.py's parser accepts (parsed, not run), with
  `--env` / `--stack` / `--from` / `--to` naming environments and stacks that exist;
- a cdktf CLI line whose flags the pinned CLI's `--help` for that command lists, naming
  synthesized stacks (the CLI has no parse-only mode);
- a `gh` or `aws` CLI line of a form in GH_FORMS / AWS_FORMS (syntax only: they act on GitHub
  and AWS themselves), naming workflows, inputs and variables that exist.
A line in none of these fails, named."""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import io
import os
import re
import shlex
import subprocess
from pathlib import Path
from unittest import mock

import pytest
import yaml

from config import load_environments

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "going-to-aws.md"
WORKFLOWS = ROOT / ".github" / "workflows"
ENVIRONMENTS = {env.name: env for env in load_environments(ROOT / "environments")}

# Run as written, in this order, by tests/test_going_to_aws_e2e.py (LOCK_ID: the lock's ID).
RUN_BY_E2E = [
    ".venv/bin/python -m ops up --env uat --stack state-uat --target aws",
    ".venv/bin/python -m ops ci-vars --env uat --target aws",
    "npm run cdktf -- synth",
    "terraform -chdir=cdktf.out/stacks/app-uat init",
    "terraform -chdir=cdktf.out/stacks/app-uat force-unlock -force LOCK_ID",
    ".venv/bin/python -m ops down --env uat --target aws",
    "echo '{\"terraform\": {\"backend\": {\"local\": {\"path\": \"teardown.tfstate\"}}}}' > "
    "cdktf.out/stacks/state-uat/teardown_override.tf.json",
    "terraform -chdir=cdktf.out/stacks/state-uat init -migrate-state -force-copy",
    "echo '{\"resource\": {\"aws_s3_bucket\": {\"state_bucket\": {\"force_destroy\": true, "
    "\"lifecycle\": {\"prevent_destroy\": false}}}}}' > "
    "cdktf.out/stacks/state-uat/unprotect_override.tf.json",
    "terraform -chdir=cdktf.out/stacks/state-uat apply -auto-approve",
    "terraform -chdir=cdktf.out/stacks/state-uat destroy -auto-approve",
    "rm cdktf.out/stacks/state-uat/teardown_override.tf.json "
    "cdktf.out/stacks/state-uat/unprotect_override.tf.json",
]

# The gh and aws CLI forms the page may use (GitHub CLI manual; AWS CLI reference).
GH_FORMS = [
    r"gh variable set (?P<variable>[A-Z0-9_]+)( --env (?P<env>[a-z0-9-]+))? --body \S+",
    r"gh api --method PUT repos/\{owner\}/\{repo\}/environments/(?P<env>[a-z0-9-]+)",
    r'gh api repos/\{owner\}/\{repo\} --jq "\\\(\.owner\.id\)/\\\(\.id\)"',  # (shlex-split)
    r"gh workflow (run|disable|enable) (?P<workflow>[a-z]+\.yml)( -f (?P<input>[a-z_]+)=\S+)?",
]
AWS_FORMS = [
    r"aws s3api head-bucket --bucket [a-z0-9.-]+",
    r"aws s3 cp s3://[a-z0-9.-]+/\S+ -",
    r"aws s3 sync s3://[A-Za-z0-9.-]+ \S+",
    r"aws s3 rm s3://[A-Za-z0-9.-]+ --recursive",
    r"aws ecr batch-delete-image --repository-name \S+ --image-ids imageDigest=sha256:\S+",
]


def sh_commands(text: str) -> list[str]:
    """Each command line of the text's ```sh blocks, without its trailing comment."""
    lines = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


COMMANDS = sh_commands(PAGE.read_text())


def workflows() -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(WORKFLOWS.glob("*.yml"))}


def workflow_run_lines() -> list[list[str]]:
    """Every command line of every `run:` step, as tokens."""
    found = []
    for workflow in workflows().values():
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                for line in step.get("run", "").splitlines():
                    if line.strip():
                        found.append(shlex.split(line))
    return found


def without_assignments(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    """Leading NAME=value words (the environment of the command), and the rest."""
    env = {}
    while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]):
        name, value = tokens[0].split("=", 1)
        env[name] = value
        tokens = tokens[1:]
    return env, tokens


VARIABLE = r"\$\{?[A-Z_][A-Z0-9_]*\}?"  # a shell variable in a workflow's command


def run_by_workflows(tokens: list[str]) -> bool:
    for line in workflow_run_lines():
        if len(line) == len(tokens) and all(
                re.fullmatch(".+".join(map(re.escape, re.split(VARIABLE, pattern))), token)
                for pattern, token in zip(line, tokens)):
            return True
    return False


class _Parsed(Exception):
    pass


def parsed(module: str, argv: list[str], env: dict[str, str]) -> argparse.Namespace | str:
    """What `python -m ops.<module> argv` parses to, without running it; or argparse's error."""
    tool = importlib.import_module(f"ops.{module}")
    parse_args = argparse.ArgumentParser.parse_args

    def parse_only(self, args=None, namespace=None):
        raise _Parsed(parse_args(self, args, namespace))

    errors = io.StringIO()
    with mock.patch.object(argparse.ArgumentParser, "parse_args", parse_only), \
            mock.patch.dict(os.environ, env), contextlib.redirect_stderr(errors):
        try:
            tool.main(argv)
        except _Parsed as done:
            return done.args[0]
        except SystemExit:
            return errors.getvalue().strip() or "exited while parsing"
    return "main() returned without parsing its arguments"


def ops_problem(tokens: list[str], env: dict[str, str]) -> str | None:
    """None when `python -m ops <command> ...` (or the emulator's `python -m ops.emulator`)
    parses and names what exists; else why not."""
    module, argv = tokens[2], tokens[3:]
    if module == "ops":
        from ops.cli import parse
        from ops.errors import BadInput

        try:
            with mock.patch.dict(os.environ, env):
                args = parse(argv)
        except BadInput as error:
            return str(error)
    elif module == "ops.emulator":
        args = parsed("emulator", argv, env)
    else:
        return f"{module}: not the command line (python -m ops <command>)"
    if isinstance(args, str):
        return args
    for name in ("env", "source", "to"):
        for value in (getattr(args, name, None) or "").split(","):
            if value and value not in ENVIRONMENTS:
                return f"{value}: no environments/{value}.toml"
    for stack in getattr(args, "stack", None) or []:
        if stack not in ENVIRONMENTS[args.env].stack_names.values():
            return f"--stack {stack}: not a stack of {args.env}"
    return None


@functools.cache
def cdktf_options(command: str) -> frozenset[str]:
    result = subprocess.run([str(ROOT / "node_modules" / ".bin" / "cdktf"), command, "--help"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env=dict(os.environ, CHECKPOINT_DISABLE="1"))
    assert result.returncode == 0 and "Options:" in result.stdout, result.stdout + result.stderr
    return frozenset(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", result.stdout, re.M))


def cdktf_problem(argv: list[str]) -> str | None:
    command, rest = argv[0], argv[1:]
    if command not in ("synth", "deploy", "diff", "destroy", "output", "list"):
        return f"cdktf {command}: not a command this project uses"
    options = cdktf_options(command)
    stacks = {stack for env in ENVIRONMENTS.values() for stack in env.stack_names.values()}
    for word in rest:
        if word.startswith("-") and word not in options:
            return f"cdktf {command}: no option {word}"
        if not word.startswith("-") and word not in stacks:
            return f"cdktf {command}: no stack {word}"
        if word.startswith("state-"):
            return f"cdktf {command} {word}: the state stacks are ops.deploy's bootstrap"
    return None


def cli_problem(line: str) -> str | None:
    """None when a gh / aws line has an allowed form naming what exists; else why not."""
    forms = GH_FORMS if line.startswith("gh ") else AWS_FORMS
    match = next(filter(None, (re.fullmatch(form, line) for form in forms)), None)
    if match is None:
        return "not one of the allowed gh/aws forms"
    found = match.groupdict()
    if found.get("env") and found["env"] not in ENVIRONMENTS:
        return f"{found['env']}: no such environment"
    if found.get("workflow"):
        workflow = workflows().get(found["workflow"])
        if workflow is None:
            return f"{found['workflow']}: no such workflow"
        inputs = (workflow[True].get("workflow_dispatch") or {}).get("inputs") or {}
        if found.get("input") and found["input"] not in inputs:
            return f"{found['workflow']}: no input {found['input']}"
    if found.get("variable"):
        expected = github_variables()
        where = expected.get(found["variable"])
        if where is None:
            return f"{found['variable']}: no workflow reads it"
        if where != ("environment" if found.get("env") else "repository"):
            return f"{found['variable']}: a variable of the {where}, not of the " + (
                "environment" if found.get("env") else "repository")
    return None


def github_variables() -> dict[str, str]:
    """Variable name -> "repository" or "environment", as the workflows read them: a variable
    read only by jobs that run in a GitHub environment is that environment's."""
    scopes: dict[str, set[str]] = {}
    for workflow in workflows().values():
        for job in workflow["jobs"].values():
            text = yaml.safe_dump(job)
            names = set(re.findall(r"vars\.([A-Z0-9_]+)", text))
            if "vars[matrix.plan_role_variable]" in text:
                names |= {f"AWS_PLAN_ROLE_ARN_{name.upper()}" for name in ENVIRONMENTS}
            for name in names:
                scopes.setdefault(name, set()).add(
                    "environment" if "environment" in job else "repository")
    return {name: "environment" if found == {"environment"} else "repository"
            for name, found in scopes.items()}


def problem(line: str) -> str | None:
    """None when the page's command is tested (module docstring); else why it is not."""
    if line in RUN_BY_E2E:
        return None
    inner = re.fullmatch(r"env \$\((.+?)\) (.+)", line)
    if inner:
        return problem(inner.group(1)) or problem(inner.group(2))
    env, tokens = without_assignments(shlex.split(line))
    if not tokens:
        return "no command"
    if run_by_workflows(tokens):
        return None
    if tokens[0] in ("gh", "aws"):
        return cli_problem(" ".join(tokens))
    if tokens[:2] in ([".venv/bin/python", "-m"], ["python", "-m"]):
        return ops_problem(tokens, env)
    if tokens[:4] == ["npm", "run", "cdktf", "--"]:
        return cdktf_problem(tokens[4:])
    if tokens[:2] == ["npx", "cdktf"]:
        if env.get("CHECKPOINT_DISABLE") != "1":
            return "npx cdktf without CHECKPOINT_DISABLE=1 calls HashiCorp's telemetry"
        return cdktf_problem(tokens[2:])
    return "neither run by the workflows, by the e2e test, parsed, nor an allowed gh/aws form"


def test_the_page_has_commands_and_every_e2e_command_is_on_it():
    assert len(COMMANDS) > 20
    assert [line for line in RUN_BY_E2E if line not in COMMANDS] == []


@pytest.mark.parametrize("line", COMMANDS)
def test_every_command_on_the_page_is_tested(line):
    assert problem(line) is None, f"{line}: {problem(line)}"


@pytest.mark.parametrize("line, why", [
    ("terraform -chdir=cdktf.out/stacks/app-uat apply", "neither run by"),
    (".venv/bin/python -m ops up --env staging", "no environments/staging.toml"),
    (".venv/bin/python -m ops up --env uat --stack app-prod", "not a stack of uat"),
    (".venv/bin/python -m ops sideways --env uat", "invalid choice"),
    (".venv/bin/python -m ops.deploy up --env uat", "not the command line"),
    (".venv/bin/python -m ops plan --env uat,prod", "acts on one environment"),
    (".venv/bin/python -m ops plan --env uat --out plans/uat --frobnicate", "unrecognized"),
    (".venv/bin/python -m ops promote --from uat", "--to"),
    (".venv/bin/python -m ops apply --env uat --plans plans/uat --ci --summary x --bogus y",
     "unrecognized"),
    ("npm run cdktf -- deploy network-uat --yes", "no option --yes"),
    ("npm run cdktf -- deploy state-uat --auto-approve", "ops.deploy's bootstrap"),
    ("npx cdktf deploy network-uat app-uat --auto-approve", "telemetry"),
    ("gh variable set AWS_DEPLOY_ROLE_ARN --body arn", "of the environment, not"),
    ("gh variable set AWS_IMAGE_ROLE_ARN --env uat --body arn", "of the repository, not"),
    ("gh variable set AWS_ROLE --body arn", "no workflow reads it"),
    ("gh workflow run deploy.yml -f apply=true", "no input apply"),
    ("aws s3 rb s3://hello-world-uat-tfstate --force", "allowed gh/aws forms"),
])
def test_an_untested_or_wrong_command_is_named(line, why):
    assert why in (problem(line) or "")


def test_workflow_lines_match_with_their_variables_standing_for_values():
    assert problem(".venv/bin/python -m ops smoke --env prod --expect 'version abc'") is None
    assert run_by_workflows(shlex.split(".venv/bin/python -m ops plan --env uat --out plans/uat "
                                        "--summary summary.md"))
    assert not run_by_workflows(shlex.split(".venv/bin/python -m ops plan --env uat"))


def required_checks() -> list[str]:
    """The check names the pull-request workflows' jobs report, as GitHub names them (the job's
    `name:`, a matrix job once per environment), but for the listing job the others need (a
    failed listing leaves their checks unreported, which blocks the merge anyway)."""
    names = []
    for workflow in workflows().values():
        if "pull_request" not in workflow[True]:
            continue
        for job_id, job in workflow["jobs"].items():
            if job_id == "environments":
                continue
            name = job.get("name", job_id)
            if "${{ matrix.name }}" in name:
                names += [name.replace("${{ matrix.name }}", env) for env in ENVIRONMENTS]
            else:
                assert "${{" not in name, name
                names.append(name)
    return names


def test_branch_protection_names_the_checks_the_workflows_report():
    section = re.search(r"^## 6\. Branch protection.*?(?=^## )", PAGE.read_text(), re.S | re.M)
    listed = re.findall(r"^- `([^`]+)`$", section.group(0), re.M)
    assert sorted(listed) == sorted(required_checks())
    assert "plan (uat)" in listed and "plan (prod)" in listed


def test_the_variables_the_page_sets_are_every_one_the_workflows_read():
    set_on_page = {(match.group("variable"), match.group("env"))
                   for line in COMMANDS for match in [re.fullmatch(GH_FORMS[0], line)] if match}
    expected = {(name, env) for name, where in github_variables().items()
                for env in (ENVIRONMENTS if where == "environment" else [None])}
    assert set_on_page == expected


def test_the_readme_links_the_page():
    assert "docs/going-to-aws.md" in (ROOT / "README.md").read_text()
