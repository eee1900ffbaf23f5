"""constructs_lib/ci_access.py: the GitHub OIDC provider and the plan, deploy and image roles in
the state stack, checked in the synthesized JSON: exact trust conditions, and permissions scoped
to this environment's names."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import CiConfig, ci_role_output
from constructs_lib.json_document import decode
from ops.emulator.iam.arns import action_reference
from ops.emulator.iam.evaluator import evaluate, web_identity_context, with_standin_keys
from helpers import many_services, ref, synth_variant, with_service
from iam_policy import (ACCOUNT, MISSING_RESOURCE_TYPES, NOT_ITS_RESOURCE, allowed,
                        condition_keys, dependent_actions, refused, verdict)
from test_config import PROD, UAT, run_main

ROOT = Path(__file__).resolve().parent.parent
REPO = "acme/hello-world"
OWNER, NAME = REPO.split("/")
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


def held(state: dict, kind: str) -> list[dict]:
    """The role's inline statements and those of the managed policies attached to it."""
    statements = policy(state, kind)
    for attachment in state["resource"]["aws_iam_role_policy_attachment"].values():
        if attachment["role"] == ref("aws_iam_role", f"ci_access_{kind}_role", "name"):
            key = attachment["policy_arn"].split(".")[1]  # ${aws_iam_policy.<key>.arn}
            document = state["resource"]["aws_iam_policy"][key]["policy"]
            statements += decode(document)["Statement"]
    return statements


def trusts(role: dict, claims: dict[str, str]) -> bool:
    """Whether a GitHub token with these claims may assume the role, as the emulator judges
    AssumeRoleWithWebIdentity."""
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"
    trust = json.loads(json.dumps(decode(role["assume_role_policy"])).replace(PROVIDER, provider))
    found = evaluate({}, "sts:AssumeRoleWithWebIdentity", f"arn:aws:iam::{ACCOUNT}:role/"
                     f"{role['name']}", web_identity_context(HOST, claims), principal=provider,
                     resource_policy=with_standin_keys(trust))
    assert not found.error, found
    return found.allowed


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


@pytest.fixture(scope="module")
def uat_ids(environments):
    """uat's CI access for a repository whose OIDC tokens carry immutable IDs."""
    return synth_variant(with_ci(environments["uat"], github_repository_ids="1234/5678"))[
        "state-uat"]


@pytest.mark.parametrize("sub, allowed", [
    (f"repo:{OWNER}@1234/{NAME}@5678:pull_request", {"plan"}),
    (f"repo:{OWNER}@1234/{NAME}@5678:environment:uat", {"deploy"}),
    (f"repo:{OWNER}@1234/{NAME}@5678:ref:refs/heads/main", {"image", "plan"}),
    (f"repo:{REPO}:environment:uat", set()),  # the name alone: a recycled name would pass
    (f"repo:{OWNER}@9999/{NAME}@5678:environment:uat", set()),  # another owner of the name
    (f"repo:{OWNER}@1234/{NAME}@9999:environment:uat", set()),  # a new repository so named
])
def test_with_repository_ids_roles_trust_githubs_immutable_subjects_only(uat_ids, sub, allowed):
    # GitHub's default for repositories created or renamed since 2026-07-15 (docs.github.com,
    # OpenID Connect, "Immutable subject claims"): repo:owner@<id>/name@<id>:...
    assert {kind for kind, role in roles(uat_ids).items()
            if trusts(role, {"sub": sub, "aud": "sts.amazonaws.com"})} == allowed


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
        f"ci_access_{kind}_role_{key}": ref("aws_iam_policy", f"ci_access_{key}_policy", "arn")
        for kind, key in (("plan", "read"), ("deploy", "read"), ("deploy", "write"))}
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
              if any(a.startswith("s3:Put") for a in s.get("Action", []))
              and s["Sid"] != "AccessLogBucket"]
    assert [s["Resource"] for s in writes] == [f"{bucket}/uat/*.tflock", f"{bucket}/uat/*"]


def test_deploy_role_passes_only_its_stacks_roles_and_only_to_their_services(uat_ci):
    _, state = uat_ci
    statements = {s["Sid"]: s for s in policy(state, "deploy")}
    passing = [s for s in statements.values() if "iam:PassRole" in s.get("Action", [])]
    # Each role exactly, to the one service that uses it.
    assert {(arn.split(":", 5)[5], s["Condition"]["StringEquals"]["iam:PassedToService"])
            for s in passing for arn in s["Resource"]} == {
        ("role/hello-world-uat-task", "ecs-tasks.amazonaws.com"),
        ("role/hello-world-uat-execution", "ecs-tasks.amazonaws.com"),
        ("role/hello-world-uat-codedeploy", "codedeploy.amazonaws.com"),
        ("role/uat-vpc-flow-logs", "vpc-flow-logs.amazonaws.com")}
    # uat's task role gets the guide's managed policies, and no others.
    assert statements["AttachTask"]["Condition"]["ArnEquals"]["iam:PolicyARN"] == [
        "arn:${data.aws_partition.partition.partition}:iam::aws:policy/" + name
        for name in ("SecretsManagerReadWrite", "AmazonS3FullAccess")]


