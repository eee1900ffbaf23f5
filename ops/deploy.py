"""Deploy an environment's stacks with plain Terraform, in order: state, network, app.

    python -m ops.deploy up   [--env uat] [--stack app-uat ...] [--target emulator|aws]
    python -m ops.deploy down [--env uat] [--target emulator|aws]

`up` synthesizes once, then per stack runs `terraform init` and `terraform apply -auto-approve`
(which applies only what it planned to change), so a second `up` changes nothing; the next stacks
start as soon as the state bucket is ready. The state stack's first `up` is its bootstrap:
applied with a local state file, whose content then moves into the bucket it made
(Deployment.bootstrap); a bootstrap interrupted after it made the bucket, whose local state was
lost, is recovered (re-initialized on the bucket, what exists imported). `down` destroys app and
network (the state bucket is protected by `prevent_destroy`); what in them protects data or
another environment (ALB deletion protection, objects in a bucket, images in a repository, a
repository another environment runs from) refuses it on AWS before anything is destroyed (exit
2, one line saying what to do), and is lifted on the emulator (a throwaway), said in one line. With `--target emulator` (the default) both run against the local AWS
emulator (ops/emulator/), which `up` starts when it is not running and `down` stops unless
another environment still has stacks in it; the JSON is the same one real AWS gets: only the
environment (`AWS_ENDPOINT_URL`, fake credentials) differs. Failures end in one line saying what
to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from config import ADOPT_REPOSITORY_VARIABLE, environments_dir, EnvironmentConfig, load_environments
from ops import emulator
from ops.aws import target_environment
from ops.terraform import (ROOT, PlannedChange, applied_counts, mirror_in_use, plan_text,
                           planned_changes, readable, terraform)

OUTDIR = ROOT / "cdktf.out"


class DeployError(Exception):
    """A failed step; the message is the one line shown to the user."""


class DependencyMissing(DeployError):
    """What `stack` needs is not deployed yet: deploy `needs` (an earlier stack) first."""

    def __init__(self, message: str, needs: str):
        super().__init__(message)
        self.needs = needs


class StateBucketMissing(DependencyMissing):
    """The environment's state bucket does not exist (yet): bootstrap state-<env> first."""


class BackendChanged(DeployError):
    """`init` found another backend recorded in .terraform (e.g. a bootstrap's local one)."""


# What `terraform init` reads and writes besides cdk.tf.json's `terraform` block and override
# files (Deployment.init skips init when none changed): the lock file, the backend it recorded
# (any other init, e.g. -migrate-state, rewrites it), the installed providers; and the variables
# that pick the CLI configuration and the endpoint.
INIT_INPUTS = (".terraform.lock.hcl", ".terraform/terraform.tfstate", ".terraform/providers")
INIT_VARIABLES = ("TF_CLI_CONFIG_FILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_PROFILE")

# The override file that keeps a state stack's state local until its bucket exists.
BOOTSTRAP_OVERRIDE = "bootstrap_override.tf.json"
# Import blocks for what an interrupted bootstrap made but whose local state was lost.
RECOVERY_IMPORTS = "bootstrap_recovery_imports.tf.json"
# What a state stack creates under a name fixed in its JSON, by type: the attribute holding the
# name (also the import ID), and whether it exists (boto3 client, name).
RECOVERABLE = {
    "aws_s3_bucket": ("bucket", "s3", lambda s3, name: s3.head_bucket(Bucket=name)),
    "aws_ecr_repository": ("name", "ecr", lambda ecr, name: ecr.describe_repositories(
        repositoryNames=[name])),
    "aws_iam_role": ("name", "iam", lambda iam, name: iam.get_role(RoleName=name)),
    "aws_dynamodb_table": ("name", "dynamodb", lambda dynamodb, name: dynamodb.describe_table(
        TableName=name)),
}
# In a preview, every data source waits for this placeholder, so lookups of what earlier stacks
# would create are "known after apply" instead of failing.
PREVIEW_PLACEHOLDER = "terraform_data.preview_defers_lookups"


class Planned(NamedTuple):
    changes: bool  # resources or outputs (`plan -detailed-exitcode` exit 2)
    text: str  # as `terraform show -no-color` of the saved plan prints it


