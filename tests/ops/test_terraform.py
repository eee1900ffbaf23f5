"""ops/terraform.py: the environment Terraform runs with, and reading what it printed, checked
against real Terraform runs of a configuration with only built-in `terraform_data` resources
(no provider to start, no AWS)."""

import json

import pytest

from ops.terraform import (GOGC, applied_counts, cli_environment, plan_text, planned_changes,
                           readable, terraform)


def test_terraform_runs_with_a_lazier_go_collector_unless_one_is_set():
    assert cli_environment({})["GOGC"] == GOGC == "400"
    assert cli_environment({"GOGC": "100"})["GOGC"] == "100"


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