def test_deploy_role_is_scoped_to_the_environment_names(uat_ci):
    _, state = uat_ci
    statements = {s["Sid"]: s for s in held(state, "deploy")}
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
                and "Condition" not in s and s["Sid"] != "Describe" for a in s["Action"]}
    assert not {a for a in unscoped if a.startswith(("iam:", "s3:", "ssm:", "ecr:", "logs:"))}


def test_the_deploy_role_reaches_the_access_log_bucket_under_any_name(environments):
    """The bucket's prefix is cut short past the provider's 37 characters (see
    test_terraform_validate.py); the deploy role's S3 pattern is made of the same prefix, and
    two long names that start alike do not share it."""
    prefixes = {}
    for name in ("hello-world", "payments-gateway-api-one", "payments-gateway-api-two"):
        stacks = synth_variant(with_ci(with_service(environments["prod"], name=name)))
        (bucket,) = stacks["app-prod"]["resource"]["aws_s3_bucket"].values()
        prefix = prefixes[name] = bucket["bucket_prefix"]
        statements = {s["Sid"]: s for s in held(stacks["state-prod"], "deploy")}
        assert statements["AccessLogBucket"]["Resource"] == \
            f"arn:${{data.aws_partition.partition.partition}}:s3:::{prefix}*"
    assert prefixes["hello-world"] == "hello-world-prod-alb-logs-"
    assert len(set(prefixes.values())) == 3, prefixes


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
    ('github_repository = "acme/x"\ngithub_repository_ids = "acme@1/x@2"',
     "ci.github_repository_ids = 'acme@1/x@2': the repository owner's and the repository's "
     "numeric IDs as <owner id>/<repository id>"),
    ('github_repository_ids = "1/2"', "with github_repository set"),
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
    from config import load_environments
    (tmp_path / "uat.toml").write_text(UAT + ci + uat_ci + "\n")
    (tmp_path / "prod.toml").write_text(PROD + ci + prod_ci + "\n")
    assert [env.ci.enabled for env in load_environments(tmp_path)] == [True, True]


def test_role_names_fit_iam(tmp_path):
    long = UAT.replace('region = "ap-south-1"', 'region = "ap-south-1"\nproject = "' + "p" * 50
                       + '"', 1)
    result = run_main(tmp_path, {"uat.toml": long + '\n[ci]\ngithub_repository = "acme/x"\n'})
    assert result.returncode == 2
    assert "names the CI role 'pppp" in result.stderr and "at most 64 characters" in result.stderr


# --- least privilege, evaluated ----------------------------------------------------------------
# The roles' statements with concrete ARNs (ci_roles/ci_policies called directly), evaluated by
# the emulator's IAM evaluator (tests/iam_policy.py), and checked against the Service
# Authorization Reference.


def concrete(environment):
    """{kind: every statement the role holds (inline and attached)}, the boundary statements
    and the managed policies, spelled in partition aws and account ACCOUNT."""
    from constructs_lib.ci_policies import ci_policies, ci_roles
    from stacks.props import ci_policy

    def arn(service, resource, region=environment.region):
        return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"

    bucket = f"arn:aws:s3:::{environment.state.bucket}"
    props = ci_policy(environment)
    policies = ci_policies(props, bucket, arn, "aws")
    roles = ci_roles(props, bucket, arn, "aws")
    held = {kind: role.statements + [s for key in role.policies for s in policies[key][1]]
            for kind, role in roles.items()}
    return held, roles, policies


def iam_arn(resource):
    return f"arn:aws:iam::{ACCOUNT}:{resource}"


@pytest.fixture(scope="module")
def both(environments):
    """uat and prod with CI access, blue/green, VPC endpoints and a lock table: every
    permission a config can ask for."""
    import dataclasses

    def full(environment, **ci):
        environment = with_service(with_ci(environment, **ci),
                                   blue_green={"enabled": True, "test_listener_port": 8080})
        return dataclasses.replace(
            environment,
            network=dataclasses.replace(environment.network, vpc_endpoints=True),
            state=dataclasses.replace(environment.state, lock_table=True))
    return {"uat": full(environments["uat"]),
            "prod": full(environments["prod"], oidc_provider="lookup")}


@pytest.fixture(scope="module")
def prefixed(both):
    """uat beside an environment whose names start with uat's (uat-b, VPC uat-vpc-b)."""
    import dataclasses

    prod = both["prod"]
    return {"uat": both["uat"], "prod": dataclasses.replace(
        prod, name="uat-b", network=dataclasses.replace(prod.network, vpc_name="uat-vpc-b"))}


def test_the_deploy_role_refreshes_the_ci_roles_but_cannot_change_them(environments):
    """Item 1: deploy.yml's plan of state-<env> reads the CI roles; an explicit deny of iam:*
    on them broke every refresh."""
    environment = with_ci(environments["uat"])
    held, _, _ = concrete(environment)
    for role in environment.ci_role_names.values():
        for read in ("iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
                     "iam:ListRolePolicies"):
            assert allowed(held["deploy"], read, iam_arn(f"role/{role}")), (read, role)
        for write in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy",
                      "iam:DeleteRole", "iam:PutRolePermissionsBoundary", "iam:TagRole"):
            assert not allowed(held["deploy"], write, iam_arn(f"role/{role}"), {
                "iam:PermissionsBoundary": iam_arn(
                    f"policy/{environment.names.permissions_boundary}")}), (write, role)