@dataclass
class StackResult:
    stack: str
    changes: dict  # action -> count
    seconds: float
    migrated: bool = False  # a bootstrap: the state moved from a local file into the bucket
    recovered: str = ""  # what recovering an interrupted bootstrap whose local state was lost did

    def describe(self) -> str:
        moved = "; state moved into the bucket" if self.migrated else ""
        moved += f"; {self.recovered}" if self.recovered else ""
        if not any(self.changes.values()):
            return f"no changes{moved} ({self.seconds:.1f}s)"
        counts = ", ".join(f"{count} to {action}" for action, count in self.changes.items()
                           if count)
        return f"applied: {counts}{moved} ({self.seconds:.1f}s)"


# What a synth's output depends on besides the environment's config: the construct code, the
# entry point, the locked library versions (and the interpreter, added in _synth_inputs).
SYNTH_SOURCES = ("main.py", "constructs_lib", "Pipfile.lock")


def _synth_inputs(environment: EnvironmentConfig) -> str:
    digest = hashlib.sha256(f"{sys.version}\0{environment!r}".encode())
    for source in SYNTH_SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(f"\0{file.relative_to(ROOT)}\0".encode() + file.read_bytes())
    return digest.hexdigest()


def _synth_outputs(environment: EnvironmentConfig, outdir: Path) -> str | None:
    digest = hashlib.sha256()
    for stack in environment.stack_names.values():
        written = Path(outdir) / "stacks" / stack / "cdk.tf.json"
        if not written.is_file():
            return None
        digest.update(written.read_bytes())
    return digest.hexdigest()


def synthesize(environment: EnvironmentConfig, outdir: Path = OUTDIR,
               reuse: bool = False) -> bool:
    """Write `environment`'s stacks into outdir/stacks; False when reuse found them already
    written from the same inputs (config, SYNTH_SOURCES) and unchanged since, and skipped it."""
    stamp = Path(outdir) / f".synth-{environment.name}.json"
    inputs = _synth_inputs(environment)
    if reuse and stamp.is_file() and json.loads(stamp.read_text()) == {
            "inputs": inputs, "outputs": _synth_outputs(environment, outdir)}:
        return False
    stamp.unlink(missing_ok=True)
    import main
    from lazy_provider_import import FastImportError

    try:
        main.synth([environment], str(outdir))
    except FastImportError as error:
        raise DeployError(str(error)) from error
    stamp.write_text(json.dumps({"inputs": inputs,
                                 "outputs": _synth_outputs(environment, outdir)}))
    return True


