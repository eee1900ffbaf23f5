"""constructs_lib/ci_access.py: the GitHub OIDC provider and the plan, deploy and image roles in
the state stack, checked in the synthesized JSON: exact trust conditions, and permissions scoped
to this environment's names."""

import dataclasses
import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.config import CiConfig, ci_role_output
from constructs_lib.json_document import decode
from helpers import ref, synth_variant
from test_config import PROD, UAT, run_main

ROOT = Path(__file__).resolve().parent.parent
REPO = "acme/hello-world"
HOST = "token.actions.githubusercontent.com"
PROVIDER = ref("aws_iam_openid_connect_provider", "ci_access_github_oidc_provider", "arn")


def with_ci(environment, **ci):
    return dataclasses.replace(environment, ci=CiConfig(**{"github_repository": REPO, **ci}))


@pytest.fixture(scope="module")
def uat_ci(environments):
    environment = with_ci(environments["uat"])
    return environment, synth_variant(environment)["state-uat"]


def roles(state: dict) -> dict[str, dict]:
    return {name.removeprefix("ci_access_").removesuffix("_role"): role
            for name, role in state["resource"]["aws_iam_role"].items()}


def policy(state: dict, kind: str) -> list[dict]:
    document = state["resource"]["aws_iam_role_policy"][f"ci_access_{kind}_role_policy"]
    return decode(document["policy"])["Statement"]


def trusts(role: dict, claims: dict[str, str]) -> bool:
    """Whether a GitHub token with these claims may assume the role (IAM's StringEquals and
    StringLike; every condition key must match)."""
    (statement,) = decode(role["assume_role_policy"])["Statement"]
    tests = {"StringEquals": lambda value, pattern: value == pattern,
             "StringLike": lambda value, pattern: fnmatch.fnmatchcase(value, pattern)}
    return statement["Effect"] == "Allow" and all(
        any(tests[operator](claims.get(key.removeprefix(f"{HOST}:"), ""), pattern)
            for pattern in ([wanted] if isinstance(wanted, str) else wanted))
        for operator, conditions in statement["Condition"].items()
        for key, wanted in conditions.items())


def test_each_role_trusts_exactly_one_kind_of_run_of_one_repository(uat_ci):
    _, state = uat_ci
    expected = {"plan": [f"repo:{REPO}:pull_request", f"repo:{REPO}:ref:refs/heads/main"],
                "deploy": f"repo:{REPO}:environment:uat",
                "image": f"repo:{REPO}:ref:refs/heads/main"}
    assert set(roles(state)) == set(expected)
    for kind, role in roles(state).items():
        assert decode(role["assume_role_policy"]) == {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": PROVIDER},
            "Condition": {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com",
                                           f"{HOST}:sub": expected[kind]}}}]}


@pytest.mark.parametrize("sub, aud, allowed", [
    (f"repo:{REPO}:pull_request", "sts.amazonaws.com", {"plan"}),
    (f"repo:{REPO}:environment:uat", "sts.amazonaws.com", {"deploy"}),
    # Runs on main: the image push, and drift.yml's scheduled plans.
    (f"repo:{REPO}:ref:refs/heads/main", "sts.amazonaws.com", {"image", "plan"}),
    (f"repo:{REPO}:pull_request", "https://github.com/acme", set()),  # another audience
    (f"repo:{REPO}:environment:prod", "sts.amazonaws.com", set()),  # another environment
    (f"repo:{REPO}:ref:refs/heads/feature", "sts.amazonaws.com", set()),  # another branch
    (f"repo:{REPO}:ref:refs/tags/v1", "sts.amazonaws.com", set()),
    ("repo:acme/hello-world-fork:pull_request", "sts.amazonaws.com", set()),  # another repo
    ("repo:evil/hello-world:environment:uat", "sts.amazonaws.com", set()),
    (f"repo:{REPO}:environment:uat-2", "sts.amazonaws.com", set()),
    (f"repo:{REPO}:*", "sts.amazonaws.com", set()),
])
def test_no_role_trusts_another_repository_ref_environment_or_audience(uat_ci, sub, aud, allowed):
    _, state = uat_ci
    assert {kind for kind, role in roles(state).items()
            if trusts(role, {"sub": sub, "aud": aud})} == allowed


def test_roles_are_named_once_in_the_config_and_exported(uat_ci):
    environment, state = uat_ci
    assert {kind: role["name"] for kind, role in roles(state).items()} == {
        "plan": "hello-world-uat-github-plan", "deploy": "hello-world-uat-github-deploy",
        "image": "hello-world-uat-github-image"}
    assert environment.ci_role_names == {kind: role["name"]
                                         for kind, role in roles(state).items()}
    for kind in ("plan", "deploy", "image"):
        assert state["output"][ci_role_output(kind)]["value"] == ref(
            "aws_iam_role", f"ci_access_{kind}_role", "arn")
    assert state["output"]["github_oidc_provider_arn"]["value"] == PROVIDER


