"""Running the Terraform CLI the same way everywhere: tests, `make up`, plan review.

On a machine with no internet, Terraform installs hashicorp/aws from the filesystem mirror the
machine image ships (terraform/mirror.tfrc); with internet, from the registry as usual.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent
MIRROR_CLI_CONFIG = ROOT / "terraform" / "mirror.tfrc"
MIRROR = Path("/opt/tf-plugins")
# A folder to keep every captured run's output in (bench/tests.py reads the apply timings).
LOG_DIR_VARIABLE = "TERRAFORM_LOG_DIR"
_runs = itertools.count(1)


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
    env = cli_environment(env)
    started = time.time()
    result = subprocess.run(["terraform", *args], cwd=stack_dir, env=env, check=False,
                            capture_output=capture, text=True, timeout=timeout)
    if capture and env.get(LOG_DIR_VARIABLE):
        _keep_log(Path(env[LOG_DIR_VARIABLE]), Path(stack_dir), args, started, result)
    if check:
        result.check_returncode()
    return result


def _keep_log(folder: Path, stack_dir: Path, args: tuple[str, ...], started: float,
              result: subprocess.CompletedProcess) -> None:
    """One file per run: a JSON header line (stack, args, start, seconds, exit status), then
    what terraform printed."""
    folder.mkdir(parents=True, exist_ok=True)
    header = {"stack": stack_dir.name, "dir": str(stack_dir), "args": list(args),
              "started": started, "seconds": round(time.time() - started, 3),
              "returncode": result.returncode, "pid": os.getpid()}
    name = f"{os.getpid()}-{next(_runs):04d}-{stack_dir.name}-{args[0] if args else 'none'}.log"
    (folder / name).write_text(json.dumps(header) + "\n" + (result.stdout or "")
                               + (result.stderr or ""))
