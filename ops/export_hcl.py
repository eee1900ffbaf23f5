"""Export every stack as plain Terraform HCL: the way to leave CDKTF (docs/cdktf-sunset.md).

    python -m ops hcl                               # every environment, into hcl/
    ENVIRONMENTS=uat python -m ops hcl --out DIR    # as main.py: only these environments

It runs `main.py` with `SYNTH_HCL_OUTPUT=true`, what `cdktf synth --hcl` does without the CLI:
the same construct tree, written by cdktf's own HCL synthesizer as `<out>/stacks/<stack>/cdk.tf`
(the jsii kernel reads the variable when it starts, hence a process of its own), then
`terraform fmt`. Each folder is an ordinary Terraform root module on the same backends and
addresses as the JSON in cdktf.out/: `terraform -chdir=hcl/stacks/network-uat init`, then
`plan`/`apply`. Keep the folder two levels below the project, as the default is: the state
stacks' local backend path is relative (`../../../terraform.state-<env>.tfstate`).
tests/test_export_hcl.py checks that every exported stack validates, and
tests/test_deploy_e2e.py that it plans the same resources and attributes as its JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ops.core import ROOT
from ops.core.synth import synthesize_hcl
from ops.core.terraform import terraform

DEFAULT_OUT = ROOT / "hcl"


def export(out: Path = DEFAULT_OUT, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess:
    """Write every stack of the environments main.py selects (`env`: default this process's
    environment) as HCL under `out`; main.py's exit code and stderr (its `error:` line)."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)  # cdktf creates only the last level
    result = synthesize_hcl(out, env)
    if result.returncode == 0:  # cdktf writes one attribute per line, unindented
        terraform(out, "fmt", "-recursive", "stacks", env=env)
    return result


def stack_files(out: Path) -> dict[str, Path]:
    """The HCL file of each stack in `out`, by stack name (from cdktf's manifest.json)."""
    manifest = json.loads(Path(out, "manifest.json").read_text())
    return {name: Path(out, stack["synthesizedStackPath"])
            for name, stack in manifest["stacks"].items()}


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops hcl` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="hcl")


if __name__ == "__main__":
    sys.exit(main())
