"""The bootstrap end to end on the local emulator: state stacks with CI access applied with a
local state that then moves into the bucket they made, re-planned clean; an interrupted bootstrap
resumed; the role ARNs read back for GitHub; and the preview plan of an environment whose bucket
does not exist yet. Names are unique to this run (project, buckets, environments), so the module
runs beside the other e2e modules."""

import dataclasses
import json
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from config import CiConfig
from helpers import aws, deployable, many_services, resource_count
from ops.ci_access import github_variables
from ops.core.runner import BOOTSTRAP_OVERRIDE, Runner
from ops import plan as ops_plan

pytestmark = pytest.mark.e2e
RUN = uuid.uuid4().hex[:6]
REPO = "acme/hello-world"
OIDC_URL = "token.actions.githubusercontent.com"
ROOT = Path(__file__).resolve().parent.parent


def variant(environments, name: str, cidr: str, service: dict | None = None, **ci):
    """uat under another name, with names no other test module uses."""
    uat = environments["uat"]
    return dataclasses.replace(
        uat, name=name, project=f"ci{RUN}",
        state=dataclasses.replace(uat.state, bucket=f"ci{RUN}-{name}-tfstate"),
        network=dataclasses.replace(uat.network, vpc_name=f"ci{RUN}-{name}-vpc", cidr=cidr),
        service=dataclasses.replace(uat.service, **(service or {})),
        ci=CiConfig(github_repository=REPO, **ci))


def synthesized(environment, folder) -> Runner:
    return deployable(environment, folder / "cdktf.out")


def tf(deployment, stack, *args):
    return deployment.terraform(stack, *args, "-no-color")


@pytest.fixture(scope="module")
def owner(environments, emulator, tmp_path_factory):
    """An environment that creates the account's OIDC provider, bootstrapped."""
    deployment = synthesized(variant(environments, "cia", "10.50.0.0/16"),
                             tmp_path_factory.mktemp("owner"))
    result = deployment.apply("state-cia")
    yield deployment, result
    for arn in aws("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        aws("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=arn["Arn"])


@pytest.fixture(scope="module")
def follower(environments, owner, tmp_path_factory):
    """An environment that looks the provider up, whose bootstrap stopped after the apply and
    before its state moved (what Ctrl-C or a lost connection leaves), then run again."""
    # It runs images from the owner's repository (the same project's), as prod does uat's.
    deployment = synthesized(variant(environments, "cib", "10.51.0.0/16", service={
        "ecr_repository": False, "ecr_repository_owner": "cia"}, oidc_provider="lookup"),
        tmp_path_factory.mktemp("follower"))
    local = deployment.bootstrap_state_file("state-cib")
    with deployment.local_backend("state-cib", local):
        assert tf(deployment, "state-cib", "init", "-input=false").returncode == 0
        applied = tf(deployment, "state-cib", "apply", "-auto-approve", "-input=false")
        assert applied.returncode == 0, applied.stdout + applied.stderr
    assert local.exists()
    return deployment, deployment.apply("state-cib")


@pytest.fixture(scope="module")
def crowd(owner, tmp_path_factory):
    """Twelve services with CI access (examples/several-services, ten more like its API),
    bootstrapped: their deploy role's statements exceed one inline policy and one write policy,
    and the emulator refuses a policy past IAM's quotas as AWS does."""
    from config import load_environments

    (shop,) = load_environments(ROOT / "examples" / "several-services")
    environment = dataclasses.replace(
        many_services(shop, 12), name="cid", project=f"ci{RUN}",
        state=dataclasses.replace(shop.state, bucket=f"ci{RUN}-cid-tfstate"),
        network=dataclasses.replace(shop.network, vpc_name=f"ci{RUN}-cid-vpc"),
        ci=CiConfig(github_repository=REPO, oidc_provider="lookup"))
    deployment = synthesized(environment, tmp_path_factory.mktemp("crowd"))
    return deployment, deployment.apply("state-cid")


def test_many_services_bootstrap_ci_access_within_iam_quotas(crowd):
    deployment, result = crowd
    assert result.changes["add"] == resource_count(deployment, "state-cid")
    names = deployment.environment.names
    deploy = deployment.environment.ci_role_names["deploy"]
    attached = sorted(policy["PolicyName"] for policy in aws("iam").list_attached_role_policies(
        RoleName=deploy)["AttachedPolicies"])
    assert names.ci_write_policy in attached and f"{names.ci_write_policy}-2" in attached
    assert len(attached) <= 10
    for name in aws("iam").list_role_policies(RoleName=deploy)["PolicyNames"]:
        document = aws("iam").get_role_policy(RoleName=deploy, PolicyName=name)["PolicyDocument"]
        assert len(json.dumps(document, separators=(",", ":"))) <= 10240


def test_the_bootstrap_moves_its_state_into_the_bucket_it_made(owner):
    deployment, result = owner
    total = resource_count(deployment, "state-cia")
    assert result.migrated and result.changes["add"] == total
    assert not deployment.bootstrap_state_file("state-cia").exists()
    assert not (deployment.stack_dir("state-cia") / BOOTSTRAP_OVERRIDE).exists()
    state = json.loads(aws("s3").get_object(Bucket=deployment.environment.state.bucket,
                                            Key="cia/state-cia.tfstate")["Body"].read())
    assert len(state["resources"]) == total + 2  # and the partition and account data sources
    listed = tf(deployment, "state-cia", "state", "list").stdout.split()
    assert "aws_iam_openid_connect_provider.ci_access_github_oidc_provider" in listed