def test_roles_the_deploy_role_may_touch_are_the_stacks_roles_exactly(synthesized, env):
    """The names in Names are the ones the constructs give the roles."""
    names = env.names
    made = {role["name"] for stack in (f"network-{env.name}", f"app-{env.name}")
            for role in synthesized.resources(stack, "aws_iam_role").values()}
    assert made <= {names.task_role, names.execution_role, names.codedeploy_role,
                    names.flow_logs_role}
    assert {names.task_role, names.execution_role, names.flow_logs_role} <= made


@pytest.mark.parametrize("name", ["uat", "prod"])
def test_blue_green_may_attach_only_the_codedeploy_policy_and_only_with_the_boundary(both, name):
    """Item 3: the CodeDeploy role gets AWSCodeDeployRoleForECS on the first apply (prod has no
    task role policies, so this is its only AttachRolePolicy)."""
    environment = both[name]
    held, _, _ = concrete(environment)
    names = environment.names
    role = iam_arn(f"role/{names.codedeploy_role}")
    boundary = iam_arn(f"policy/{names.permissions_boundary}")
    codedeploy = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
    assert allowed(held["deploy"], "iam:AttachRolePolicy", role,
                   {"iam:PolicyARN": codedeploy, "iam:PermissionsBoundary": boundary})
    for context in ({"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess",
                     "iam:PermissionsBoundary": boundary},
                    {"iam:PolicyARN": codedeploy}):  # a role without the boundary
        assert not allowed(held["deploy"], "iam:AttachRolePolicy", role, context)


def test_application_auto_scaling_may_manage_its_target_tracking_alarms(environments):
    """Item 4: target tracking alarms are created and deleted as the caller."""
    environment = with_ci(environments["uat"])
    held, _, _ = concrete(environment)
    name = environment.names.service
    alarm = (f"arn:aws:cloudwatch:{environment.region}:{ACCOUNT}:alarm:TargetTracking-service/"
             f"{name}/{name}-AlarmHigh-3f8d6a3e-9b1c-4c7e-8d55-0c1f2b3a4d5e")
    for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
                   "cloudwatch:DescribeAlarms"):
        assert allowed(held["deploy"], action, alarm), action
    other = alarm.replace(f"service/{name}/{name}", "service/other/other")
    assert not allowed(held["deploy"], "cloudwatch:PutMetricAlarm", other)


def test_private_dns_endpoints_may_associate_their_hosted_zone(both, environments):
    """Item 5: the Service Authorization Reference lists route53:AssociateVPCWithHostedZone as
    a dependent action of ec2:CreateVpcEndpoint; only a network with endpoints gets it."""
    held, _, _ = concrete(both["uat"])
    zone = "arn:aws:route53:::hostedzone/Z0123456789"
    assert allowed(held["deploy"], "route53:AssociateVPCWithHostedZone", zone)
    held, _, _ = concrete(with_ci(environments["uat"]))
    assert not allowed(held["deploy"], "route53:AssociateVPCWithHostedZone", zone)


def test_ci_sessions_last_the_documented_time(uat_ci):
    """Item 11: one number for the roles and the workflows' role-duration-seconds."""
    from config import CI_SESSION_SECONDS

    assert CI_SESSION_SECONDS == 3 * 3600
    _, state = uat_ci
    assert {role["max_session_duration"] for role in roles(state).values()} == {
        CI_SESSION_SECONDS}


def test_no_statement_names_a_whole_service_or_an_unknown_action(both, full_shop):
    """Every action is spelled out, exists in the Service Authorization Reference, and every
    condition key is one the action supports (or a global aws: key)."""
    for environment in [*both.values(), full_shop]:
        held, _, policies = concrete(environment)
        documents = list(held.values()) + [statements for _, statements in policies.values()]
        for statement in (s for document in documents for s in document):
            for action in _actions_of(statement):
                assert "*" not in action or statement["Effect"] == "Deny" or (
                    "NotAction" in statement), action
                if "*" in action:
                    continue
                assert action_reference(action), (
                    f"{action}: not in the Service Authorization Reference")
                keys = condition_keys(action)
                for tests in statement.get("Condition", {}).values():
                    for key in tests:
                        tags = ("aws:RequestTag", "aws:ResourceTag", "aws:TagKeys")  # per action
                        assert (key.startswith("aws:") and not key.startswith(tags)
                                or key.split("/")[0] in keys) or (
                            action.split(":")[0] == "kms" and key == "kms:ViaService"), (
                            action, key)


def _actions_of(statement):
    actions = statement.get("Action", statement.get("NotAction"))
    return [actions] if isinstance(actions, str) else actions


# Dependent actions the roles need not hold: the feature that needs them is not used.
NOT_DEPENDENT = {
    "iam:PassRole": "sns:CreateTopic passes a role only for delivery status logging, not used",
}