class Deployment:
    """Terraform runs for one environment's synthesized stacks, against one AWS endpoint."""

    def __init__(self, environment: EnvironmentConfig, env: dict[str, str],
                 outdir: Path = OUTDIR) -> None:
        self.environment, self.env, self.outdir = environment, env, Path(outdir)

    def stack_dir(self, stack: str) -> Path:
        return self.outdir / "stacks" / stack

    def terraform(self, stack: str, *args: str) -> subprocess.CompletedProcess:
        env = self.env
        if (stack == self.environment.stack_names["state"] and args[:1] in (("plan",), ("apply",))
                and self.environment.service.ecr_repository):
            env = {**env, f"TF_VAR_{ADOPT_REPOSITORY_VARIABLE}": self._repository_exists(stack)}
        return terraform(self.stack_dir(stack), *args, env=env, check=False)

    def _repository_exists(self, stack: str) -> str:
        """"true" when the environment's ECR repository exists (the state stack then adopts
        it, if an app stack of the layout before made it), else "false"."""
        from botocore.exceptions import BotoCoreError, ClientError

        from ops.aws import client

        name, ecr = self.environment.names.repository, client("ecr", self.env)
        try:
            (found,) = ecr.describe_repositories(repositoryNames=[name])["repositories"]
            tags = {tag["Key"]: tag["Value"] for tag in ecr.list_tags_for_resource(
                resourceArn=found["repositoryArn"]).get("tags", [])}
        except ClientError as error:
            if error.response["Error"]["Code"] == "RepositoryNotFoundException":
                return "false"
            raise DeployError(f"{stack}: cannot tell whether ECR repository {name} exists "
                              f"({error.response['Error']['Code']}); its plan needs "
                              "ecr:DescribeRepositories and ecr:ListTagsForResource on it"
                              ) from None
        except BotoCoreError:  # no endpoint or credentials: Terraform fails too, explained
            return "false"
        owner = tags.get("Environment", self.environment.name)  # the provider's default tags
        if owner != self.environment.name:
            raise DeployError(
                f"{stack}: ECR repository {name} exists and belongs to environment {owner!r} "
                f"(its Environment tag); run images from it with service.ecr_repository_owner "
                f"= {owner!r} and ecr_repository = false in environments/"
                f"{self.environment.name}.toml, or delete it")
        return "true"

    def _checked(self, stack: str, *args: str) -> subprocess.CompletedProcess:
        result = self.terraform(stack, *args)
        if result.returncode == 1 or (result.returncode and "-detailed-exitcode" not in args):
            raise self.explain(stack, result.stdout + result.stderr)
        return result

    def explain(self, stack: str, output: str) -> DeployError:
        """The error for a failed terraform run, typed by its cause (a missing state bucket or
        network, or anything else), with one line saying what to run."""
        name, where = self.environment.name, self.env.get("AWS_ENDPOINT_URL", "AWS")
        names = self.environment.stack_names
        folder = os.path.relpath(self.stack_dir(stack))
        text = re.sub(r"\x1b\[[0-9;]*m", "", readable(output))
        if re.search(r"NoSuchBucket|S3 bucket .*does not exist", text):
            return StateBucketMissing(
                f"{stack}: state bucket '{self.environment.state.bucket}' does not exist at "
                f"{where}; deploy {names['state']} first (`make up` does, in order)",
                needs=names["state"])
        if re.search(r"connection refused|dial tcp .* connect:", text, re.I):
            return DeployError(f"{stack}: cannot reach {where}; start the emulator with `make up` "
                               "(or, for AWS, unset AWS_ENDPOINT_URL)")
        if "Backend configuration changed" in text:
            return BackendChanged(
                f"{stack}: the backend recorded in {folder}/.terraform differs from the "
                f"configuration's; terraform -chdir={folder} init -reconfigure (or "
                "-migrate-state to move a state along)")
        if "Error acquiring the state lock" in text:
            lock = re.search(r"ID:\s+(\S+)", text)
            return DeployError(
                f"{stack}: the state is locked by another run; wait for it to finish, or if it "
                f"died: terraform -chdir={folder} force-unlock {lock.group(1) if lock else '<ID>'}")
        if re.search(r"no matching EC2 VPC found|no matching (EC2 )?Subnets? found", text):
            return DependencyMissing(
                f"{stack}: VPC '{self.environment.network.vpc_name}' not found; deploy "
                f"{names['network']} first (`make up` deploys state, network, app in order)",
                needs=names["network"])
        if re.search(r"No valid credential sources|InvalidClientTokenId|ExpiredToken", text):
            return DeployError(
                f"{stack}: no valid AWS credentials; configure them (AWS_PROFILE, SSO, ...)")
        errors = [line.strip("│ ").strip() for line in text.splitlines()
                  if line.strip("│ ").startswith("Error:")]
        detail = errors[0] if errors else (text.strip().splitlines() or ["terraform failed"])[-1]
        return DeployError(f"{stack}: {detail} (run terraform in {folder} for the whole message)")

    def init(self, stack: str, reuse: bool = True, reconfigure: bool = False) -> None:
        """`terraform init`; with reuse, skipped when this method already initialized the folder
        for the same inputs (INIT_INPUTS: what init reads and writes), as Terragrunt's auto-init
        does: every run of it hashes the 700 MB provider and reads the backend again (1-2 CPU-s).
        """
        stamp = self.stack_dir(stack) / ".terraform" / "ops-init.sha256"
        if reuse and stamp.is_file() and stamp.read_text() == self._init_inputs(stack):
            return
        stamp.unlink(missing_ok=True)
        self._checked(stack, "init", "-input=false", "-no-color",
                      *(["-reconfigure"] if reconfigure else []))
        stamp.parent.mkdir(exist_ok=True)  # a stack without providers or backend has none
        stamp.write_text(self._init_inputs(stack))

    def _init_inputs(self, stack: str) -> str:
        folder, digest = self.stack_dir(stack), hashlib.sha256()
        synthesized = folder / "cdk.tf.json"
        if synthesized.is_file():  # its `terraform` block: backend and providers
            config = json.loads(synthesized.read_text())
            digest.update(json.dumps(config.get("terraform"), sort_keys=True).encode())
        else:  # another layout (the HCL export): all of it
            for path in sorted(folder.glob("*.tf")):
                digest.update(path.read_bytes())
        for name in [*INIT_INPUTS, *sorted(p.name for p in folder.glob("*override.tf.json"))]:
            path = folder / name
            content = path.read_bytes() if path.is_file() else str(path.is_dir()).encode()
            digest.update(f"\0{name}\0".encode() + content)
        for variable in INIT_VARIABLES:
            digest.update(f"\0{variable}={self.env.get(variable, '')}".encode())
        return digest.hexdigest()

    def plan(self, stack: str, plan_file: str = "tfplan") -> Planned:
        """`terraform plan -out=plan_file` (after init): whether it has changes, and the plan as
        `terraform show` of the file prints it, taken from the plan's own output (no second
        start of the provider)."""
        result = self._checked(stack, "plan", "-input=false", "-no-color", "-detailed-exitcode",
                               f"-out={plan_file}")
        return Planned(result.returncode == 2, plan_text(result.stdout))

    def plan_changes(self, stack: str, plan_file: str = "tfplan") -> list[PlannedChange]:
        """`terraform plan -json -out=plan_file` (after init): the resource changes it saved."""
        result = self._checked(stack, "plan", "-input=false", "-json", "-detailed-exitcode",
                               f"-out={plan_file}")
        return planned_changes(result.stdout) if result.returncode == 2 else []

    def show(self, stack: str, plan_file: str, *args: str) -> str:
        """`terraform show <args> plan_file`, e.g. args ("-json",) or ("-no-color",)."""
        return self._checked(stack, "show", *args, plan_file).stdout

    def apply(self, stack: str) -> StackResult:
        """Apply what the configuration changes (nothing when it matches). The state stack is
        bootstrapped when its bucket does not exist yet (or a bootstrap was interrupted)."""
        started = time.monotonic()
        if stack == self.environment.stack_names["state"]:
            if self.bootstrap_state_file(stack).exists():
                return self.bootstrap(stack)
            recovered = []
            try:
                self.init(stack, reuse=False)  # finds out whether the bucket exists
            except StateBucketMissing:
                return self.bootstrap(stack)
            except BackendChanged:
                # A bootstrap's local backend, whose state file is gone: nothing to migrate.
                self.init(stack, reuse=False, reconfigure=True)
                recovered.append("re-initialized on the S3 backend (the interrupted "
                                 "bootstrap's local state was gone)")
            imports = self.recovery_imports(stack)
            if imports:
                recovered.append(f"imported what it had made: {', '.join(imports)}")
            try:
                result = self._plan_and_apply(stack, started)
            finally:
                (self.stack_dir(stack) / RECOVERY_IMPORTS).unlink(missing_ok=True)
            if recovered:
                result.recovered = "recovered an interrupted bootstrap: " + "; ".join(recovered)
            return result
        self.init(stack)
        return self._plan_and_apply(stack, started)

    def recovery_imports(self, stack: str) -> list[str]:
        """For a state stack whose state in the bucket lacks what exists under its names (an
        interrupted bootstrap's local state was lost): writes import blocks for those into
        RECOVERY_IMPORTS; their addresses."""
        from botocore.exceptions import ClientError

        from ops.aws import client

        in_state = {(resource["type"], resource["name"])
                    for resource in stack_resources(self, stack)}
        config = json.loads((self.stack_dir(stack) / "cdk.tf.json").read_text())
        imports = []
        for kind, (attribute, service, exists) in RECOVERABLE.items():
            for name, block in config.get("resource", {}).get(kind, {}).items():
                value = block.get(attribute)
                if (kind, name) in in_state or not isinstance(value, str) or "${" in value:
                    continue
                try:
                    exists(client(service, self.env), value)
                except ClientError:
                    continue  # not made yet: the apply creates it
                imports.append({"to": f"{kind}.{name}", "id": value})
        if imports:
            (self.stack_dir(stack) / RECOVERY_IMPORTS).write_text(
                json.dumps({"import": imports}, indent=2))
        return [item["to"] for item in imports]

    def _plan_and_apply(self, stack: str, started: float) -> StackResult:
        # One run plans and applies: one start of the AWS provider instead of three (plan, show,
        # apply of the saved plan). A reviewed plan is applied by ops.apply, not here.
        applied = self._checked(stack, "apply", "-input=false", "-no-color", "-auto-approve")
        return StackResult(stack, applied_counts(applied.stdout), time.monotonic() - started)

    def apply_saved(self, stack: str, plan_file: str) -> None:
        """Apply exactly the plan saved in `plan_file` (by plan())."""
        self._checked(stack, "apply", "-input=false", "-no-color", plan_file)

    # --- Bootstrap: the state stack keeps its state in the bucket it creates ------------------
    # Its JSON always carries the S3 backend. Until the bucket exists, an override file (which
    # Terraform merges over the JSON, replacing the backend) keeps the state in a local file;
    # once the apply made the bucket, the override goes and `init -migrate-state` moves the
    # state into the bucket. The local file exists only between those two steps.

    def bootstrap_state_file(self, stack: str) -> Path:
        """The state stack's state before its bucket exists: next to the output folder."""
        return self.outdir.resolve().parent / f"terraform.{stack}.tfstate"

    @contextlib.contextmanager
    def local_backend(self, stack: str, path: Path):
        """Within the block, `stack` keeps its state in the local file `path`."""
        override = self.stack_dir(stack) / BOOTSTRAP_OVERRIDE
        override.write_text(json.dumps({"terraform": {"backend": {"local": {"path": str(path)}}}}))
        try:
            yield
        finally:
            override.unlink(missing_ok=True)

    def bootstrap(self, stack: str) -> StackResult:
        """Apply the state stack with a local state file, then move that state into the bucket
        the apply made, and delete the file."""
        started = time.monotonic()
        local = self.bootstrap_state_file(stack)
        with self.local_backend(stack, local):
            self._checked(stack, "init", "-input=false", "-no-color", "-reconfigure")
            result = self._plan_and_apply(stack, started)
        self._checked(stack, "init", "-input=false", "-no-color", "-migrate-state",
                      "-force-copy")
        if not self._checked(stack, "state", "list").stdout.split():
            raise DeployError(f"{stack}: the state moved into the bucket is empty; "
                              f"the local state is kept in {local}")
        for leftover in (local, local.with_name(local.name + ".backup")):
            leftover.unlink(missing_ok=True)
        result.seconds, result.migrated = time.monotonic() - started, True
        return result

    @contextlib.contextmanager
    def preview(self, stack: str):
        """A Deployment over a throw-away copy of `stack` for an environment whose state bucket
        does not exist yet: an empty local state, and every data source read at apply time
        (it looks up what earlier stacks would create). Plan it to see what the stack would
        create; it is never applied (the copy and its state are deleted on exit)."""
        with tempfile.TemporaryDirectory(prefix=f"preview-{stack}-") as folder:
            copy = Path(folder) / "stacks" / stack
            copy.mkdir(parents=True)
            config = json.loads((self.stack_dir(stack) / "cdk.tf.json").read_text())
            config["terraform"]["backend"] = {"local": {"path": str(copy / "preview.tfstate")}}
            kind, name = PREVIEW_PLACEHOLDER.split(".")
            config.setdefault("resource", {}).setdefault(kind, {})[name] = {}
            for blocks in config.get("data", {}).values():
                for block in blocks.values():
                    block["depends_on"] = [PREVIEW_PLACEHOLDER]
            (copy / "cdk.tf.json").write_text(json.dumps(config, indent=2))
            lock = self.stack_dir(stack) / ".terraform.lock.hcl"
            if lock.exists():
                shutil.copy2(lock, copy)
            yield Deployment(self.environment, self.env, Path(folder))

    def apply_in_order(self, stacks: list[str], say=lambda line: None) -> dict[str, StackResult]:
        """Apply `stacks` (deploy order) one after another, except that once the state bucket is
        ready the state stack's apply goes on in the background: the provider then mostly waits
        on the bucket's lifecycle configuration (~55 s), and the next stacks need only the
        bucket. Its result comes last. When a later stack fails, its error is raised after the
        state stack's apply ended (never abandoned halfway)."""
        state, results, bootstrap = self.environment.stack_names["state"], {}, None
        with ThreadPoolExecutor(max_workers=1) as background:
            for number, stack in enumerate(stacks, 1):
                say(f"[{number}/{len(stacks)}] {stack} ...")
                if stack == state and stack != stacks[-1]:
                    running = background.submit(self.apply, stack)
                    self.wait_for_state_bucket(running)
                    if not running.done():
                        bootstrap = running
                        say("  its bucket is ready: the next stacks start while it finishes")
                        continue
                    results[stack] = running.result()
                else:
                    results[stack] = self.apply(stack)
                say(f"  {results[stack].describe()}")
            if bootstrap is not None:
                results[state] = bootstrap.result()
                say(f"{state}: {results[state].describe()}")
        return results

    def wait_for_state_bucket(self, applying: Future, poll: float = 0.5) -> None:
        """Until the environment's state bucket exists with versioning on, which is all the other
        stacks' S3 backend needs, while `applying` (the state stack's apply) may still wait for
        the bucket's lifecycle configuration (~55 s of the provider's own settling). Raises what
        made `applying` fail, if it ends first."""
        from botocore.exceptions import BotoCoreError, ClientError

        from ops.aws import client

        s3, bucket = client("s3", self.env), self.environment.state.bucket
        while not applying.done():
            try:
                if s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled":
                    return
            except (BotoCoreError, ClientError):
                pass  # not created yet
            time.sleep(poll)
        applying.result()

    def destroy(self, stack: str) -> StackResult:
        started = time.monotonic()
        self.init(stack)
        result = self._checked(stack, "destroy", "-input=false", "-no-color", "-auto-approve")
        destroyed = re.search(r"Resources: (\d+) destroyed", result.stdout)
        return StackResult(stack, {"destroy": int(destroyed.group(1)) if destroyed else 0},
                           time.monotonic() - started)

    def outputs(self, stack: str) -> dict:
        shown = self._checked(stack, "output", "-json").stdout
        return {key: value["value"] for key, value in json.loads(shown or "{}").items()}


