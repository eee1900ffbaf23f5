"""ops/environments.py and the delivery order it lists (config/__init__.py,
`[delivery] promote_from`): order, validation with one line, exit 2."""

import json
import shutil
from pathlib import Path

import pytest

from config import ConfigError, load_environments
from ops import environments as listing

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def folder(tmp_path):
    copied = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", copied)
    return copied


def add_environment(folder, name, cidr, promote_from=None):
    text = (folder / "uat.toml").read_text()
    for old, new in (('"10.0.0.0/16"', f'"{cidr}"'), ('"uat-vpc"', f'"{name}-vpc"'),
                     ('"hello-world-uat-tfstate"', f'"hello-world-{name}-tfstate"'),
                     # uat creates the image repository; a copy shares it.
                     ("ecr_repository = true", 'ecr_repository_owner = "uat"')):
        text = text.replace(old, new)
    if promote_from is not None:
        text += f'\n[delivery]\npromote_from = "{promote_from}"\n'
    (folder / f"{name}.toml").write_text(text)


def set_promote_from(folder, name, source):
    path = folder / f"{name}.toml"
    text = path.read_text().split("\n[delivery]")[0]
    path.write_text(text + f'\n[delivery]\npromote_from = "{source}"\n')


def names(folder):
    return [entry["name"] for entry in listing.matrix(folder)["include"]]


def test_the_shipped_environments_go_uat_then_prod(capsys):
    assert listing.main([]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "uat              ap-south-1       new build",
        "prod             ap-south-1       promoted from uat"]
    assert listing.main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"include": [
        {"name": "uat", "region": "ap-south-1", "promote_from": "",
         "plan_role_variable": "AWS_PLAN_ROLE_ARN_UAT"},
        {"name": "prod", "region": "ap-south-1", "promote_from": "uat",
         "plan_role_variable": "AWS_PLAN_ROLE_ARN_PROD"}]}


def test_order_follows_promote_from_and_the_rest_go_by_name(folder):
    add_environment(folder, "staging", "10.2.0.0/16", promote_from="uat")
    add_environment(folder, "dev", "10.3.0.0/16")
    set_promote_from(folder, "prod", "staging")
    assert names(folder) == ["dev", "uat", "staging", "prod"]


@pytest.mark.parametrize("edit, message", [
    (lambda f: set_promote_from(f, "prod", "qa"),
     "environments/prod.toml: delivery.promote_from = 'qa': unknown environment; allowed: uat, "
     "or empty"),
    (lambda f: set_promote_from(f, "prod", "prod"),
     "environments/prod.toml: delivery.promote_from = 'prod': unknown environment; allowed: uat, "
     "or empty"),
    (lambda f: set_promote_from(f, "uat", "prod"),
     "delivery.promote_from: a cycle, each promoting to the next: "),
    (lambda f: set_promote_from(f, "uat", "Prod!"),
     "delivery.promote_from = 'Prod!': another environment's name, or empty for the new build"),
])
def test_a_bad_promote_from_is_one_line_and_exit_2(folder, capsys, edit, message):
    edit(folder)
    with pytest.raises(ConfigError) as error:
        load_environments(folder)
    assert message in str(error.value)
    assert listing.main(["--dir", str(folder), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: ") and message in captured.err


def test_a_cycle_names_its_environments(folder, capsys):
    add_environment(folder, "staging", "10.2.0.0/16", promote_from="prod")
    set_promote_from(folder, "uat", "staging")
    assert listing.main(["--dir", str(folder)]) == 2
    err = capsys.readouterr().err
    cycle = err.split("next: ")[1].split(";")[0].split(" -> ")
    assert cycle[0] == cycle[-1] and set(cycle) == {"uat", "prod", "staging"}


def test_github_output_needs_the_variable(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    assert listing.main(["--github-output"]) == 2
    assert capsys.readouterr().err == ("error: --github-output: GITHUB_OUTPUT is not set "
                                       "(GitHub Actions sets it)\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    (tmp_path / "out").write_text("earlier=1\n")
    assert listing.main(["--github-output"]) == 0
    lines = (tmp_path / "out").read_text().splitlines()
    assert lines[0] == "earlier=1" and lines[2] == "first=uat"
    assert json.loads(lines[1].removeprefix("matrix="))["include"][1]["name"] == "prod"
