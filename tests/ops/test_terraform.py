"""ops/terraform.py: the environment Terraform runs with, and reading what it printed, checked
against real Terraform runs of a configuration with only built-in `terraform_data` resources
(no provider to start, no AWS)."""

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ops import terraform as provider
from ops.core import terraform as tf
from ops.core.planned import planned_changes
from ops.core.terraform import (GOGC, MirrorError, applied_counts, cli_environment,
                                mirror_in_use, plan_text, readable, terraform)
from ops.terraform import unpack_mirror


def test_terraform_runs_with_a_lazier_go_collector_unless_one_is_set():
    assert cli_environment({})["GOGC"] == GOGC == "400"
    assert cli_environment({"GOGC": "100"})["GOGC"] == "100"


# --- The provider mirror: hashicorp/aws once per machine, linked into every init folder --------

PLATFORM_FOLDER = "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"


def fake_mirror(folder: Path) -> Path:
    """An unpacked mirror holding a stand-in hashicorp/aws 5.100.0 (never run: init only
    installs it)."""
    provider = folder / PLATFORM_FOLDER / "terraform-provider-aws_v5.100.0_x5"
    provider.parent.mkdir(parents=True)
    provider.write_text("#!/bin/sh\nexit 1\n")
    provider.chmod(0o755)
    return folder


@pytest.fixture
def mirrors(tmp_path, monkeypatch):
    """The project's and the machine's mirror locations as empty temporary folders."""
    found = {"project": tmp_path / "project" / "terraform" / "providers",
             "machine": tmp_path / "opt" / "tf-plugins"}
    monkeypatch.setattr(tf, "PROJECT_MIRROR", found["project"])
    monkeypatch.setattr(tf, "SYSTEM_MIRROR", found["machine"])
    return found


def chosen(env: dict) -> str | None:
    """The mirror folder the CLI config cli_environment(env) selects names, or None."""
    config = cli_environment(env).get("TF_CLI_CONFIG_FILE")
    if config is None:
        return None
    assert mirror_in_use({"TF_CLI_CONFIG_FILE": config})
    text = Path(config).read_text()
    return next(line.split("=", 1)[1].strip().strip('"') for line in text.splitlines()
                if line.strip().startswith("path"))


def test_the_project_mirror_wins_over_the_machines_and_the_named_one_over_both(mirrors,
                                                                              tmp_path):
    assert chosen({}) is None  # no mirror: the registry, as usual
    fake_mirror(mirrors["machine"])
    assert chosen({}) == str(mirrors["machine"])
    fake_mirror(mirrors["project"])
    assert chosen({}) == str(mirrors["project"])
    named = fake_mirror(tmp_path / "runner-cache")
    assert chosen({"TF_PROVIDER_MIRROR": str(named)}) == str(named)
    own = tmp_path / "own.tfrc"
    own.write_text("")
    assert cli_environment({"TF_CLI_CONFIG_FILE": str(own),
                            "TF_PROVIDER_MIRROR": str(named)})["TF_CLI_CONFIG_FILE"] == str(own)
    assert not mirror_in_use({"TF_CLI_CONFIG_FILE": str(own)})


def test_the_machines_mirror_uses_the_committed_cli_config(mirrors, monkeypatch):
    monkeypatch.setattr(tf, "SYSTEM_MIRROR", Path("/opt/tf-plugins"))
    if not tf.holds_provider(Path("/opt/tf-plugins")):
        pytest.skip("this machine has no /opt/tf-plugins")
    assert cli_environment({})["TF_CLI_CONFIG_FILE"] == str(tf.MIRROR_CLI_CONFIG)


def test_a_named_mirror_without_the_provider_is_one_line_naming_it(mirrors, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MirrorError) as error:
        cli_environment({"TF_PROVIDER_MIRROR": str(tmp_path / "empty")})
    assert str(error.value) == (
        f"TF_PROVIDER_MIRROR={tmp_path / 'empty'}: no hashicorp/aws in it (want "
        "registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_* "
        "under it); fill it with `terraform providers mirror` and unzip, or unset it")


def test_init_links_the_provider_from_the_mirror_instead_of_copying_it(mirrors, tmp_path):
    fake_mirror(mirrors["project"])
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": {
        "aws": {"source": "aws", "version": "5.100.0"}}}}))
    env = {key: value for key, value in os.environ.items() if key != "TF_CLI_CONFIG_FILE"}
    terraform(folder, "init", "-input=false", "-backend=false", env=env)
    installed = folder / ".terraform" / "providers" / PLATFORM_FOLDER
    assert installed.is_symlink()
    assert installed.resolve() == (mirrors["project"] / PLATFORM_FOLDER).resolve()


def test_a_packed_mirror_unpacks_into_the_layout_terraform_links_from(tmp_path):
    packed = tmp_path / "packed" / "registry.terraform.io" / "hashicorp" / "aws"
    packed.mkdir(parents=True)
    with zipfile.ZipFile(packed / "terraform-provider-aws_5.100.0_linux_amd64.zip", "w") as zip_:
        zip_.writestr("terraform-provider-aws_v5.100.0_x5", "#!/bin/sh\n")
        zip_.writestr("LICENSE.txt", "MPL-2.0\n")
    (packed / "index.json").write_text("{}")  # the network-mirror index: not a package

    written = unpack_mirror(tmp_path / "packed", tmp_path / "unpacked")
    assert written == [tmp_path / "unpacked" / PLATFORM_FOLDER]
    provider = written[0] / "terraform-provider-aws_v5.100.0_x5"
    assert provider.stat().st_mode & stat.S_IXUSR
    assert sorted(path.name for path in written[0].iterdir()) == [
        "LICENSE.txt", "terraform-provider-aws_v5.100.0_x5"]
    assert tf.holds_provider(tmp_path / "unpacked")