def test_scoped_actions_accept_their_resources_and_dependents_are_held(both, full_shop):
    """Each action granted on named resources has a resource type of that shape (else AWS
    evaluates it against "*" and the grant never applies), and each action's dependent actions
    are granted too."""
    for environment in [*both.values(), full_shop]:
        held, _, _ = concrete(environment)
        for kind, statements in held.items():
            granted = [(a, s) for s in statements if s["Effect"] == "Allow" and "Action" in s
                       for a in _actions_of(s)]
            names = {a.lower() for a, _ in granted}
            for action, statement in granted:
                resources = statement["Resource"]
                if resources != "*":
                    resources = resources if isinstance(resources, list) else [resources]
                    judged = any(  # * spans "/"
                        verdict([statement], action, resource.replace("*", fill)).error
                        not in NOT_ITS_RESOURCE
                        for resource in resources for fill in ("x", "x/x", "x/x/x"))
                    gap = MISSING_RESOURCE_TYPES.get(action)
                    missing = bool(gap) and gap in "".join(resources)
                    assert judged or missing, (kind, action, resources)
                    assert not (judged and missing), (
                        f"iam-data now knows {action} on {resources}: drop it from "
                        "MISSING_RESOURCE_TYPES")
                for dependent in dependent_actions(action) - set(NOT_DEPENDENT):
                    assert dependent.lower() in names, (kind, action, dependent)


def _samples(statements):
    """A concrete resource for every resource pattern of these Allow statements."""
    return {r.replace("*", "x1") for s in statements if s["Effect"] == "Allow"
            for r in ([s["Resource"]] if isinstance(s.get("Resource"), str)
                      else s.get("Resource", [])) if r != "*"}


@pytest.mark.parametrize("pair", ["both", "prefixed"])
def test_no_environment_reaches_another_environments_resources(pair, request):
    """uat's roles allow nothing on any of prod's resources (and back) when both share an
    account and region, even when one's names start with the other's; "*" statements are the
    unscoped EC2/autoscaling calls and the metadata reads."""
    both = request.getfixturevalue(pair)
    held = {name: concrete(environment)[0] for name, environment in both.items()}
    # What they share on purpose: prod runs uat's images (ecr_repository_owner)...
    shared = f"arn:aws:ecr:ap-south-1:{ACCOUNT}:repository/{both['prod'].names.repository}"
    for mine, theirs in (("uat", "prod"), ("prod", "uat")):
        targets = set().union(*(_samples(statements) for statements in held[theirs].values()))
        targets.discard(shared)
        theirs_name = both[theirs].name
        # ...and a promotion reads (only reads) its source's version of record
        source = both[mine].delivery.promote_from == theirs_name and (
            "ssm:GetParameter",
            f"arn:aws:ssm:ap-south-1:{ACCOUNT}:parameter{both[theirs].names.image_parameter}")
        if both[theirs].delivery.promote_from == both[mine].name:  # mine, in theirs' reads
            targets.discard(f"arn:aws:ssm:ap-south-1:{ACCOUNT}:parameter"
                            f"{both[mine].names.image_parameter}")
        context = {"aws:ResourceTag/Environment": theirs_name,
                   "aws:RequestTag/Environment": theirs_name,
                   "iam:PassedToService": "ecs-tasks.amazonaws.com"}
        for kind, statements in held[mine].items():
            scoped = [s for s in statements if s.get("Resource") != "*"]
            for statement in scoped:
                # A request names one action: patterns (in denies) are not requests.
                for action in (a for a in _actions_of(statement) if "*" not in a):
                    for target in targets:
                        if (action, target) == source:
                            continue
                        assert refused(scoped, action, target, context), (
                            f"{mine} {kind} may {action} on {theirs}'s {target}")


def test_target_groups_of_another_environment_are_refused_by_tag(both):
    """Target groups are named by prefix, shared by environments: the tag tells them apart."""
    held, _, _ = concrete(both["uat"])
    group = (f"arn:aws:elasticloadbalancing:ap-south-1:{ACCOUNT}:targetgroup/hello-2024/"
             "0123456789abcdef")
    for action in ("elasticloadbalancing:ModifyTargetGroup",
                   "elasticloadbalancing:DeleteTargetGroup"):
        assert allowed(held["deploy"], action, group, {"aws:ResourceTag/Environment": "uat"})
        assert not allowed(held["deploy"], action, group, {"aws:ResourceTag/Environment": "prod"})
    assert not allowed(held["deploy"], "elasticloadbalancing:CreateTargetGroup", group,
                       {"aws:RequestTag/Environment": "prod"})


