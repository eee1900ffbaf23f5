"""Running the Terraform CLI the same way everywhere: tests, `make up`, plan review.

On a machine with no internet, Terraform installs hashicorp/aws from the filesystem mirror the
machine image ships (terraform/mirror.tfrc); with internet, from the registry as usual.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Mapping, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
MIRROR_CLI_CONFIG = ROOT / "terraform" / "mirror.tfrc"
MIRROR = Path("/opt/tf-plugins")
# A folder to keep every captured run's output in (bench/tests.py reads the apply timings).
LOG_DIR_VARIABLE = "TERRAFORM_LOG_DIR"
# Go's garbage collector target for Terraform and the AWS provider it starts (they inherit it).
# Every command decodes the provider's ~1,500 resource schemas, mostly garbage at once: at 400
# the collector runs less often, plan and show take ~20% less CPU for ~3% more peak memory
# (README "Test speed"). A GOGC already set wins.
GOGC = "400"
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
    env.setdefault("GOGC", GOGC)
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


# --- Reading what Terraform printed ------------------------------------------------------------
# `plan -json` prints Terraform's machine-readable UI (one JSON object per line, documented and
# versioned), which names every planned change: no `show -json` of the plan, a second start of
# the AWS provider, is needed to know them.


class PlannedChange(NamedTuple):
    address: str
    type: str
    action: str  # create, update, replace, delete, read, noop, move, remove (forget), import


def _message(line: str) -> dict | None:
    """The machine-readable UI message on `line`, or None for any other line."""
    if line.startswith("{"):
        try:
            return json.loads(line)
        except ValueError:
            pass
    return None


def json_messages(output: str) -> list[dict]:
    """The machine-readable UI messages in `output` (other lines are skipped)."""
    return [message for message in map(_message, output.splitlines()) if message is not None]


def planned_changes(output: str) -> list[PlannedChange]:
    """The resource changes a `plan -json` run printed."""
    return [PlannedChange(message["change"]["resource"]["addr"],
                          message["change"]["resource"]["resource_type"],
                          message["change"]["action"])
            for message in json_messages(output) if message.get("type") == "planned_change"]


def readable(output: str) -> str:
    """`output` with machine-readable UI diagnostics written as Terraform writes them for people
    ("Error: <summary>", then the detail), for error messages; other JSON lines dropped."""
    lines = []
    for line in output.splitlines():
        message = _message(line)
        if message is None:
            lines.append(line)
        elif message.get("type") == "diagnostic":
            diagnostic = message["diagnostic"]
            lines.append(f"{diagnostic['severity'].capitalize()}: {diagnostic['summary']}")
            lines.extend(diagnostic.get("detail", "").splitlines())
    return "\n".join(lines)


# Progress lines of `plan`/`apply` (refreshing, data sources read, the state lock): without them
# a plan's own output is what `terraform show -no-color` of the saved plan prints.
_PROGRESS = re.compile(r"^.+?: (Refreshing state\.\.\. \[|Reading\.\.\.$|Read complete after \d|"
                       r"Still reading\.\.\. \[)|^(Acquiring|Releasing) state lock\. ")


def plan_text(output: str) -> str:
    """What `terraform plan -no-color` printed, as `terraform show -no-color` of its plan file
    prints it: the progress lines removed (TF_IN_AUTOMATION leaves out the closing hints)."""
    return "".join(line for line in output.splitlines(keepends=True)
                   if not _PROGRESS.match(line))


_APPLIED = {action: re.compile(rf"Resources:.*?(\d+) {word}")
            for action, word in (("add", "added"), ("change", "changed"),
                                 ("destroy", "destroyed"))}


def applied_counts(output: str) -> dict[str, int]:
    """{add, change, destroy} from an apply's "Apply complete! Resources: ..." line; {} when it
    had nothing to do ("No changes.")."""
    if re.search(r"^No changes\.", output, re.M):
        return {}
    summary = re.search(r"^Apply complete! Resources: .*$", output, re.M)
    if not summary:
        raise ValueError("no 'Apply complete! Resources: ...' line in the apply's output")
    return {action: int(pattern.search(summary.group(0)).group(1))
            for action, pattern in _APPLIED.items()}
