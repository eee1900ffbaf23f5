"""The workflow replay (tests/workflow_runner.py) on tiny inline workflows: expressions, needs
order, matrix, outputs and the GITHUB_* files, if:/continue-on-error/fail-fast, environments'
approval, timeouts, shells, checkout, artifacts, composite actions, the OIDC subject, refusals."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import workflow_runner
from fake_github import FakeGitHub
from workflow_expressions import Evaluator, ExpressionError, condition, interpolate
from workflow_runner import Runner, Unsupported, expand_matrix, read_commands_file

ROOT = Path(__file__).resolve().parent.parent
REPO = "acme/app"


def evaluate(text, **contexts):
    return Evaluator(contexts, status=lambda name: name in ("success", "always")).evaluate(text)


@pytest.mark.parametrize("text, expected", [
    ("1 == '1'", True), ("'ABC' == 'abc'", True), ("null == 0", True), ("true == 1", True),
    ("'' == 0", True), ("'x' == 0", False), ("'a' != 'b'", True), ("2 > 10", False),
    ("'b' > 'A'", True), ("null && 'x'", None), ("'' || 'fallback'", "fallback"),
    ("'a' && 'b'", "b"), ("!''", True), ("!('a' == 'a')", False),
    ("format('plans/{0}/{1}.md', 'uat', 3)", "plans/uat/3.md"),
    ("format('{{x}} {0}', 'y')", "{x} y"),
    ("fromJSON('{\"include\":[{\"name\":\"uat\"}]}').include[0].name", "uat"),
    ("fromJSON('3') == 3", True), ("contains('Hello', 'ELL')", True),
    ("contains(fromJSON('[\"a\",\"b\"]'), 'B')", True), ("startsWith('refs/heads/x', 'refs/')",
                                                         True),
    ("endsWith('abc', 'bc')", True), ("join(fromJSON('[1,2]'), '-')", "1-2"),
    ("toJSON('x')", '"x"'), ("0x10 == 16", True),
])
def test_expressions_follow_githubs_rules(text, expected):
    assert evaluate(text) == expected


def test_contexts_are_read_case_insensitively_and_absent_properties_are_null():
    contexts = {"matrix": {"promote_from": "", "Name": "uat"},
                "vars": {"AWS_PLAN_ROLE_ARN_UAT": "arn"}, "steps": {}}
    assert evaluate("matrix.name", **contexts) == "uat"
    assert evaluate("vars[format('AWS_PLAN_ROLE_ARN_{0}', 'UAT')]", **contexts) == "arn"
    assert evaluate("steps.plan.outputs.exit-code == '1'", **contexts) is False
    assert evaluate("matrix.promote_from == ''", **contexts) is True


@pytest.mark.parametrize("text, message", [
    ("unknown.x", "unknown context 'unknown'"), ("fancy(1)", "fancy() is not implemented"),
    ("matrix.*.name", "object filter"), ("'a' = 'b'", "cannot read"), ("(1", "expected )"),
])
def test_what_it_does_not_implement_is_refused(text, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("*", r"\*")):
        evaluate(text, matrix={})


def test_if_adds_success_unless_a_status_function_is_called():
    failed = Evaluator({"x": "1"}, status=lambda name: name in ("failure", "always"))
    assert condition("x == '1'", failed) is False  # success() && ...
    assert condition("${{ always() && x == '1' }}", failed) is True
    assert condition("failure()", failed) is True
    assert condition(None, failed) is False


def test_interpolation_keeps_the_type_of_a_lone_expression():
    evaluator = Evaluator({"needs": {"e": {"outputs": {"m": '{"include":[{"a":1}]}'}}}})
    assert interpolate("${{ fromJSON(needs.e.outputs.m) }}", evaluator) == {"include": [{"a": 1}]}
    assert interpolate("x-${{ 1 == 1 }}-${{ null }}", evaluator) == "x-true-"


def test_matrix_include_and_exclude():
    assert expand_matrix({"include": [{"name": "uat"}, {"name": "prod"}]}) == [
        {"name": "uat"}, {"name": "prod"}]
    assert expand_matrix({"os": ["a", "b"], "v": [1, 2], "exclude": [{"os": "b", "v": 2}],
                          "include": [{"os": "a", "extra": "x"}, {"os": "c"}]}) == [
        {"os": "a", "v": 1, "extra": "x"}, {"os": "a", "v": 2, "extra": "x"},
        {"os": "b", "v": 1}, {"os": "c"}]
    with pytest.raises(Unsupported):
        expand_matrix({"include": []})


def test_github_output_reads_heredoc_blocks(tmp_path):
    path = tmp_path / "out"
    path.write_text("a=1\nbody<<EOF_X\nline one\nline=two\nEOF_X\nb=x=y\n")
    assert read_commands_file(path) == {"a": "1", "body": "line one\nline=two", "b": "x=y"}
    path.write_text("body<<EOF\nnever closed\n")
    with pytest.raises(workflow_runner.StepFailed, match="no closing delimiter"):
        read_commands_file(path)


# -- whole runs of tiny workflows -------------------------------------------------------------

def repository(tmp_path, workflow: str, files: dict | None = None) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "w.yml").write_text(textwrap.dedent(workflow))
    for name, text in (files or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(textwrap.dedent(text))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    sha = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                         text=True).stdout.strip()
    return repo, sha


def runner(tmp_path, repo, **options) -> Runner:
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    options.setdefault("tools", ROOT)
    return Runner(repository_dir=repo, work=tmp_path / "work", base_env=base, repository=REPO,
                  **options)


def one_job(steps: str, job: str = "") -> str:
    """A workflow run on push with one job, "one", of these steps (and job keys `job`)."""
    head = "on: push\njobs:\n  one:\n    runs-on: x\n" + (f"    {job}\n" if job else "")
    return head + "    steps:\n" + textwrap.indent(textwrap.dedent(steps), " " * 6)


def push(tmp_path, workflow, files=None, **options):
    repo, sha = repository(tmp_path, workflow, files)
    return runner(tmp_path, repo, **options).run("w.yml", "push", {}, sha, "refs/heads/main")


def test_jobs_run_in_needs_order_with_a_matrix_from_an_output(tmp_path):
    run = push(tmp_path, """
        on: push
        env:
          GREETING: hello ${{ github.repository }}
        jobs:
          last:
            needs: [list, middle]
            runs-on: x
            steps:
              - run: echo "$GREETING ${{ needs.middle.outputs.word }}" >> "$GITHUB_STEP_SUMMARY"
          middle:
            name: middle (${{ matrix.name }})
            needs: list
            runs-on: x
            strategy:
              max-parallel: 1
              matrix: ${{ fromJSON(needs.list.outputs.matrix) }}
            outputs:
              word: ${{ steps.say.outputs.word }}
            env:
              NAME: ${{ matrix.name }}
            steps:
              - id: say
                run: |
                  echo "word=$NAME-${{ matrix.region }}" >> "$GITHUB_OUTPUT"
                  echo "$GITHUB_EVENT_NAME $GITHUB_REF $GITHUB_SHA" > "$RUNNER_TEMP/seen"
                  cat "$RUNNER_TEMP/seen"
          list:
            runs-on: x
            outputs:
              matrix: ${{ steps.m.outputs.matrix }}
            steps:
              - id: m
                run: |
                  {
                    echo 'matrix<<JSON'
                    echo '{"include":[{"name":"uat","region":"r1"},{"name":"prod","region":"r2"}]}'
                    echo 'JSON'
                  } >> "$GITHUB_OUTPUT"
        """)
    assert run.conclusion == "success", run.failure()
    assert [job.name for job in run.jobs] == ["list", "middle (uat)", "middle (prod)", "last"]
    assert run.job("middle (uat)").steps[0].stdout.startswith("push refs/heads/main ")
    assert run.job("last").summary == "hello acme/app prod-r2\n"


def test_env_path_and_if_conditions_between_steps(tmp_path):
    run = push(tmp_path, one_job("""
            - run: |
                echo "FROM_STEP=set" >> "$GITHUB_ENV"
                mkdir -p "$RUNNER_TEMP/tools"
                printf '#!/bin/sh\\necho tool ran\\n' > "$RUNNER_TEMP/tools/mytool"
                chmod +x "$RUNNER_TEMP/tools/mytool"
                echo "$RUNNER_TEMP/tools" >> "$GITHUB_PATH"
            - name: reads them
              run: test "$FROM_STEP" = set && test "${{ env.FROM_STEP }}" = set && mytool
            - name: allowed to fail
              id: soft
              continue-on-error: true
              run: exit 3
            - name: after a soft failure
              if: steps.soft.outcome == 'failure' && steps.soft.conclusion == 'success'
              run: echo ok
            - name: fails
              run: exit 4
            - name: skipped after a failure
              run: echo never
            - name: on failure
              if: failure()
              run: echo cleanup
            - name: hashFiles sees no such file
              if: always() && hashFiles('nothing/*.md') == ''
              run: echo none
        """))
    steps = {step.name: step for step in run.job("one").steps}
    assert steps["reads them"].stdout == "tool ran\n"
    assert (steps["allowed to fail"].outcome, steps["allowed to fail"].conclusion) == (
        "failure", "success")
    assert steps["after a soft failure"].outcome == "success"
    assert steps["fails"].exit_code == 4
    assert steps["skipped after a failure"].outcome == "skipped"
    assert steps["on failure"].stdout == "cleanup\n"
    assert steps["hashFiles sees no such file"].outcome == "success"
    assert run.conclusion == "failure"
    assert "job 'one', step 'fails': exit 4" in run.failure()


def test_a_failed_need_skips_the_job_and_fail_fast_cancels_the_rest(tmp_path):
    run = push(tmp_path, """
        on: push
        jobs:
          each:
            runs-on: x
            strategy:
              max-parallel: 1
              matrix:
                n: [1, 2, 3]
            steps:
              - run: test "${{ matrix.n }}" != 2
          after:
            needs: each
            runs-on: x
            steps:
              - run: echo never
          report:
            needs: each
            if: always() && needs.each.result == 'failure'
            runs-on: x
            steps:
              - run: echo reported
        """)
    assert [(job.name, job.conclusion) for job in run.jobs] == [
        ("each (1)", "success"), ("each (2)", "failure"), ("each (3)", "cancelled"),
        ("after", "skipped"), ("report", "success")]


def test_ready_jobs_and_matrix_entries_run_side_by_side_up_to_max_parallel(tmp_path):
    """As on GitHub: jobs whose needs are done run at the same time, and a matrix's entries
    too, at most max-parallel at once, started in order. The image job and the first two plan
    entries each wait (10 s at most) until the other two have started: run one after another,
    they would fail."""
    marks = tmp_path / "marks"
    marks.mkdir()
    wait_for = "for i in $(seq 100); do {test} && break; sleep 0.1; done; {test} || exit 1"
    run = push(tmp_path, f"""
        on: push
        jobs:
          image:
            runs-on: x
            steps:
              - run: |
                  echo start $(date +%s.%N) > {marks}/image
                  {wait_for.format(test=f"[ -f {marks}/plan1 ] && [ -f {marks}/plan2 ]")}
                  echo end $(date +%s.%N) >> {marks}/image
          plan:
            runs-on: x
            strategy:
              max-parallel: 2
              matrix:
                n: [1, 2, 3]
            steps:
              - run: |
                  echo start $(date +%s.%N) > {marks}/plan${{{{ matrix.n }}}}
                  if [ ${{{{ matrix.n }}}} != 3 ]; then
                    {wait_for.format(test=f"[ -f {marks}/image ]")}
                  fi
                  sleep 0.2
                  echo end $(date +%s.%N) >> {marks}/plan${{{{ matrix.n }}}}
          apply:
            needs: [image, plan]
            runs-on: x
            steps:
              - run: echo start $(date +%s.%N) > {marks}/apply
        """)
    assert run.conclusion == "success", run.failure()
    assert [job.name for job in run.jobs] == ["image", "plan (1)", "plan (2)", "plan (3)",
                                              "apply"]
    times = {path.name: [float(line.split()[1]) for line in path.read_text().splitlines()]
             for path in marks.iterdir()}
    assert times["plan3"][0] >= min(times["plan1"][1], times["plan2"][1])  # max-parallel 2
    assert times["apply"][0] >= max(times[name][1] for name in ("image", "plan1", "plan2",
                                                                "plan3"))


def test_a_job_in_an_environment_runs_only_when_approved(tmp_path):
    workflow = """
        on: push
        jobs:
          deploy:
            name: deploy (${{ matrix.name }})
            runs-on: x
            environment: ${{ matrix.name }}
            strategy:
              max-parallel: 1
              matrix:
                name: [uat, prod]
            steps:
              - run: test "${{ vars.ROLE }} ${{ vars.SHARED }}" = "role-${{ matrix.name }} s"
        """
    variables = {"vars": {"ROLE": "repository-level", "SHARED": "s"},
                 "environment_vars": {"uat": {"ROLE": "role-uat"}, "prod": {"ROLE": "role-prod"}}}
    run = push(tmp_path / "a", workflow, approve=lambda environment, job: environment == "uat",
               **variables)
    assert run.approvals == [("uat", "deploy (uat)", True), ("prod", "deploy (prod)", False)]
    assert run.job("deploy (uat)").conclusion == "success"
    prod = run.job("deploy (prod)")
    assert (prod.conclusion, prod.steps, prod.environment) == ("failure", [], "prod")
    assert "not approved" in prod.failure()
    everything = push(tmp_path / "b", workflow, approve=lambda environment, job: True,
                      **variables)
    assert everything.conclusion == "success", everything.failure()


def test_timeouts_and_shells_as_on_github(tmp_path):
    run = push(tmp_path, """
        on: push
        jobs:
          one:
            runs-on: x
            steps:
              - name: default shell, no pipefail
                run: false | true
              - name: bash has pipefail
                shell: bash
                continue-on-error: true
                run: false | true
              - name: python
                shell: python
                run: print("from python")
              - name: too slow
                timeout-minutes: 1
                run: sleep 30
          two:
            runs-on: x
            defaults:
              run:
                shell: bash
                working-directory: sub
            steps:
              - run: mkdir -p sub
                working-directory: .
              - run: false | true
        """, timeout_scale=0.02)  # one minute -> 1.2 s
    steps = {step.name: step for step in run.job("one").steps}
    assert steps["default shell, no pipefail"].outcome == "success"
    assert steps["bash has pipefail"].outcome == "failure"
    assert steps["python"].stdout == "from python\n"
    assert steps["too slow"].outcome == "failure" and "timed out" in steps["too slow"].stderr
    assert steps["too slow"].seconds < 10
    assert run.job("two").steps[1].outcome == "failure"


def test_checkout_gives_each_job_the_commit_and_artifacts_carry_files(tmp_path):
    repo, sha = repository(tmp_path, """
        on: push
        jobs:
          make:
            runs-on: x
            steps:
              - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567
                with:
                  persist-credentials: false
              - run: |
                  test "$(cat tracked.txt)" = committed
                  test -e .venv/bin/python && test "$(git rev-parse HEAD)" = "$GITHUB_SHA"
                  mkdir -p plans/uat && echo plan > plans/uat/summary.md && echo x > leftover
              - uses: actions/upload-artifact@v4
                with:
                  name: plans-uat
                  path: plans/uat
          use:
            needs: make
            runs-on: x
            steps:
              - uses: actions/checkout@v4
              - uses: actions/download-artifact@v4
                with:
                  name: plans-uat
                  path: plans/uat
              - run: test ! -e leftover && test "$(cat plans/uat/summary.md)" = plan
        """, {"tracked.txt": "committed\n"})
    (repo / "tracked.txt").write_text("not committed\n")
    run = runner(tmp_path, repo).run("w.yml", "push", {}, sha, "refs/heads/main")
    assert run.conclusion == "success", run.failure()


def test_a_composite_action_runs_its_steps_with_inputs(tmp_path):
    run = push(tmp_path, one_job("""
            - uses: actions/checkout@v4
            - uses: ./.github/actions/greet
              with:
                who: world
            - run: test "$GREETED" = world
        """), {".github/actions/greet/action.yml": """
        name: greet
        inputs:
          who:
            required: true
          punctuation:
            default: "!"
        runs:
          using: composite
          steps:
            - uses: actions/setup-python@v5
              with:
                python-version: "3.11"
            - shell: bash
              run: |
                echo "hello ${{ inputs.who }}${{ inputs.punctuation }}"
                echo "GREETED=${{ inputs.who }}" >> "$GITHUB_ENV"
        """})
    assert run.conclusion == "success", run.failure()
    assert "hello world!" in run.job("one").steps[1].stdout


def test_a_setup_action_fails_on_another_version(tmp_path):
    run = push(tmp_path, one_job("""
            - uses: hashicorp/setup-terraform@v3
              with:
                terraform_version: 0.12.0
                terraform_wrapper: false
        """))
    assert "0.12.0 asked for" in run.failure()


def test_what_the_replay_does_not_implement_stops_the_test(tmp_path):
    with pytest.raises(Unsupported, match="actions/github-script"):
        push(tmp_path / "a", one_job("""
                - uses: actions/github-script@v7
            """))
    with pytest.raises(Unsupported, match="services"):
        push(tmp_path / "b", one_job("""
                - run: "true"
            """, job="services: {}"))


OIDC_WORKFLOW = """
    on: [push, pull_request]
    permissions:
      contents: read
    jobs:
      plain:
        runs-on: x
        permissions:
          id-token: write
        steps:
          - uses: aws-actions/configure-aws-credentials@v4
            with:
              role-to-assume: arn:aws:iam::123456789012:role/r
              aws-region: ap-south-1
          - run: test "$AWS_SESSION_TOKEN" = token && test "$AWS_REGION" = ap-south-1
      in-prod:
        runs-on: x
        environment: prod
        permissions:
          id-token: write
        steps:
          - uses: aws-actions/configure-aws-credentials@v4
            with:
              role-to-assume: arn:aws:iam::123456789012:role/r
              role-duration-seconds: 7200
              aws-region: ap-south-1
      no-permission:
        runs-on: x
        steps:
          - uses: aws-actions/configure-aws-credentials@v4
            with:
              role-to-assume: arn:aws:iam::123456789012:role/r
              aws-region: ap-south-1
    """


@pytest.fixture
def assumed(monkeypatch):
    """What the jobs asked STS for (the e2e tests ask the emulator's STS itself)."""
    calls = []

    def assume(env, role_arn, session_name, duration, claims):
        calls.append((role_arn, duration, claims))
        return {"AccessKeyId": "key", "SecretAccessKey": "secret", "SessionToken": "token"}
    monkeypatch.setattr(workflow_runner, "assume_role_with_web_identity", assume)
    return calls


def test_the_oidc_subject_is_githubs_for_each_kind_of_job(tmp_path, assumed):
    repo, sha = repository(tmp_path, OIDC_WORKFLOW)
    run = runner(tmp_path, repo, approve=lambda *_: True).run(
        "w.yml", "push", {}, sha, "refs/heads/main")
    assert [(job.name, job.conclusion) for job in run.jobs] == [
        ("plain", "success"), ("in-prod", "success"), ("no-permission", "failure")]
    # (the jobs run side by side: in either order)
    assert sorted((claims["sub"], duration) for _, duration, claims in assumed) == [
        (f"repo:{REPO}:environment:prod", 7200), (f"repo:{REPO}:ref:refs/heads/main", 3600)]
    assert {claims["aud"] for _, _, claims in assumed} == {"sts.amazonaws.com"}
    assert "id-token: write" in run.job("no-permission").failure()

    assumed.clear()
    pull = {"pull_request": {"number": 7, "head": {"ref": "x", "repo": {"full_name": REPO}},
                             "base": {"ref": "main", "repo": {"full_name": REPO}}}}
    run = runner(tmp_path / "pr", repo, approve=lambda *_: True).run(
        "w.yml", "pull_request", pull, sha, "refs/pull/7/merge")
    assert sorted(claims["sub"] for _, _, claims in assumed) == [
        f"repo:{REPO}:environment:prod", f"repo:{REPO}:pull_request"]

    assumed.clear()  # a repository with immutable subject claims
    run = runner(tmp_path / "ids", repo, approve=lambda *_: True,
                 repository_ids="123/456").run("w.yml", "push", {}, sha, "refs/heads/main")
    owner, name = REPO.split("/")
    assert sorted(claims["sub"] for _, _, claims in assumed) == [
        f"repo:{owner}@123/{name}@456:environment:prod",
        f"repo:{owner}@123/{name}@456:ref:refs/heads/main"]

    assumed.clear()
    pull["pull_request"]["head"]["repo"]["full_name"] = "someone/fork"
    run = runner(tmp_path / "fork", repo, approve=lambda *_: True).run(
        "w.yml", "pull_request", pull, sha, "refs/pull/7/merge")
    assert assumed == [] and "forks never get one" in run.job("plain").failure()


def test_the_fake_github_keeps_one_comment_per_marker(tmp_path):
    """ops.github comment against the fake, as the plan job runs it."""
    body = tmp_path / "summary.md"
    with FakeGitHub(REPO, token="t", page_size=1) as github:
        number = github.open_pull_request()
        env = {**os.environ, "GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": REPO,
               "GITHUB_API_URL": github.url}
        for text in ("<!-- ops.plan:uat -->\nfirst", "<!-- ops.plan:prod -->\nother",
                     "<!-- ops.plan:uat -->\nsecond"):
            body.write_text(text)
            done = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "ops",
                                   "comment", "--pr", str(number), "--body-file", str(body)],
                                  cwd=ROOT, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
        assert github.comments(number) == ["<!-- ops.plan:uat -->\nsecond",
                                           "<!-- ops.plan:prod -->\nother"]
        env["GITHUB_TOKEN"] = "wrong"
        refused = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "ops", "comment",
                                  "--pr", str(number), "--body-file", str(body)], cwd=ROOT,
                                 env=env, capture_output=True, text=True)
        assert refused.returncode == 1 and "HTTP 401: Bad credentials" in refused.stderr
    assert json.dumps(github.issues)  # plain data, readable after the server stopped


