"""The commands of docs/going-to-aws.md that no workflow runs, run as written against the
emulator (tests/test_going_to_aws.py RUN_BY_E2E, in its order): the administrator's bootstrap
with CI access, the GitHub variables, cdktf's synth, a stale lock removed, `down --target aws`,
and the state stack's teardown, which also cleans up.

They run in a copy of the project whose only environment is uat under names no other module
uses (so the page's `--env uat` and `cdktf.out/stacks/state-uat` are run unchanged), with the
emulator's variables in the environment: `--target aws` takes AWS from there, as on a machine
with credentials."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import aws, uat_toml_named
from test_going_to_aws import RUN_BY_E2E

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
RUN = uuid.uuid4().hex[:6]
BUCKET = f"g2a{RUN}-tfstate"
PROJECT_FILES = ["main.py", "cdktf.json", "package.json", "package-lock.json", "Pipfile",
                 "Pipfile.lock", "config", "constructs_lib", "stacks", "ops", "lazy_provider_import",
                 "terraform"]


@pytest.fixture(scope="module")
def project(emulator, tmp_path_factory):
    """The copy, and run(line): runs a RUN_BY_E2E line there, in order, returning its output."""
    folder = tmp_path_factory.mktemp("going-to-aws")
    tracked = subprocess.run(["git", "ls-files", "-z", *PROJECT_FILES], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split("\0")
    for path in filter(None, tracked):
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, folder / path)
    for install in (".venv", "node_modules"):
        (folder / install).symlink_to((ROOT / install).resolve())
    uat = uat_toml_named(f"g2a{RUN}")
    providers = aws("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
    # The account's OIDC provider: made here unless another module's is there.
    uat += ('\n[ci]\ngithub_repository = "example/going-to-aws"\n'
            f'oidc_provider = "{"lookup" if providers else "create"}"\n')
    (folder / "environments").mkdir()
    (folder / "environments" / "uat.toml").write_text(uat)
    env = {key: value for key, value in os.environ.items()
           if key not in ("ENVIRONMENTS", "ENVIRONMENTS_DIR", "DEPLOY_TARGET", "ENV")}
    env.update(PIPENV_VENV_IN_PROJECT="1", PIPENV_VERBOSITY="-1", CI="1")
    ran = []

    def run(line: str, check: bool = True, **substitute: str) -> subprocess.CompletedProcess:
        assert line == RUN_BY_E2E[len(ran)], "RUN_BY_E2E's order"
        command = line
        for name, value in substitute.items():
            command = command.replace(name, value)
        result = subprocess.run(["bash", "-c", command], cwd=folder, env=env,
                                capture_output=True, text=True, timeout=900)
        assert not check or result.returncode == 0, result.stdout + result.stderr
        ran.append(line)
        return result

    run.folder, run.ran, run.made_provider = folder, ran, not providers
    yield run
    if not providers:  # made here: gone with the state stack, unless a test stopped before
        for provider in aws("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            aws("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])


def test_the_bootstrap_moves_the_state_into_its_bucket_and_creates_ci_access(project):
    output = project(RUN_BY_E2E[0]).stdout
    assert "state-uat" in output
    keys = [item["Key"] for item in aws("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["uat/state-uat.tfstate"]
    assert not (project.folder / "terraform.state-uat.tfstate").exists()
    assert aws("ecr").describe_repositories(
        repositoryNames=[f"g2a{RUN}/g2a{RUN}"])["repositories"]
    for kind in ("plan", "deploy", "image"):
        aws("iam").get_role(RoleName=f"g2a{RUN}-uat-github-{kind}")


def test_ci_access_prints_the_variables_the_workflows_read(project):
    output = project(RUN_BY_E2E[1]).stdout
    account = aws("sts").get_caller_identity()["Account"]
    assert output.split() == [
        f"AWS_PLAN_ROLE_ARN_UAT=arn:aws:iam::{account}:role/g2a{RUN}-uat-github-plan",
        f"AWS_DEPLOY_ROLE_ARN=arn:aws:iam::{account}:role/g2a{RUN}-uat-github-deploy",
        f"AWS_IMAGE_ROLE_ARN=arn:aws:iam::{account}:role/g2a{RUN}-uat-github-image"]


def test_cdktf_synth_writes_every_stack(project):
    project(RUN_BY_E2E[2])
    stacks = project.folder / "cdktf.out" / "stacks"
    assert sorted(path.name for path in stacks.iterdir()) == ["app-uat", "network-uat",
                                                              "state-uat"]


def test_a_stale_lock_is_removed_by_its_id_and_only_by_it(project):
    project(RUN_BY_E2E[3])
    key, lock_id = "uat/app-uat.tfstate.tflock", str(uuid.uuid4())
    aws("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps({
        "ID": lock_id, "Operation": "OperationTypeApply", "Info": "", "Who": "runner@ci",
        "Version": "1.11.4", "Created": "2026-12-01T10:00:00Z",
        "Path": f"{BUCKET}/uat/app-uat.tfstate"}))
    wrong = subprocess.run(
        ["terraform", "-chdir=cdktf.out/stacks/app-uat", "force-unlock", "-force",
         str(uuid.uuid4())], cwd=project.folder, capture_output=True, text=True, timeout=300)
    assert wrong.returncode != 0
    aws("s3").head_object(Bucket=BUCKET, Key=key)  # still there
    project(RUN_BY_E2E[4], LOCK_ID=lock_id)
    keys = [item["Key"] for item in aws("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert key not in keys


def test_down_on_aws_destroys_app_and_network_and_keeps_the_state_stack(project):
    output = project(RUN_BY_E2E[5]).stdout
    assert "state-uat kept: its bucket is protected by prevent_destroy" in output
    assert aws("s3").head_bucket(Bucket=BUCKET)


def test_the_administrator_destroys_the_state_stack(project):
    for line in RUN_BY_E2E[6:]:
        project(line)
    assert BUCKET not in [bucket["Name"] for bucket in aws("s3").list_buckets()["Buckets"]]
    roles = [role["RoleName"] for role in aws("iam").list_roles()["Roles"]]
    assert not [role for role in roles if role.startswith(f"g2a{RUN}-")]
    assert f"g2a{RUN}/g2a{RUN}" not in [
        repository["repositoryName"]
        for repository in aws("ecr").describe_repositories()["repositories"]]
    if project.made_provider:
        assert not aws("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]


def test_every_command_the_page_leaves_to_this_module_ran(project):
    assert project.ran == RUN_BY_E2E