def test_make_provider_mirrors_what_the_stacks_require_and_unpacks_it(mirrors, tmp_path,
                                                                     monkeypatch):
    """No mirror anywhere: `terraform providers mirror` (here a stand-in writing the packed
    package it would download) in a synthesized stack, unpacked into the project's mirror."""
    stack = tmp_path / "cdktf.out" / "stacks" / "state-uat"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text(f"""#!{sys.executable}
import sys, zipfile
from pathlib import Path
assert sys.argv[1:3] == ["providers", "mirror"], sys.argv
folder = Path(sys.argv[3]) / "registry.terraform.io" / "hashicorp" / "aws"
folder.mkdir(parents=True)
with zipfile.ZipFile(folder / "terraform-provider-aws_5.100.0_linux_amd64.zip", "w") as zip_:
    zip_.writestr("terraform-provider-aws_v5.100.0_x5", "#!/bin/sh\\n")
Path(sys.argv[0]).with_name("ran-in").write_text(str(Path.cwd()))
""")
    (bin_dir / "terraform").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("TF_PROVIDER_MIRROR", raising=False)
    said = []

    assert provider.fill_project_mirror(said.append, outdir=tmp_path / "cdktf.out") == \
        mirrors["project"]
    assert (bin_dir / "ran-in").read_text() == str(stack)
    assert (mirrors["project"] / PLATFORM_FOLDER / "terraform-provider-aws_v5.100.0_x5").stat(
        ).st_mode & stat.S_IXUSR
    assert chosen({}) == str(mirrors["project"])
    assert said[-1] == f"unpacked {mirrors['project'] / PLATFORM_FOLDER}"
    assert [path.name for path in mirrors["project"].parent.iterdir()] == ["providers"]

    provider.fill_project_mirror(said.append, outdir=tmp_path / "cdktf.out")  # now: nothing to do
    assert said[-1].endswith(f"mirror at {mirrors['project']}; nothing to do")


def test_make_provider_does_nothing_where_a_mirror_is_there():
    """Here /opt/tf-plugins (or the project's) holds the provider: no registry, no synth."""
    if tf.provider_mirror({}) is None:
        pytest.skip("no provider mirror on this machine")
    run = subprocess.run([sys.executable, "-m", "ops.terraform", "provider"], cwd=tf.ROOT,
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TF_PROVIDER_MIRROR": ""})
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == (f"hashicorp/aws: Terraform installs it from the mirror at "
                          f"{tf.provider_mirror({})}; nothing to do\n")


@pytest.fixture
def stack(tmp_path):
    def write(**resources):
        (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {
            name: {"input": value} for name, value in resources.items()}}}))
        return tmp_path

    return write


def planned(folder) -> list:
    return sorted(planned_changes(terraform(folder, "plan", "-input=false", "-json").stdout))


def applied(folder) -> dict:
    return applied_counts(terraform(folder, "apply", "-input=false", "-no-color",
                                    "-auto-approve").stdout)


def test_planned_changes_and_the_counts_of_an_apply(stack):
    folder = stack(kept="a", changed="b")
    terraform(folder, "init", "-input=false")
    assert planned(folder) == [("terraform_data.changed", "terraform_data", "create"),
                               ("terraform_data.kept", "terraform_data", "create")]
    assert applied(folder) == {"add": 2, "change": 0, "destroy": 0}

    stack(kept="a", changed="c", added="d")
    assert planned(folder) == [("terraform_data.added", "terraform_data", "create"),
                               ("terraform_data.changed", "terraform_data", "update")]
    assert applied(folder) == {"add": 1, "change": 1, "destroy": 0}

    stack(kept="a")
    assert applied(folder) == {"add": 0, "change": 0, "destroy": 2}
    assert applied(folder) == {}
    assert planned(folder) == []


def test_an_apply_output_without_its_summary_is_an_error():
    with pytest.raises(ValueError, match="no 'Apply complete! Resources: ...' line"):
        applied_counts("Error: something failed\n")


def test_a_plans_own_output_reads_as_show_of_its_file(stack):
    folder = stack(one="a")
    terraform(folder, "init", "-input=false")
    terraform(folder, "apply", "-input=false", "-auto-approve")
    stack(one="b", two="c")
    printed = terraform(folder, "plan", "-input=false", "-no-color", "-out=p.tfplan").stdout
    assert "terraform_data.one: Refreshing state... [id=" in printed
    assert plan_text(printed) == terraform(folder, "show", "-no-color", "p.tfplan").stdout


def test_json_diagnostics_read_as_terraform_prints_them_for_people(stack):
    folder = stack(one="a")
    (folder / "broken.tf.json").write_text(json.dumps({"output": {"x": {"value": "${nope}"}}}))
    terraform(folder, "init", "-input=false")
    failed = terraform(folder, "plan", "-input=false", "-json", check=False)
    assert failed.returncode == 1
    text = readable(failed.stdout + failed.stderr)
    assert "Error: Invalid reference" in text.splitlines()
    assert "{" not in text