def terraform_environment(target: str, region: str) -> dict[str, str]:
    return target_environment(target, region)


def select_stacks(environment: EnvironmentConfig, names: list[str] | None) -> list[str]:
    """The named stacks of `environment` (all when none), in deploy order."""
    known = list(environment.stack_names.values())
    for name in names or []:
        if name not in known:
            raise DeployError(f"--stack {name}: not a stack of {environment.name}; "
                              f"allowed: {', '.join(known)}")
    return [stack for stack in known if stack in (names or known)]


def up(environment: EnvironmentConfig, stacks: list[str], target: str) -> int:
    started = time.monotonic()
    if target == "emulator" and emulator.main(["start", "--port", str(emulator.default_port())]):
        return 1
    deployment = Deployment(environment, terraform_environment(target, environment.region))
    print(f"synthesizing {environment.name} ...", flush=True)
    synthesize(environment)
    print(f"  done ({time.monotonic() - started:.1f}s)", flush=True)
    deployment.apply_in_order(stacks, say=lambda line: print(line, flush=True))
    app = environment.stack_names["app"]
    if app in stacks:
        print(f"\nALB URL: {deployment.outputs(app).get('alb_url')}")
    print("\nInspect the state with the plain Terraform CLI, e.g.:")
    prefix = "env $(.venv/bin/python -m ops.emulator env) " if target == "emulator" else ""
    if mirror_in_use(deployment.env):  # absolute: terraform -chdir
        prefix += f"TF_CLI_CONFIG_FILE={deployment.env['TF_CLI_CONFIG_FILE']} "
    for stack in stacks:
        print(f"  {prefix}terraform -chdir={os.path.relpath(deployment.stack_dir(stack))} "
              "state list")
    print(f"total {time.monotonic() - started:.1f}s")
    return 0