class Emulated:
    """The few elbv2/ecs/ecr answers FakeLoadBalancers reads: a blue/green production listener
    shifted to green, whose task set (CodeDeploy's) runs an image given by digest; the test
    listener, on another port, still on blue."""

    def __init__(self, image: str):
        self.image = image

    def describe_load_balancers(self):
        return {"LoadBalancers": [{"DNSName": "app-1.ap-south-1.elb.amazonaws.com",
                                   "LoadBalancerArn": "lb"}]}

    def describe_listeners(self, LoadBalancerArn):
        return {"Listeners": [
            {"Port": 8080, "DefaultActions": [{"Type": "forward", "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": "blue", "Weight": 1000}]}}]},
            {"Port": 80, "DefaultActions": [{"Type": "forward", "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": "blue", "Weight": 0},
                                 {"TargetGroupArn": "green", "Weight": 100}]}}]}]}

    def list_clusters(self):
        return {"clusterArns": ["cluster"]}

    def list_services(self, cluster):
        return {"serviceArns": ["app"]}

    def describe_services(self, cluster, services):
        return {"services": [{"loadBalancers": [{"targetGroupArn": "blue"}],
                              "taskDefinition": "old", "taskSets": [
                                  {"loadBalancers": [{"targetGroupArn": "blue"}],
                                   "taskDefinition": "old"},
                                  {"loadBalancers": [{"targetGroupArn": "green"}],
                                   "taskDefinition": "new"}]}]}

    def describe_task_definition(self, taskDefinition):
        image = self.image if taskDefinition == "new" else "crccheck/hello-world:latest"
        return {"taskDefinition": {"containerDefinitions": [{"image": image}]}}

    def describe_images(self, repositoryName, imageIds):
        assert (repositoryName, imageIds) == ("p/app", [{"imageDigest": "sha256:abc"}])
        return {"imageDetails": [{"imageTags": ["latest", "c0ffee"]}]}