def test_the_deploy_role_has_no_path_to_administrator(both):
    """Roles it creates or edits carry the boundary, which it can neither remove nor change,
    and the boundary admits no IAM, STS or organization action."""
    environment = both["uat"]
    held, _, policies = concrete(environment)
    deploy, names = held["deploy"], environment.names
    boundary = iam_arn(f"policy/{names.permissions_boundary}")
    role = iam_arn(f"role/{names.task_role}")
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert allowed(deploy, action, role, {"iam:PermissionsBoundary": boundary}), action
        assert not allowed(deploy, action, role), action  # without the boundary
        assert not allowed(deploy, action, role, {"iam:PermissionsBoundary": iam_arn(
            "policy/AdministratorAccess")}), action
    assert not allowed(deploy, "iam:DeleteRolePermissionsBoundary", role)
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
                   "iam:CreatePolicy"):
        assert not allowed(deploy, action, boundary), action
    for other in ("role/admin", "user/admin", f"role/{environment.ci_role_names['deploy']}"):
        for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                       "iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:PutUserPolicy"):
            assert refused(deploy, action, iam_arn(other), {
                "iam:PermissionsBoundary": boundary, "iam:PassedToService":
                "ecs-tasks.amazonaws.com", "iam:PolicyARN":
                "arn:aws:iam::aws:policy/AmazonS3FullAccess"}), (action, other)
    for service in ("lambda.amazonaws.com", "codedeploy.amazonaws.com"):
        assert not allowed(deploy, "iam:PassRole", role, {"iam:PassedToService": service})
    assert not allowed(deploy, "iam:CreateServiceLinkedRole", iam_arn("role/x"),
                       {"iam:AWSServiceName": "autoscaling.amazonaws.com"})
    (_, bounded) = policies["boundary"]
    for action, resource in (("iam:CreateRole", iam_arn("role/admin")),
                             ("iam:AttachRolePolicy", iam_arn("role/admin")),
                             ("sts:AssumeRole", iam_arn("role/admin")),
                             ("organizations:LeaveOrganization", "*")):
        assert not allowed(bounded, action, resource), action
    assert allowed(bounded, "iam:PassRole", role, {"iam:PassedToService":
                                                   "ecs-tasks.amazonaws.com"})


def test_the_app_and_network_roles_carry_the_state_stacks_boundary(both):
    stacks = synth_variant(both["uat"])
    names = both["uat"].names
    policy_resource = stacks["state-uat"]["resource"]["aws_iam_policy"]
    assert policy_resource["ci_access_boundary_policy"]["name"] == names.permissions_boundary
    made = {role["name"]: role.get("permissions_boundary")
            for stack in ("network-uat", "app-uat")
            for role in stacks[stack]["resource"]["aws_iam_role"].values()}
    assert set(made) == {names.task_role, names.execution_role, names.codedeploy_role,
                         names.flow_logs_role}
    assert set(made.values()) == {
        "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account"
        f".account_id}}:policy/{names.permissions_boundary}"}


def test_the_plan_role_reads_no_data_outside_its_environment(both):
    """Item 15: no account-wide ReadOnlyAccess; objects, parameters, secrets and keys of other
    environments stay unread."""
    environment = both["uat"]
    held, _, _ = concrete(environment)
    plan = held["plan"]
    state = f"arn:aws:s3:::{environment.state.bucket}"
    assert allowed(plan, "s3:GetObject", f"{state}/uat/app-uat.tfstate")
    assert allowed(plan, "s3:ListBucket", state)
    assert allowed(plan, "ssm:GetParameter",
                   f"arn:aws:ssm:ap-south-1:{ACCOUNT}:parameter{environment.names.image_parameter}")
    for action, resource in (
            ("s3:GetObject", f"arn:aws:s3:::{both['prod'].state.bucket}/prod/app-prod.tfstate"),
            ("s3:GetObject", f"{state}/prod/app-prod.tfstate"),
            ("s3:GetObject", "arn:aws:s3:::payroll/2026.csv"),
            ("ssm:GetParameter", f"arn:aws:ssm:ap-south-1:{ACCOUNT}:parameter/db/password"),
            ("ssm:GetParameters", f"arn:aws:ssm:ap-south-1:{ACCOUNT}:parameter"
                                  f"{both['prod'].names.image_parameter}"),
            ("secretsmanager:GetSecretValue",
             f"arn:aws:secretsmanager:ap-south-1:{ACCOUNT}:secret:db-AbCdEf"),
            ("kms:Decrypt", f"arn:aws:kms:ap-south-1:{ACCOUNT}:key/1234"),
            ("dynamodb:Scan", f"arn:aws:dynamodb:ap-south-1:{ACCOUNT}:table/users"),
            ("logs:GetLogEvents", f"arn:aws:logs:ap-south-1:{ACCOUNT}:log-group:/ecs/x:*")):
        assert not allowed(plan, action, resource), (action, resource)


def _provider_types() -> set[str]:
    """Every resource and data source type the constructs can make (their provider imports)."""
    import re

    types = set()
    for path in (ROOT / "constructs_lib").glob("*.py"):
        for module in re.findall(r"cdktf_cdktf_provider_aws\.(\w+) import", path.read_text()):
            if module == "provider":
                continue
            types.add(f"data.aws_{module[len('data_aws_'):]}" if module.startswith("data_aws_")
                      else f"aws_{module}")
    return types


