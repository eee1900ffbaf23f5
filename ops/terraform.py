"""`make provider`: fill the project's provider mirror (terraform/providers/), unless a mirror is
already there. Running Terraform itself is ops/core/terraform.py's.

    python -m ops provider
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from ops.core import OUTDIR, environments
from ops.core import terraform as core
from ops.core.synth import synthesize
from ops.core.synthesized import stack_dir, synthesized_stacks
from ops.core.terraform import MirrorError, cli_environment, holds_provider, provider_mirror

_PACKAGE = re.compile(r"^terraform-provider-(?P<type>[a-z0-9-]+)_(?P<version>[^_]+)_"
                      r"(?P<platform>[a-z0-9]+_[a-z0-9]+)\.zip$")


def unpack_mirror(packed: Path, unpacked: Path) -> list[Path]:
    """The provider packages of a packed mirror (what `terraform providers mirror` writes:
    <host>/<namespace>/<type>/terraform-provider-<type>_<version>_<platform>.zip) unzipped into
    the unpacked layout Terraform links from (<host>/<namespace>/<type>/<version>/<platform>/);
    the platform folders written."""
    written = []
    for package in sorted(packed.glob("*/*/*/*.zip")):
        match = _PACKAGE.match(package.name)
        if not match:
            continue
        source = package.parent.relative_to(packed)
        target = unpacked / source / match["version"] / match["platform"]
        partial = target.with_name(f".{target.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(package) as archive:
            archive.extractall(partial)
        for member in partial.iterdir():  # zip keeps no modes; the provider is a program
            if member.name.startswith("terraform-provider-"):
                member.chmod(0o755)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        written.append(target)
    return written


def fill_project_mirror(say: Callable[[str], None] = print, outdir: Path = OUTDIR) -> Path:
    """Fill the project's mirror with the provider the stacks synthesized into `outdir` require,
    from the registry, unless a mirror is already there (then nothing is done); the mirror."""
    existing = provider_mirror(os.environ)
    if existing is not None:
        say(f"hashicorp/aws: Terraform installs it from the mirror at {existing}; nothing to do")
        return existing
    stacks = synthesized_stacks(outdir)
    if not stacks:
        say("synthesizing the stacks (their required_providers name the version) ...")
        synthesize(environments.load()[0], outdir)
        stacks = synthesized_stacks(outdir)
    env = {key: value for key, value in cli_environment().items()
           if key != "TF_CLI_CONFIG_FILE"}  # from the registry
    core.PROJECT_MIRROR.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=core.PROJECT_MIRROR.parent) as packed:
        say(f"terraform providers mirror (from {stacks[0]}) ...")
        subprocess.run(["terraform", "providers", "mirror", packed],
                       cwd=stack_dir(stacks[0], outdir),
                       env=env, check=True)
        written = unpack_mirror(Path(packed), core.PROJECT_MIRROR)
    if not holds_provider(core.PROJECT_MIRROR):
        raise MirrorError(f"`terraform providers mirror` wrote no hashicorp/aws package for "
                          f"{core.PROJECT_MIRROR}")
    for folder in written:
        say(f"unpacked {folder}")
    return core.PROJECT_MIRROR


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops provider` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"provider": "provider"})


if __name__ == "__main__":
    sys.exit(main())
