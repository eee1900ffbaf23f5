"""The core every ops command uses; one room per concern:

- `terraform`: the Terraform CLI's environment (provider mirror) and one subprocess call;
- `runner`: Terraform runs for an environment's stacks (init, plan, apply, show, output,
  destroy; saved plans, the stale-plan and other-synth refusals, the state stack's bootstrap);
- `synth`: synthesis, cached by its inputs;
- `synthesized`: the one reader of what was synthesized (cdk.tf.json: resources, backend,
  outputs);
- `planned`: the one reader of a plan's changes (`show -json`, `plan -json`, a saved plan);
- `environments`: the environment files, loaded and selected.

Errors are ops/errors.py's (OpsError, Failed, Refused, BadInput).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project
OUTDIR = ROOT / "cdktf.out"  # where stacks are synthesized, one folder each under stacks/