def test_an_interrupted_bootstrap_resumes_and_moves_the_state(follower):
    deployment, result = follower
    assert result.migrated and result.changes == {}
    assert not deployment.bootstrap_state_file("state-cib").exists()
    assert len(tf(deployment, "state-cib", "state", "list").stdout.split()) == resource_count(
        deployment, "state-cib") + 3  # partition, account, the provider looked up


def test_bootstrapped_state_stacks_replan_clean_with_the_plain_cli(owner, follower):
    for deployment, _ in (owner, follower):
        stack = deployment.environment.stack_names["state"]
        assert tf(deployment, stack, "init", "-input=false").returncode == 0
        plan = tf(deployment, stack, "plan", "-detailed-exitcode", "-input=false")
        assert plan.returncode == 0, plan.stdout + plan.stderr
        again = deployment.apply(stack)
        assert (again.changes, again.migrated) == ({}, False)


def test_the_roles_trust_exactly_this_repository_and_run_kind(owner, follower):
    (provider,) = aws("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"].endswith(f":oidc-provider/{OIDC_URL}")
    assert aws("iam").get_open_id_connect_provider(
        OpenIDConnectProviderArn=provider["Arn"])["ClientIDList"] == ["sts.amazonaws.com"]
    for deployment, _ in (owner, follower):
        environment = deployment.environment
        subjects = {"plan": [f"repo:{REPO}:pull_request", f"repo:{REPO}:ref:refs/heads/main"],
                    "deploy": f"repo:{REPO}:environment:{environment.name}",
                    "image": f"repo:{REPO}:ref:refs/heads/main"}
        for kind, name in environment.ci_role_names.items():
            role = aws("iam").get_role(RoleName=name)["Role"]
            assert role["AssumeRolePolicyDocument"]["Statement"] == [{
                "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": provider["Arn"]},
                "Condition": {"StringEquals": {f"{OIDC_URL}:aud": "sts.amazonaws.com",
                                               f"{OIDC_URL}:sub": subjects[kind]}}}]


def test_the_github_variables_name_the_roles(owner):
    deployment, _ = owner
    names = deployment.environment.ci_role_names
    assert github_variables(deployment) == {
        f"AWS_PLAN_ROLE_ARN_{deployment.environment.name.upper()}":
            f"arn:aws:iam::123456789012:role/{names['plan']}",
        "AWS_DEPLOY_ROLE_ARN": f"arn:aws:iam::123456789012:role/{names['deploy']}",
        "AWS_IMAGE_ROLE_ARN": f"arn:aws:iam::123456789012:role/{names['image']}"}


def test_an_environment_without_a_bucket_gets_a_preview_of_every_stack(environments, emulator,
                                                                       tmp_path):
    """ops.plan's preview (the one of the suite: CI on, images from another environment's
    repository, so the lookups of the network, the OIDC provider and the repository are all
    deferred)."""
    deployment = synthesized(variant(environments, "cic", "10.52.0.0/16", service={
        "ecr_repository": False, "ecr_repository_owner": "cia"}, oidc_provider="lookup"),
        tmp_path)
    out = tmp_path / "plans"
    code, plans, summary = ops_plan.plan(deployment.environment, deployment.env, out,
                                         deployment.outdir, synth=False)
    assert code == ops_plan.CHANGES
    assert [(p.stack, p.status) for p in plans] == [
        ("state-cic", "preview"), ("network-cic", "preview"), ("app-cic", "preview")], \
        [ops_plan.describe(plan) for plan in plans]
    for stack_plan in plans:
        # Everything the stack declares is to be created: the app's lookups of the network
        # are deferred, not failed.
        assert stack_plan.counts == {"add": resource_count(deployment, stack_plan.stack),
                                     "change": 0, "destroy": 0}, stack_plan.stack
        assert stack_plan.plan_file is None  # a preview is never applied
        shown = json.loads((out / f"{stack_plan.stack}.json").read_text())
        assert ops_plan.PREVIEW_PLACEHOLDER not in {c["address"]
                                                    for c in shown["resource_changes"]}
        # Resources are created; data sources (deferred in a preview) are read at apply.
        assert {(c["mode"], tuple(c["change"]["actions"])) for c in shown["resource_changes"]
                } <= {("managed", ("create",)), ("data", ("read",))}
        # The text counts what the table counts (the placeholder that defers lookups is not
        # shown).
        assert ("Plan: {add} to add, {change} to change, {destroy} to destroy.".format(
            **stack_plan.counts)) in stack_plan.text, stack_plan.stack
        assert ops_plan.PREVIEW_PLACEHOLDER not in stack_plan.text
    assert sorted(path.name for path in out.iterdir()) == [  # no plan to apply
        "app-cic.changes.json", "app-cic.json", "network-cic.changes.json", "network-cic.json",
        "state-cic.changes.json", "state-cic.json", "summary.md"]
    text = summary.read_text()
    assert text.startswith(ops_plan.marker("cic"))
    assert "Preview: the state bucket does not exist yet; nothing here can be applied." in text
    assert "| `app-cic` | preview |" in text
    # Who may assume the task roles and what reaches the load balancer come first.
    security = text.index("### Security-relevant changes")
    assert security < text.index("| stack |")
    assert "`ecs-tasks.amazonaws.com`" in text[security:text.index("| stack |")]
    assert ".tfplan" not in text
    assert f"- **preview** (every stack marked so): state bucket " \
        f"'{deployment.environment.state.bucket}' does not exist yet" in text
    assert "<details><summary>app-cic: preview" in text
    with pytest.raises(ClientError):  # nothing was created
        aws("s3").head_bucket(Bucket=deployment.environment.state.bucket)
    assert not aws("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [f"ci{RUN}-cic-vpc"]}])["Vpcs"]