def stacks_in_the_emulator(env: dict[str, str], besides: EnvironmentConfig) -> list[str]:
    """Network and app stacks of other environments whose state in the emulator's buckets still
    holds resources (a state stack alone holds only its bucket, which stopping may take)."""
    from ops.aws import client

    s3, found = client("s3", env), []
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for item in page.get("Contents", []):
                match = re.fullmatch(r"([^/]+)/((\w+)-\1)\.tfstate", item["Key"])
                if (not match or match.group(1) == besides.name
                        or match.group(3) == "state"):
                    continue
                state = json.loads(s3.get_object(Bucket=bucket["Name"], Key=item["Key"])
                                   ["Body"].read() or b"{}")
                if state.get("resources"):
                    found.append(match.group(2))
    return sorted(found)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((emulator.HOST, port), 1):
        return True
    return False


class DownRefused(DeployError):
    """On AWS, `down` would destroy data or what another environment runs from (exit 2)."""


@dataclass
class Protection:
    """Something in a stack `down` destroys that keeps data or serves another environment."""

    stack: str
    what: str  # names it and why it stops the destroy
    fix: str  # what to do on AWS, before `down`
    lift: Callable[[], str]  # on the emulator: lift it through its API; says what it did


def stack_resources(deployment: "Deployment", stack: str) -> list[dict]:
    """The resources in `stack`'s state (its S3 backend, as the synthesized JSON names it),
    each as {"type", "name", "attributes"}; [] when it has no state."""
    from botocore.exceptions import ClientError

    from ops.aws import client

    backend = json.loads((deployment.stack_dir(stack) / "cdk.tf.json").read_text())[
        "terraform"]["backend"]["s3"]
    try:
        body = client("s3", deployment.env).get_object(Bucket=backend["bucket"],
                                                       Key=backend["key"])["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket"):
            return []
        raise
    return [{"type": resource["type"], "name": resource["name"],
             "attributes": instance["attributes"]}
            for resource in json.loads(body or b"{}").get("resources", [])
            if resource.get("mode") == "managed" for instance in resource["instances"]]


