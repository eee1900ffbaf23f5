"""ops/export_hcl.py: every stack as HCL that Terraform validates (the plan comparison with the
JSON is in tests/test_deploy_e2e.py, with tests/hcl_equivalence.py)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import validate_together
from ops.export_hcl import stack_files

ROOT = Path(__file__).resolve().parent.parent
# cdktf 0.21 writes `depends_on` and `ignore_changes` entries as strings; Terraform still takes
# them, with this warning.
ACCEPTED_WARNINGS = {"Quoted references are deprecated"}


def export(out: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops.export_hcl", "--out", str(out)], cwd=ROOT,
                          env=dict(os.environ, **env), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, synthesized):
    out = tmp_path_factory.mktemp("export") / "hcl"
    result = export(out)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_every_stack_is_exported_as_hcl(exported, synthesized):
    out, stdout = exported
    files = stack_files(out)
    assert sorted(files) == sorted(synthesized.json)
    assert stdout.splitlines() == [f"{name}: {os.path.relpath(path)}"
                                   for name, path in sorted(files.items())]
    for name, path in files.items():
        text = path.read_text()
        assert text.startswith("terraform {"), name  # HCL, not JSON
        for kind in ("resource", "data"):
            for type_, blocks in synthesized.parsed(name).get(kind, {}).items():
                for block in blocks:
                    assert f'{kind} "{type_}" "{block}" {{' in text, (name, type_, block)
        # what cdktf 0.21's HCL drops or garbles (constructs_lib/cdktf_hcl.py)
        version = synthesized.parsed(name)["terraform"]["required_version"]
        assert f'  required_version = "{version}"' in text, name
        for removed in synthesized.parsed(name).get("removed", []):
            assert f"from = {removed['from']}" in text, (name, removed)
        for imported in synthesized.parsed(name).get("import", []):
            assert re.search(rf"^  to += {re.escape(imported['to'])}$", text, re.M), name
        for variable, config in synthesized.parsed(name).get("variable", {}).items():
            if "default" in config:
                block = text[text.index(f'variable "{variable}" {{'):]
                assert re.search(rf"^  default += {json.dumps(config['default'])}$",
                                 block[:block.index("\n}")], re.M), (name, variable)

def test_every_exported_stack_validates(exported, tmp_path):
    out, _ = exported
    files = stack_files(out)
    found = validate_together([path.parent for path in files.values()], tmp_path / "validate")
    assert sorted(found) == sorted([*files, ""])
    for name, diagnostics in found.items():
        assert [d for d in diagnostics if d["severity"] == "error"] == [], name
        warnings = {d["summary"] for d in diagnostics if d["severity"] == "warning"}
        assert warnings <= ACCEPTED_WARNINGS, name


def test_an_unknown_environment_is_one_line(tmp_path):
    result = export(tmp_path / "hcl", ENVIRONMENTS="staging")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ENVIRONMENTS = 'staging': unknown environment")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "hcl" / "stacks").exists()