@pytest.mark.parametrize("image, passes", [
    ("123456789012.dkr.ecr.ap-south-1.amazonaws.com/p/app@sha256:abc", True),
    ("123456789012.dkr.ecr.ap-south-1.amazonaws.com/p/app:c0ffee", True),
    ("123456789012.dkr.ecr.ap-south-1.amazonaws.com/p/app:0ld", False),
    ("crccheck/hello-world:latest", False),
])
def test_the_smoke_check_sees_the_version_the_service_runs(image, passes):
    from fake_load_balancer import FakeLoadBalancers

    with FakeLoadBalancers(lambda service: Emulated(image)) as balancers:
        env = {**os.environ, "HTTP_PROXY": balancers.url, "NO_PROXY": "127.0.0.1,localhost"}
        done = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "ops", "smoke", "--url",
             "http://app-1.ap-south-1.elb.amazonaws.com", "--expect", "version c0ffee",
             "--attempts", "1"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert (done.returncode == 0) == passes, done.stdout + done.stderr
        unknown = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "ops", "smoke", "--url",
             "http://other.elb.amazonaws.com", "--attempts", "1"], cwd=ROOT, env=env,
            capture_output=True, text=True)
        assert "HTTP 502" in unknown.stderr


def test_checkout_links_the_shared_installs_so_make_deps_installs_nothing(tmp_path):
    """`make deps` (the setup action) must find the linked installs up to date: reinstalling
    would write into the shared .venv and node_modules through the links."""
    workflow = one_job("""
            - uses: actions/checkout@v4
            - run: make -q deps  # question mode: exit 1 when it would install
        """)
    makefile = ("deps: .venv/.synced node_modules/.synced\n"
                ".venv/.synced: Pipfile.lock\n\texit 1\n"
                "node_modules/.synced: package-lock.json\n\texit 1\n")
    tools = tmp_path / "tools"  # a checkout with its installs, as `make setup` leaves it
    for folder, lock in ((".venv", "Pipfile.lock"), ("node_modules", "package-lock.json")):
        (tools / folder).mkdir(parents=True)
        (tools / lock).write_text(f"{{\"{lock}\": 1}}\n")
        (tools / folder / ".synced").touch()
    files = {"Makefile": makefile, "Pipfile.lock": (tools / "Pipfile.lock").read_text(),
             "package-lock.json": (tools / "package-lock.json").read_text()}
    run = push(tmp_path / "same", workflow, files, tools=tools)
    assert run.conclusion == "success", run.failure()
    assert (run.job("one").steps[1].exit_code, sorted(os.listdir(tools / ".venv"))) == (
        0, [".synced"])
    files["Pipfile.lock"] += "\n"
    with pytest.raises(Unsupported, match="Pipfile.lock at .* differs from the shared install"):
        push(tmp_path / "changed", workflow, files, tools=tools)
    (tools / "node_modules" / ".synced").unlink()
    with pytest.raises(Unsupported, match="node_modules/.synced: missing"):
        push(tmp_path / "uninstalled", workflow, {**files, "Pipfile.lock": (
            tools / "Pipfile.lock").read_text()}, tools=tools)