def protections(deployment: "Deployment", stacks: list[str],
                environments: list[EnvironmentConfig]) -> list[Protection]:
    """What stops `down` of `stacks`, or should: ALB deletion protection, a bucket with objects
    in it (the ALB's access logs), an ECR repository holding images or that another deployed
    environment runs from. Read from the stacks' states and the account's answers."""
    from ops.aws import client

    env, environment = deployment.env, deployment.environment
    file = f"environments/{environment.name}.toml"
    found: list[Protection] = []
    for stack in stacks:
        for resource in stack_resources(deployment, stack):
            kind, attributes = resource["type"], resource["attributes"]
            if kind == "aws_lb":
                elb, arn = client("elbv2", env), attributes["arn"]
                settings = {item["Key"]: item["Value"] for item in
                            elb.describe_load_balancer_attributes(LoadBalancerArn=arn)
                            ["Attributes"]}
                if settings.get("deletion_protection.enabled") == "true":
                    found.append(Protection(
                        stack, f"load balancer {attributes['name']} has deletion protection on",
                        f"set service.alb_deletion_protection = false in {file} and deploy it "
                        f"(make up ENV={environment.name}) first",
                        lambda elb=elb, arn=arn, name=attributes["name"]: unprotect(
                            elb, arn, name)))
            elif kind == "aws_s3_bucket":
                bucket, s3 = attributes["bucket"], client("s3", env)
                count = sum(len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
                            for page in s3.get_paginator("list_object_versions").paginate(
                                Bucket=bucket))
                if count:
                    found.append(Protection(
                        stack, f"bucket {bucket} holds {count} objects (access logs)",
                        f"keep them (aws s3 sync s3://{bucket} <folder>) and empty it: aws s3 "
                        f"rm s3://{bucket} --recursive",
                        lambda s3=s3, bucket=bucket: empty_bucket(s3, bucket)))
            elif kind == "aws_ecr_repository":
                found += repository_protections(deployment, stack, resource, environments)
    return found