def test_every_type_the_stacks_can_hold_has_its_reads_listed(both, synthesized, shop_stacks):
    from constructs_lib.ci_policies import READS

    assert _provider_types() - set(READS) == set(), "list their refresh calls in READS"
    synthesized_types = set()
    for stacks in [synth_variant(both["uat"]), shop_stacks] + [
            {name: synthesized.parsed(name) for name in synthesized.stacks}]:
        for stack in stacks.values():
            synthesized_types |= set(stack.get("resource", {}))
            synthesized_types |= {f"data.{t}" for t in stack.get("data", {})}
    assert synthesized_types - set(READS) == set()
    held, _, _ = concrete(both["uat"])
    for reads in READS.values():
        for action in reads:
            assert any(not refused(held[kind], action, resource)
                       for kind in ("plan",) for resource in ["*"] + sorted(
                           _samples(held["plan"]))), action


def test_every_policy_fits_iam_quotas(both, full_shop):
    """IAM quotas: a role's inline policies 10,240 characters in all, a managed policy 6,144,
    10 managed policies per role (whitespace is not counted)."""
    import json as _json

    for environment in [*both.values(), full_shop]:
        _, roles_, policies = concrete(environment)
        for name, statements in policies.values():
            size = len(_json.dumps({"Version": "2012-10-17", "Statement": statements},
                                   separators=(",", ":")))
            assert size <= 6144, (name, size)
        for role in roles_.values():
            size = len(_json.dumps({"Version": "2012-10-17", "Statement": role.statements},
                                   separators=(",", ":")))
            assert size <= 10240, (role.name, size)
            assert len(role.policies) <= 10


# --- several services ([services.<name>]) ------------------------------------------------------

@pytest.fixture(scope="module")
def shop():
    """examples/several-services with CI access: an API on /api/* (with a secret) and a worker,
    each with its own ECR repository, sharing the cluster and load balancer shop-shop."""
    from config import load_environments

    (environment,) = load_environments(ROOT / "examples" / "several-services")
    return dataclasses.replace(environment, ci=CiConfig(github_repository="acme/shop"))


@pytest.fixture(scope="module")
def shop_stacks(shop):
    return synth_variant(shop)


@pytest.fixture(scope="module")
def full_shop(shop):
    """shop with VPC endpoints and a lock table, as `both` (blue/green needs one [service])."""
    return dataclasses.replace(
        shop, network=dataclasses.replace(shop.network, vpc_endpoints=True),
        state=dataclasses.replace(shop.state, lock_table=True))


def stranger(environment, key="other"):
    """`environment` seen from a service it does not have, named as config/naming.py would."""
    from config import ServiceConfig

    services = {**environment.services,
                key: ServiceConfig(name=key, load_balanced=False, ecr_repository=True)}
    return dataclasses.replace(environment, services=services).focus(key)


def _in(environment, service, resource):
    """An ARN in the environment's region and the evaluated account."""
    return f"arn:aws:{service}:{environment.region}:{ACCOUNT}:{resource}"