def test_the_owner_creates_the_oidc_provider_for_sts(uat_ci):
    _, state = uat_ci
    assert state["resource"]["aws_iam_openid_connect_provider"][
        "ci_access_github_oidc_provider"] | {"//": None} == {
        "//": None, "url": f"https://{HOST}", "client_id_list": ["sts.amazonaws.com"]}


def test_other_environments_look_the_provider_up_or_take_its_arn(environments):
    looked_up = synth_variant(with_ci(environments["prod"], oidc_provider="lookup"))["state-prod"]
    assert "aws_iam_openid_connect_provider" not in looked_up["resource"]
    assert looked_up["data"]["aws_iam_openid_connect_provider"][
        "ci_access_github_oidc_provider"]["url"] == f"https://{HOST}"
    arn = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
    given = synth_variant(with_ci(environments["prod"], oidc_provider=arn))["state-prod"]
    assert "aws_iam_openid_connect_provider" not in given["resource"]
    assert "aws_iam_openid_connect_provider" not in given.get("data", {})
    for role in roles(given).values():
        assert decode(role["assume_role_policy"])["Statement"][0]["Principal"] == {
            "Federated": arn}


def test_no_ci_resources_without_a_repository(synthesized, env):
    state = synthesized.parsed(f"state-{env.name}")
    assert not env.ci.enabled
    assert "aws_iam_role" not in state["resource"]
    assert "data" not in state
    assert not [name for name in state["output"] if name.startswith("github_")]


def test_an_account_id_pins_the_state_stack_to_that_account(environments):
    state = synth_variant(with_ci(environments["uat"], account_id="111122223333"))["state-uat"]
    assert state["provider"]["aws"][0]["allowed_account_ids"] == ["111122223333"]