def test_actions_cache_restores_what_a_successful_job_saved(tmp_path):
    repo, sha = repository(tmp_path, one_job("""
            - uses: actions/checkout@v4
            - id: cache
              uses: actions/cache@v4
              with:
                path: terraform/providers
                key: providers-${{ hashFiles('lock') }}
            - if: steps.cache.outputs.cache-hit != 'true'
              run: mkdir -p terraform/providers && echo "filled by run $GITHUB_RUN_NUMBER" > terraform/providers/p
            - run: cat terraform/providers/p
        """), {"lock": "v1\n"})
    replay = runner(tmp_path, repo)
    first = replay.run("w.yml", "push", {}, sha, "refs/heads/main")
    second = replay.run("w.yml", "push", {}, sha, "refs/heads/main")
    assert first.job("one").steps[-1].stdout == second.job("one").steps[-1].stdout == \
        "filled by run 1\n"
    assert second.job("one").steps[1].outputs == {"cache-hit": "true"}


def test_the_fake_github_finds_the_pull_request_of_a_merge_commit():
    from ops.github import GitHub

    with FakeGitHub(REPO, token="t") as github:
        number = github.open_pull_request("change", head_sha="a" * 40)
        client = GitHub("t", REPO, github.url)
        assert client.request("GET", f"/commits/{'b' * 40}/pulls") == []
        github.merge(number, "b" * 40)
        (pull,) = client.request("GET", f"/commits/{'b' * 40}/pulls")
        assert (pull["number"], pull["merge_commit_sha"]) == (number, "b" * 40)
        assert pull["merged_at"]