def unprotect(elb, arn: str, name: str) -> str:
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "false"}])
    return f"deletion protection off on {name}"


def empty_bucket(s3, bucket: str) -> str:
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                   for item in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(objects), 1000):  # DeleteObjects takes 1000 at most
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[start:start + 1000]})
        deleted += len(objects)
    return f"emptied bucket {bucket} ({deleted} objects)"


def repository_protections(deployment: "Deployment", stack: str, resource: dict,
                           environments: list[EnvironmentConfig]) -> list[Protection]:
    from ops.aws import client

    environment, env = deployment.environment, deployment.env
    name, address = resource["attributes"]["name"], f"{resource['type']}.{resource['name']}"
    ecr = client("ecr", env)
    running = [other.name for other in environments
               if other.name != environment.name and other.region == environment.region
               and other.service.ecr_repository_owner == environment.name
               and deployed(other, env)]
    def keep() -> str:
        deployment.init(stack)
        deployment._checked(stack, "state", "rm", address)
        return f"kept {name} ({', '.join(running)} run(s) from it) out of the destroy"

    if running:
        return [Protection(
            stack, f"ECR repository {name} is where {', '.join(running)} run(s) images from",
            f"take {', '.join(running)} down first (make down ENV=<env>), or keep the "
            f"repository: terraform -chdir={os.path.relpath(deployment.stack_dir(stack))} "
            f"state rm {address}",
            keep)]
    images = [image for page in ecr.get_paginator("list_images").paginate(repositoryName=name)
              for image in page["imageIds"]]
    if not images:
        return []

    def delete() -> str:
        for start in range(0, len(images), 100):  # BatchDeleteImage takes 100 at most
            ecr.batch_delete_image(repositoryName=name, imageIds=images[start:start + 100])
        return f"deleted {len(images)} images from {name}"
    return [Protection(stack, f"ECR repository {name} holds {len(images)} images",
                       f"delete them (aws ecr batch-delete-image --repository-name {name} "
                       "--image-ids ...) or keep the repository: terraform -chdir="
                       f"{os.path.relpath(deployment.stack_dir(stack))} state rm {address}",
                       delete)]


