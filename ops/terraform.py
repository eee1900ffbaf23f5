"""Running the Terraform CLI the same way everywhere: tests, `make up`, plan review.

On a machine with no internet, Terraform installs hashicorp/aws from the filesystem mirror the
machine image ships (terraform/mirror.tfrc); with internet, from the registry as usual.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent
MIRROR_CLI_CONFIG = ROOT / "terraform" / "mirror.tfrc"
MIRROR = Path("/opt/tf-plugins")


def cli_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) plus what Terraform needs here."""
    env = dict(os.environ if base is None else base)
    configured = env.get("TF_CLI_CONFIG_FILE")
    if configured and Path(configured).exists():
        # Absolute: Terraform runs in the stack folders, where a relative path finds nothing.
        env["TF_CLI_CONFIG_FILE"] = str(Path(configured).resolve())
    elif (MIRROR / "registry.terraform.io").is_dir():
        env["TF_CLI_CONFIG_FILE"] = str(MIRROR_CLI_CONFIG)
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("CHECKPOINT_DISABLE", "1")
    return env


def terraform(stack_dir: Path, *args: str, env: Mapping[str, str] | None = None,
              check: bool = True, capture: bool = True, timeout: float | None = None
              ) -> subprocess.CompletedProcess:
    """Run `terraform <args>` in a synthesized stack's folder."""
    if shutil.which("terraform") is None:
        raise RuntimeError("terraform is not on PATH; install Terraform 1.11 or newer")
    return subprocess.run(["terraform", *args], cwd=stack_dir, env=cli_environment(env),
                          check=check, capture_output=capture, text=True, timeout=timeout)
