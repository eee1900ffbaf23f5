"""Synthesis: an environment's stacks written as Terraform JSON into `<outdir>/stacks/<stack>/`,
skipped when the same inputs wrote them already and they are unchanged since. The HCL export
(synthesize_hcl) is the one other way: cdktf's HCL synthesizer needs a process of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping

from config import EnvironmentConfig
from ops.core import OUTDIR, ROOT
from ops.core.synthesized import stack_file
from ops.errors import Failed

# What a synth's output depends on besides the environment's config: the config's code (names,
# defaults), the construct code, the entry point, the locked library versions (and the
# interpreter, added in _inputs).
SOURCES = ("main.py", "config", "constructs_lib", "stacks", "Pipfile.lock")


class SynthFailed(Failed):
    """The synth stopped before writing anything (e.g. the fast provider import failed)."""


def _inputs(environment: EnvironmentConfig) -> str:
    digest = hashlib.sha256(f"{sys.version}\0{environment!r}".encode())
    for source in SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(f"\0{file.relative_to(ROOT)}\0".encode() + file.read_bytes())
    return digest.hexdigest()


def _outputs(environment: EnvironmentConfig, outdir: Path) -> str | None:
    digest = hashlib.sha256()
    for stack in environment.stack_names.values():
        written = stack_file(stack, outdir)
        if not written.is_file():
            return None
        digest.update(written.read_bytes())
    return digest.hexdigest()


def synthesize(environment: EnvironmentConfig, outdir: Path = OUTDIR,
               reuse: bool = False) -> bool:
    """Write `environment`'s stacks into outdir/stacks; False when reuse found them already
    written from the same inputs (config, SOURCES) and unchanged since, and skipped it."""
    stamp = Path(outdir) / f".synth-{environment.name}.json"
    inputs = _inputs(environment)
    if reuse and stamp.is_file() and json.loads(stamp.read_text()) == {
            "inputs": inputs, "outputs": _outputs(environment, outdir)}:
        return False
    stamp.unlink(missing_ok=True)
    import main
    from lazy_provider_import import FastImportError

    try:
        main.synth([environment], str(outdir))
    except FastImportError as error:
        raise SynthFailed(str(error)) from error
    stamp.write_text(json.dumps({"inputs": inputs, "outputs": _outputs(environment, outdir)}))
    return True


def synthesize_hcl(out: Path, env: Mapping[str, str] | None = None
                   ) -> subprocess.CompletedProcess:
    """main.py run with SYNTH_HCL_OUTPUT=true (what `cdktf synth --hcl` does without the CLI:
    the jsii kernel reads the variable when it starts, hence a process of its own), writing
    `<out>/stacks/<stack>/cdk.tf` for the environments main.py selects ($ENVIRONMENTS in
    `env`, default this process's environment); its exit code and stderr (its `error:` line)."""
    env = dict(os.environ if env is None else env, SYNTH_HCL_OUTPUT="true", CDKTF_OUTDIR=str(out))
    return subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