def deployed(environment: EnvironmentConfig, env: dict[str, str]) -> bool:
    """Whether `environment`'s ECS service exists (it runs, or is about to)."""
    from ops.aws import client

    from botocore.exceptions import ClientError

    names = environment.names
    try:
        services = client("ecs", {**env, "AWS_REGION": environment.region}).describe_services(
            cluster=names.service, services=[names.service])["services"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
            return False
        raise
    return any(service.get("status") == "ACTIVE" for service in services)


def check_protections(deployment: "Deployment", stacks: list[str],
                      environments: list[EnvironmentConfig], target: str,
                      say=lambda line: None) -> None:
    """Before `down` destroys anything: on AWS, DownRefused naming each protection and what to
    do; on the emulator (a throwaway), lift each through its API, said in one line."""
    found = protections(deployment, stacks, environments)
    if not found:
        return
    if target != "emulator":
        raise DownRefused(f"{deployment.environment.name}: not destroyed: " + "; ".join(
            f"{protection.what}: {protection.fix}" for protection in found))
    say("emulator (a throwaway), lifted what protects data: "
        + "; ".join(protection.lift() for protection in found))


def down(environment: EnvironmentConfig, target: str, outdir: Path = OUTDIR,
         environments: list[EnvironmentConfig] | None = None,
         env: dict[str, str] | None = None) -> int:
    """Destroy this environment's app and network; on the emulator, stop it unless another
    environment still has stacks in it. `environments`: all of them (default: environments/),
    to find those that run from this one's repository; `env`: where AWS is (default: the
    target's), e.g. the emulator for a test of what `--target aws` refuses."""
    started = time.monotonic()
    deployment = Deployment(environment,
                            env or terraform_environment(target, environment.region), outdir)
    names = environment.stack_names
    # Left only by an interrupted bootstrap; on the emulator, it describes emulated resources.
    stale = deployment.bootstrap_state_file(names["state"])
    port = emulator.default_port()
    if target == "emulator" and not _listening(port):
        stale.unlink(missing_ok=True)
        print(f"nothing to destroy: no emulator on port {port}, so nothing of "
              f"{environment.name} is deployed")
        return 0
    if not deployment.stack_dir(names["app"]).is_dir():
        synthesize(environment, outdir)
    # Everything but the protected state stack, in reverse deploy order.
    stacks = [name for kind, name in reversed(names.items()) if kind != "state"]
    check_protections(deployment, stacks, environments if environments is not None
                      else load_environments(environments_dir()), target,
                      say=lambda line: print(line, flush=True))
    for stack in stacks:
        print(f"{stack} ...", flush=True)
        print(f"  destroyed {deployment.destroy(stack).changes['destroy']} resources",
              flush=True)
    if target == "emulator":
        others = stacks_in_the_emulator(deployment.env, besides=environment)
        if others:
            print(f"emulator left running: {', '.join(others)} still deployed in it; "
                  f"{names['state']} (its protected bucket, with its own state) stays too")
        else:
            emulator.main(["stop", "--port", str(port)])
            stale.unlink(missing_ok=True)
            print(f"emulator stopped; {names['state']} (the protected state bucket) went with it")
    else:
        print(f"{names['state']} kept: its bucket is protected by prevent_destroy")
    print(f"total {time.monotonic() - started:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops up, down` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"up": "up", "down": "down"})


if __name__ == "__main__":
    sys.exit(main())
