"""Every cdktf command in docs/delivery.md, run as written (plus --auto-approve where it would ask,
and --output into tmp_path) against the local emulator, with the telemetry switch unset: the
`npm run cdktf --` wrapper must silence it. The environment is uat under names no other module
uses, so the stack names are the doc's."""

import os
import re
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import aws, uat_toml_named

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "delivery.md").read_text()
COMMANDS = re.findall(r"^\s*(npm run cdktf -- .+?)\s*$", DOC, re.M)
RUN = uuid.uuid4().hex[:6]


def test_the_docs_document_deploy_diff_and_destroy():
    assert COMMANDS == ["npm run cdktf -- deploy network-uat app-uat",
                        "npm run cdktf -- diff app-uat",
                        "npm run cdktf -- destroy app-uat network-uat"]
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        # The bare CLI prints telemetry errors offline: only with CHECKPOINT_DISABLE=1.
        for line in page.read_text().splitlines():
            assert "npx cdktf" not in line or "CHECKPOINT_DISABLE=1 npx cdktf" in line, page


@pytest.fixture(scope="module")
def cli(emulator, tmp_path_factory):
    """Runs a documented command in the project folder on a uat with unique names."""
    folder = tmp_path_factory.mktemp("cdktf-cli")
    (folder / "environments").mkdir()
    (folder / "environments" / "uat.toml").write_text(uat_toml_named(f"cli{RUN}"))
    # The state stack's bootstrap is ops.deploy's (tests/test_ci_access_e2e.py); cdktf needs only
    # the bucket to exist.
    aws("s3").create_bucket(Bucket=f"cli{RUN}-tfstate",
                            CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    env = {key: value for key, value in os.environ.items()
           if key not in ("CHECKPOINT_DISABLE", "TF_CLI_CONFIG_FILE")}
    env.update(ENVIRONMENTS_DIR=str(folder / "environments"), PIPENV_VENV_IN_PROJECT="1",
               PIPENV_VERBOSITY="-1", CI="1")

    def run(command: str) -> str:
        extra = ["--output", str(folder / "cdktf.out")]
        if command.split()[4] in ("deploy", "destroy"):
            extra.append("--auto-approve")
        result = subprocess.run(shlex.split(command) + extra, cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=900)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "ENOTFOUND" not in output and "[ERROR]" not in output, output
        return output

    return run


def vpcs():
    return aws("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [f"cli{RUN}-vpc"]}])["Vpcs"]


def test_deploy_creates_network_and_app_without_the_state_stack(cli):
    output = cli(COMMANDS[0])
    assert "state-uat" not in output
    assert len(vpcs()) == 1
    (service,) = aws("ecs").describe_services(cluster=f"cli{RUN}-uat",
                                              services=[f"cli{RUN}-uat"])["services"]
    assert service["status"] == "ACTIVE"


def test_diff_after_deploy_shows_no_changes(cli):
    assert "No changes" in cli(COMMANDS[1])


def test_destroy_removes_app_and_network(cli):
    cli(COMMANDS[2])
    assert vpcs() == []
    assert [c for c in aws("ecs").describe_clusters(clusters=[f"cli{RUN}-uat"])["clusters"]
            if c["status"] == "ACTIVE"] == []
