"""Running the Terraform CLI the same way everywhere: tests, `make up`, plan review.

hashicorp/aws (~675 MB unpacked) is installed once per machine, not once per init folder (the
test suite has ~58): Terraform installs it from an unpacked filesystem mirror, which `terraform
init` links into each folder's .terraform/providers (a symlink, ~40 KB per folder, measured with
Terraform 1.11.4) instead of a copy. The mirror, first found: $TF_PROVIDER_MIRROR; the
project's terraform/providers/ (`make provider` fills it, e.g. on a GitHub runner); the
machine's /opt/tf-plugins (an offline machine image). With none, Terraform installs from the
registry as usual, a copy per folder.

    python -m ops.terraform provider    (make provider) fill terraform/providers/ unless a
                                        mirror is already there
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable, Mapping, NamedTuple

from config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
# Terraform CLI config for the machine's mirror; the template of the config for any other one.
MIRROR_CLI_CONFIG = ROOT / "terraform" / "mirror.tfrc"
SYSTEM_MIRROR = Path("/opt/tf-plugins")  # what an offline machine image ships
PROJECT_MIRROR = ROOT / "terraform" / "providers"  # what `make provider` fills
PROVIDER_MIRROR_VARIABLE = "TF_PROVIDER_MIRROR"
PROVIDER = "registry.terraform.io/hashicorp/aws"
# A folder to keep every captured run's output in (bench/tests.py reads the apply timings).
LOG_DIR_VARIABLE = "TERRAFORM_LOG_DIR"
# Go's garbage collector target for Terraform and the AWS provider it starts (they inherit it).
# Every command decodes the provider's ~1,500 resource schemas, mostly garbage at once: at 400
# the collector runs less often, plan and show take ~20% less CPU for ~3% more peak memory
# (bench/README.md "Test speed"). A GOGC already set wins.
GOGC = "400"
_runs = itertools.count(1)


class MirrorError(ConfigError):
    """$TF_PROVIDER_MIRROR names no provider mirror, or the mirror cannot be filled (a
    ConfigError: the ops commands show its one line)."""


def holds_provider(mirror: Path) -> bool:
    """Whether `mirror` is an unpacked filesystem mirror with hashicorp/aws in it
    (<mirror>/registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws*)."""
    return any((mirror / PROVIDER).glob("*/*/terraform-provider-aws*"))


def provider_mirror(env: Mapping[str, str]) -> Path | None:
    """The mirror Terraform installs hashicorp/aws from (module docstring), None for the
    registry; MirrorError when $TF_PROVIDER_MIRROR names a folder without the provider."""
    named = env.get(PROVIDER_MIRROR_VARIABLE, "").strip()
    if named:
        mirror = Path(named).resolve()
        if not holds_provider(mirror):
            raise MirrorError(
                f"{PROVIDER_MIRROR_VARIABLE}={named}: no hashicorp/aws in it (want "
                f"{PROVIDER}/<version>/<os>_<arch>/terraform-provider-aws_* under it); fill it "
                f"with `terraform providers mirror` and unzip, or unset it")
        return mirror
    return next((mirror for mirror in (PROJECT_MIRROR, SYSTEM_MIRROR)
                 if holds_provider(mirror)), None)


_MIRROR_PATH = re.compile(r'(filesystem_mirror\s*\{\s*path\s*=\s*)("[^"]*")')


def mirror_cli_config(mirror: Path) -> Path:
    """A Terraform CLI config file that installs hashicorp/aws from `mirror`: terraform/
    mirror.tfrc if it names that mirror, else a copy of it naming `mirror` (in the temp
    folder)."""
    text = MIRROR_CLI_CONFIG.read_text()
    found = _MIRROR_PATH.search(text)
    if found is None:
        raise MirrorError(f"{MIRROR_CLI_CONFIG} has no `filesystem_mirror {{ path = ... }}` "
                          "for mirror_cli_config to fill in")
    if Path(json.loads(found.group(2))) == mirror:
        return MIRROR_CLI_CONFIG
    text = _MIRROR_PATH.sub(lambda match: match.group(1) + json.dumps(str(mirror)), text)
    folder = _generated_configs()
    config = folder / f"mirror-{hashlib.sha256(str(mirror).encode()).hexdigest()[:12]}.tfrc"
    if not (config.exists() and config.read_text() == text):
        folder.mkdir(parents=True, exist_ok=True)
        written = config.with_suffix(f".{os.getpid()}.tmp")
        written.write_text(text)
        written.replace(config)  # atomic: parallel test workers write the same file
    return config


def _generated_configs() -> Path:
    return Path(tempfile.gettempdir()) / f"ops-terraform-{os.getuid()}"


def mirror_in_use(env: Mapping[str, str]) -> bool:
    """Whether `env` (from cli_environment) has Terraform install hashicorp/aws from a mirror
    (then nothing may ask the registry, e.g. `terraform providers lock`)."""
    configured = env.get("TF_CLI_CONFIG_FILE")
    return bool(configured) and (Path(configured) == MIRROR_CLI_CONFIG
                                 or Path(configured).parent == _generated_configs())


def cli_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) plus what Terraform needs here: a
    TF_CLI_CONFIG_FILE already set (made absolute), else the provider mirror's (module
    docstring); MirrorError for a $TF_PROVIDER_MIRROR without the provider."""
    env = dict(os.environ if base is None else base)
    configured = env.get("TF_CLI_CONFIG_FILE")
    if configured and Path(configured).exists():
        # Absolute: Terraform runs in the stack folders, where a relative path finds nothing.
        env["TF_CLI_CONFIG_FILE"] = str(Path(configured).resolve())
    else:
        mirror = provider_mirror(env)
        if mirror is not None:
            env["TF_CLI_CONFIG_FILE"] = str(mirror_cli_config(mirror))
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


# --- `make provider`: the project's mirror -----------------------------------------------------

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


def fill_project_mirror(say: Callable[[str], None] = print,
                        outdir: Path = ROOT / "cdktf.out") -> Path:
    """Fill PROJECT_MIRROR with the provider the stacks synthesized into `outdir` require,
    from the registry, unless a mirror is already there (then nothing is done); the mirror."""
    existing = provider_mirror(os.environ)
    if existing is not None:
        say(f"hashicorp/aws: Terraform installs it from the mirror at {existing}; nothing to do")
        return existing
    stacks = sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    if not stacks:
        say("synthesizing the stacks (their required_providers name the version) ...")
        subprocess.run([sys.executable, "main.py"], cwd=ROOT, check=True,
                       env={**os.environ, "CDKTF_OUTDIR": str(outdir)})
        stacks = sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    env = {key: value for key, value in cli_environment().items()
           if key != "TF_CLI_CONFIG_FILE"}  # from the registry
    PROJECT_MIRROR.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=PROJECT_MIRROR.parent) as packed:
        say(f"terraform providers mirror (from {stacks[0].parent.name}) ...")
        subprocess.run(["terraform", "providers", "mirror", packed], cwd=stacks[0].parent,
                       env=env, check=True)
        written = unpack_mirror(Path(packed), PROJECT_MIRROR)
    if not holds_provider(PROJECT_MIRROR):
        raise MirrorError(f"`terraform providers mirror` wrote no hashicorp/aws package for "
                          f"{PROJECT_MIRROR}")
    for folder in written:
        say(f"unpacked {folder}")
    return PROJECT_MIRROR


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops provider` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"provider": "provider"})


if __name__ == "__main__":
    sys.exit(main())