def service_requests(environment, focused) -> list[tuple[str, str, dict]]:
    """(action, resource, context) of what applying app-<env> and releasing do to the focused
    service's own resources: its roles (created with the boundary, passed to ECS), task
    definition, ECS service, log group, alarms, version of record and release lock."""
    from constructs_lib.alarm_set import alarm_names

    names = focused.names
    boundary = {"iam:PermissionsBoundary": iam_arn(
        f"policy/{environment.names.permissions_boundary}")}
    roles = [iam_arn(f"role/{role}") for role in (names.task_role, names.execution_role)]
    return [
        *((action, role, boundary) for role in roles
          for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRole", "iam:TagRole")),
        *(("iam:PassRole", role, {"iam:PassedToService": "ecs-tasks.amazonaws.com"})
          for role in roles),
        *((action, _in(environment, "ecs", f"task-definition/{names.service}:7"), {})
          for action in ("ecs:TagResource", "ecs:UntagResource")),
        *((action, _in(environment, "ecs", f"service/{names.cluster}/{names.service}"), {})
          for action in ("ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService",
                         "ecs:TagResource")),
        *((action, _in(environment, "logs", f"log-group:{names.log_group}"), {})
          for action in ("logs:CreateLogGroup", "logs:PutRetentionPolicy",
                         "logs:DeleteLogGroup")),
        *(("cloudwatch:PutMetricAlarm",
           _in(environment, "cloudwatch", f"alarm:{names.service}-{alarm}"), {})
          for alarm in alarm_names(focused.service.load_balanced)),
        *((action, _in(environment, "ssm", f"parameter{parameter}"), {})
          for parameter in (names.image_parameter, names.release_lock_parameter)
          for action in ("ssm:PutParameter", "ssm:DeleteParameter")),
    ]


def test_several_services_the_deploy_role_manages_each_service_and_no_other(shop, shop_stacks):
    """Each service's roles, task definition, ECS service, log group, alarms and parameters,
    created, changed, deleted (roles passed to ECS); no service's that the config lacks."""
    held, _, _ = concrete(shop)
    deploy = held["deploy"]
    mine = [request for focused in shop.each_service()
            for request in service_requests(shop, focused)]
    refusals = [request for request in mine if not allowed(deploy, *request)]
    assert refusals == []
    # What the stacks make is what was asked about (names from config/naming.py, not respelled).
    app = shop_stacks["app-shop"]["resource"]
    asked = {resource for _, resource, _ in mine}
    made = [_in(shop, "ecs", f"service/{shop.names.cluster}/{one['name']}")
            for one in app["aws_ecs_service"].values()] + [
        _in(shop, "ecs", f"task-definition/{one['family']}:7")
        for one in app["aws_ecs_task_definition"].values()] + [
        _in(shop, "logs", f"log-group:{one['name']}")
        for one in app["aws_cloudwatch_log_group"].values()] + [
        _in(shop, "ssm", f"parameter{one['name']}") for one in app["aws_ssm_parameter"].values()
    ] + [_in(shop, "cloudwatch", f"alarm:{one['alarm_name']}")
         for one in app["aws_cloudwatch_metric_alarm"].values()] + [
        iam_arn(f"role/{one['name']}") for one in app["aws_iam_role"].values()]
    # Each of the two: service, family, log group, parameter, 2 roles; alarms 7 (API) + 3.
    assert len(set(made)) == 2 * 6 + 7 + 3 and set(made) <= asked
    # A service the config does not have: nothing of it.
    other = stranger(shop)
    granted = [request for request in service_requests(shop, other)
               if not refused(deploy, *request)]
    assert granted == []
    # Nor the worker's load balancer alarms (it has none).
    assert not allowed(deploy, "cloudwatch:PutMetricAlarm",
                       _in(shop, "cloudwatch", f"alarm:{shop.focus('worker').names.service}"
                                               "-alb-5xx"))


def test_many_services_spread_ci_policies_over_more_managed_policies_within_iam_quotas(
        full_shop):
    """IAM's quotas (a role's inline policies 10,240 characters in all, a managed policy 6,144,
    10 managed policies a role) hold however many services share the deploy role: past two
    or three, its statements go on in more managed policies (write-2, ...; read-2, ...), and it
    still does each service's work and none of a service the config lacks."""
    from constructs_lib.ci_policies import policy_size

    assert concrete(full_shop)[1]["deploy"].policies == ("read", "write")  # as it always was
    environment = many_services(full_shop, 14)
    held, roles, policies = concrete(environment)
    assert all(policy_size(statements) <= 6144 for _, statements in policies.values())
    assert policy_size(roles["deploy"].statements) <= 10240
    deploy, writes = roles["deploy"].policies, len(roles["deploy"].policies) - 2
    assert 3 <= writes and len(deploy) <= 10
    assert deploy == ("read", "read2", "write", *(f"write{n}" for n in range(2, writes + 1)))
    assert roles["plan"].policies == ("read", "read2")
    names = environment.names
    assert {name for key, (name, _) in policies.items() if key != "boundary"} == {
        names.ci_read_policy, f"{names.ci_read_policy}-2", names.ci_write_policy,
        *(f"{names.ci_write_policy}-{number}" for number in range(2, writes + 1))}
    mine = [request for focused in environment.each_service()
            for request in service_requests(environment, focused)]
    assert [request for request in mine if not allowed(held["deploy"], *request)] == []
    assert [request for request in service_requests(environment, stranger(environment))
            if not refused(held["deploy"], *request)] == []
    for focused in environment.each_service():  # each version of record, read by the plan role
        assert allowed(held["plan"], "ssm:GetParameter",
                       _in(environment, "ssm", f"parameter{focused.names.image_parameter}"))
    # The role may only read its policies' parts, as it may the policies themselves.
    (deny,) = [one for one in held["deploy"] if one["Sid"] == "NotCiAccess"]
    assert {iam_arn(f"policy/{names.ci_read_policy}-*"),
            iam_arn(f"policy/{names.ci_write_policy}-*")} <= set(deny["Resource"])


def test_too_many_services_for_iam_quotas_are_one_line_at_load(tmp_path):
    from config import ConfigError, load_environments

    text = (ROOT / "examples" / "several-services" / "shop.toml").read_text()
    text += "".join(f'\n[services.svc{number}]\nimage = "crccheck/hello-world:latest"\n'
                    f'ecr_repository = true\npath_patterns = ["/svc{number}/*"]\n'
                    for number in range(18))
    (tmp_path / "shop.toml").write_text(text + '\n[ci]\ngithub_repository = "acme/shop"\n')
    with pytest.raises(ConfigError) as error:
        load_environments(tmp_path)
    assert str(error.value) == (
        f"{tmp_path / 'shop.toml'}: services = 20: with CI access, their deploy role would need "
        "11 managed policies and IAM allows 10 a role; split the services over environments")
    (tmp_path / "shop.toml").write_text(text)  # without CI access there is no such role
    assert len(load_environments(tmp_path)[0].service_keys) == 20


def test_several_services_the_image_role_pushes_to_each_repository_it_owns(shop, shop_stacks):
    from constructs_lib.ci_policies import IMAGE_PUSH

    held, _, _ = concrete(shop)
    made = sorted(one["name"] for one in
                  shop_stacks["state-shop"]["resource"]["aws_ecr_repository"].values())
    assert made == sorted(one.names.repository for one in shop.each_service())
    assert len(made) == 2
    for name in made + [stranger(shop).names.repository, "hello-world/hello-world"]:
        repository = _in(shop, "ecr", f"repository/{name}")
        for action in IMAGE_PUSH:
            assert allowed(held["image"], action, repository) == (name in made), (action, name)
        # A release tags the image of each service (ecr:DescribeImages is a read of any).
        for action in ("ecr:BatchGetImage", "ecr:PutImage"):
            assert allowed(held["deploy"], action, repository) == (name in made), (action, name)


def test_several_services_share_one_cluster_and_load_balancer(shop, both):
    """The deploy role routes on the shared load balancer (the API's listener rule and target
    groups) and runs the shared cluster; not another's. One [service] adds no rules."""
    held, _, _ = concrete(shop)
    deploy, cluster = held["deploy"], shop.names.cluster
    ids = "50dc6c495c0c9188/f2f7dc8efc522ab2"
    tag = {"aws:ResourceTag/Environment": shop.name}
    for name, mine in ((cluster, True), ("api-shop", False), ("other-shop", False)):
        listener = _in(shop, "elasticloadbalancing", f"listener/app/{name}/{ids}")
        rule = _in(shop, "elasticloadbalancing", f"listener-rule/app/{name}/{ids}/9683b2d0")
        assert allowed(deploy, "elasticloadbalancing:CreateRule", listener) == mine, name
        for action in ("ModifyRule", "SetRulePriorities", "DeleteRule"):
            assert allowed(deploy, f"elasticloadbalancing:{action}", rule) == mine, (action, name)
        for action in ("ecs:CreateCluster", "ecs:UpdateCluster", "ecs:DeleteCluster"):
            assert allowed(deploy, action, _in(shop, "ecs", f"cluster/{name}")) == mine, action
    api = shop.focus("api").service.name
    for prefix, mine in ((api[:5], True), ("worke", False)):
        group = _in(shop, "elasticloadbalancing", f"targetgroup/{prefix}-2024/0123456789abcdef")
        assert allowed(deploy, "elasticloadbalancing:ModifyTargetGroup", group, tag) == mine
    one, _, _ = concrete(both["uat"])
    assert not allowed(one["deploy"], "elasticloadbalancing:CreateRule", _in(
        both["uat"], "elasticloadbalancing", f"listener/app/{both['uat'].names.cluster}/{ids}"))


def _concrete_arn(resource: str, app: dict, region: str) -> str:
    """A synthesized policy's resource with its references filled in as AWS would."""
    import re

    resource = resource.replace("${data.aws_partition.partition.partition}", "aws").replace(
        "${data.aws_caller_identity.account.account_id}", ACCOUNT)
    resource = re.sub(r"\$\{aws_cloudwatch_log_group\.(\w+)\.arn\}", lambda match: (
        f"arn:aws:logs:{region}:{ACCOUNT}:log-group:"
        + app["aws_cloudwatch_log_group"][match[1]]["name"]), resource)
    assert "${" not in resource, resource
    return resource


def test_several_services_roles_stay_within_the_boundary(shop):
    """Each service's roles carry the boundary, and it allows what their policies grant: the
    API's secret and the worker's ECS Exec (turned on here) included."""
    worker = dataclasses.replace(shop.services["worker"], enable_execute_command=True,
                                 read_only_root_filesystem=False)
    variant = dataclasses.replace(shop, services={**shop.services, "worker": worker})
    app = synth_variant(variant)["app-shop"]["resource"]
    _, _, policies = concrete(variant)
    (_, bounded) = policies["boundary"]
    boundary = (f"arn:${{data.aws_partition.partition.partition}}:iam::${{data.aws_caller_"
                f"identity.account.account_id}}:policy/{shop.names.permissions_boundary}")
    assert {role["permissions_boundary"] for role in app["aws_iam_role"].values()} == {boundary}
    sids = set()
    for document in app["aws_iam_role_policy"].values():
        for statement in decode(document["policy"])["Statement"]:
            sids.add(statement["Sid"])
            resources = statement["Resource"]
            for resource in [resources] if isinstance(resources, str) else resources:
                for action in _actions_of(statement):
                    assert allowed(bounded, action, _concrete_arn(resource, app, shop.region)), (
                        action, resource)
    assert {"ReadSecretParameters", "SessionChannels", "LogSessions"} <= sids
    for focused in shop.each_service():
        for role in (focused.names.task_role, focused.names.execution_role):
            assert allowed(bounded, "iam:PassRole", iam_arn(f"role/{role}"),
                           {"iam:PassedToService": "ecs-tasks.amazonaws.com"})


def test_several_services_the_plan_role_reads_each_version_of_record(shop):
    held, _, _ = concrete(shop)
    for focused in [*shop.each_service(), stranger(shop)]:
        for parameter in (focused.names.image_parameter, focused.names.release_lock_parameter):
            assert allowed(held["plan"], "ssm:GetParameter",
                           _in(shop, "ssm", f"parameter{parameter}")) == (
                focused.service_key in shop.services), parameter