def test_plan_role_writes_only_its_lock_files_and_attaches_no_aws_managed_policy(uat_ci):
    _, state = uat_ci
    attachments = state["resource"]["aws_iam_role_policy_attachment"]
    assert {name: a["policy_arn"] for name, a in attachments.items()} == {
        f"ci_access_{kind}_role_read": ref("aws_iam_policy", "ci_access_read_policy", "arn")
        for kind in ("plan", "deploy")}
    bucket = ref("aws_s3_bucket", "state_bucket", "arn")
    assert policy(state, "plan") == [{
        "Sid": "StateLockFiles", "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "Resource": f"{bucket}/uat/*.tflock"}]


def test_image_role_pushes_only_to_the_project_repository(uat_ci):
    _, state = uat_ci
    statements = policy(state, "image")
    assert [s for s in statements if s["Resource"] == "*"] == [
        {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"}]
    (push,) = [s for s in statements if s["Sid"] == "Push"]
    assert push["Resource"].endswith(":repository/hello-world/hello-world")
    assert all(action.startswith("ecr:") for action in push["Action"])
    assert "ci_access_image_role_read_only" not in state["resource"][
        "aws_iam_role_policy_attachment"]


def test_deploy_role_writes_state_only_under_its_environment(uat_ci):
    _, state = uat_ci
    bucket = ref("aws_s3_bucket", "state_bucket", "arn")
    writes = [s for s in policy(state, "deploy")
              if any(a.startswith("s3:Put") for a in s.get("Action", [])) and s["Sid"] != "AccessLogBucket"]
    assert [s["Resource"] for s in writes] == [f"{bucket}/uat/*.tflock", f"{bucket}/uat/*"]


def test_deploy_role_passes_only_its_stacks_roles_and_only_to_their_services(uat_ci):
    _, state = uat_ci
    statements = {s["Sid"]: s for s in policy(state, "deploy")}
    passing = [s for s in statements.values() if "iam:PassRole" in s.get("Action", [])]
    assert passing == [statements["PassRoles"]]
    assert [arn.split(":", 5)[5] for arn in statements["PassRoles"]["Resource"]] == [
        "role/hello-world-uat-task", "role/hello-world-uat-execution",
        "role/hello-world-uat-codedeploy", "role/uat-vpc-flow-logs"]
    assert statements["PassRoles"]["Condition"] == {"StringEquals": {"iam:PassedToService": [
        "ecs-tasks.amazonaws.com", "codedeploy.amazonaws.com", "vpc-flow-logs.amazonaws.com"]}}
    # uat's task role gets the guide's managed policies, and no others.
    assert statements["AttachTask"]["Condition"]["ArnEquals"]["iam:PolicyARN"] == [
        "arn:${data.aws_partition.partition.partition}:iam::aws:policy/" + name
        for name in ("SecretsManagerReadWrite", "AmazonS3FullAccess")]


def test_deploy_role_is_scoped_to_the_environment_names(uat_ci):
    _, state = uat_ci
    statements = {s["Sid"]: s for s in policy(state, "deploy")}
    assert [arn.split(":", 5)[5] for arn in statements["Parameters"]["Resource"]] == [
        "parameter/hello-world/uat/hello-world/image",
        "parameter/hello-world/uat/hello-world/release-lock"]
    assert {"ssm:PutParameter", "ssm:DeleteParameter"} <= set(
        statements["Parameters"]["Action"])
    assert statements["ImageRepository"]["Resource"].endswith(
        ":repository/hello-world/hello-world")
    assert "ecr:PutImage" not in statements["ImageRepository"]["Action"]
    assert [arn.split(":", 5)[5] for arn in statements["Service"]["Resource"]] == [
        "cluster/hello-world-uat", "service/hello-world-uat/*",
        "task-definition/hello-world-uat:*"]
    unscoped = {a for s in statements.values() if s["Resource"] == "*" and s["Effect"] == "Allow"
                and "Condition" not in s for a in s["Action"]}
    assert not {a for a in unscoped if a.startswith(("iam:", "s3:", "ssm:", "ecr:", "logs:"))}


def test_an_environment_sharing_the_repository_only_reads_it_and_has_no_image_role(
        environments):
    prod = with_ci(environments["prod"], oidc_provider="lookup")
    state = synth_variant(prod)["state-prod"]
    assert set(roles(state)) == {"plan", "deploy"} == set(prod.ci_role_names)
    assert ci_role_output("image") not in state["output"]
    statements = {s["Sid"]: s for s in policy(state, "deploy")}
    assert statements["ImageRepository"]["Action"] == ["ecr:DescribeImages"]
    assert statements["ImageRepository"]["Resource"].endswith(
        ":repository/hello-world/hello-world")
    assert "ImageRepositoryKey" not in statements
    assert "AttachTask" not in statements  # prod's task role has no managed policies


def test_ci_access_vars_refuses_an_environment_without_ci_in_one_line():
    result = subprocess.run([sys.executable, "-m", "ops.ci_access", "vars", "--env", "uat"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: environments/uat.toml: ci.github_repository is not set, so this environment has "
        "no CI roles; set it to the repository's owner/repo and apply the state stack"]


def test_no_trust_condition_uses_a_wildcard_or_string_like(uat_ci):
    _, state = uat_ci
    for role in roles(state).values():
        text = role["assume_role_policy"]
        assert "StringLike" not in text and "*" not in text


# --- config --------------------------------------------------------------------------------

@pytest.mark.parametrize("ci, message", [
    ('github_repository = "acme"', "ci.github_repository = 'acme': a GitHub repository as "
     "owner/repo (e.g. acme/hello-world), or empty for no CI access"),
    ('github_repository = "acme/hello world"', "ci.github_repository = 'acme/hello world'"),
    ('github_repository = "https://github.com/acme/x"', "owner/repo"),
    ('github_repository = "acme/x"\noidc_provider = "make"', "ci.oidc_provider = 'make': "
     '"create", "lookup", or the provider\'s ARN'),
    ('github_repository = "acme/x"\naccount_id = "12345"',
     "ci.account_id = '12345': a 12-digit AWS account ID, or empty"),
    ('github_repository = "acme/x"\naccount_id = "111122223333"\noidc_provider = '
     f'"arn:aws:iam::999999999999:oidc-provider/{HOST}"', "must be in account_id 111122223333"),
])
def test_bad_ci_settings_fail_with_one_line(tmp_path, ci, message):
    result = run_main(tmp_path, {"uat.toml": f"{UAT}\n[ci]\n{ci}\n"})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'uat.toml'}: ") and message in line


def test_two_owners_of_the_oidc_provider_in_one_account_fail(tmp_path):
    ci = '\n[ci]\ngithub_repository = "acme/x"\n'
    (tmp_path / "prod.toml").write_text(PROD + ci)
    (tmp_path / "uat.toml").write_text(UAT + ci)
    os.utime(tmp_path / "prod.toml", ns=(1, 1))  # the clash names the file edited last
    result = run_main(tmp_path, {})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'uat.toml'}: ci.oidc_provider = 'create': prod.toml creates the "
        "GitHub OIDC provider too, and an AWS account holds one; set oidc_provider = \"lookup\" "
        "(or its ARN) here, or distinct ci.account_id values if the two deploy to different "
        "accounts")


@pytest.mark.parametrize("uat_ci, prod_ci", [
    ('oidc_provider = "create"', 'oidc_provider = "lookup"'),
    ('account_id = "111122223333"', 'account_id = "444455556666"'),
])
def test_one_owner_per_account_loads(tmp_path, uat_ci, prod_ci):
    ci = '\n[ci]\ngithub_repository = "acme/x"\n'
    from constructs_lib.config import load_environments
    (tmp_path / "uat.toml").write_text(UAT + ci + uat_ci + "\n")
    (tmp_path / "prod.toml").write_text(PROD + ci + prod_ci + "\n")
    assert [env.ci.enabled for env in load_environments(tmp_path)] == [True, True]


def test_role_names_fit_iam(tmp_path):
    long = UAT.replace('region = "ap-south-1"', 'region = "ap-south-1"\nproject = "' + "p" * 50
                       + '"', 1)
    result = run_main(tmp_path, {"uat.toml": long + '\n[ci]\ngithub_repository = "acme/x"\n'})
    assert result.returncode == 2
    assert "names the CI role 'pppp" in result.stderr and "at most 64 characters" in result.stderr
