"""Terraform runs for one environment's synthesized stacks, against one AWS endpoint: the runner
every command that touches a stack uses (up/down, plan, apply, release, smoke, ci-vars).

- init (skipped when nothing it reads changed), plan (-out, or -json for the changes alone),
  show, output, destroy;
- apply: of what the configuration changes (`up`), or of exactly a saved plan (apply_saved, the
  one path for ops.apply and ops.release), after check_synth and check_state refused a plan
  that is missing, was made from another synth, or is stale (the state changed after planning);
- the state stack's bootstrap (its state starts local, then moves into the bucket it made) and
  the recovery of one interrupted after it made the bucket;
- a preview of a stack whose dependencies do not exist yet (lookups deferred, never applied);
- errors typed by cause (TerraformError and its subclasses), each one line saying what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from config import ADOPT_REPOSITORY_VARIABLE, EnvironmentConfig
from ops.core import OUTDIR, planned, synthesized
from ops.core.planned import PlannedChange, planned_changes
from ops.core.terraform import applied_counts, plan_text, readable, terraform
from ops.errors import Failed, Refused


class TerraformError(Failed):
    """A failed Terraform run; the message is the one line shown to the user."""


class DependencyMissing(TerraformError):
    """What `stack` needs is not deployed yet: deploy `needs` (an earlier stack) first."""

    def __init__(self, message: str, needs: str):
        super().__init__(message)
        self.needs = needs


class StateBucketMissing(DependencyMissing):
    """The environment's state bucket does not exist (yet): bootstrap state-<env> first."""


class BackendChanged(TerraformError):
    """`init` found another backend recorded in .terraform (e.g. a bootstrap's local one)."""


class PlanRefused(Refused):
    """A saved plan that must not be applied: missing, from another synth, or stale."""



# What `terraform init` reads and writes besides cdk.tf.json's `terraform` block and override
# files (Runner.init skips init when none changed): the lock file, the backend it recorded
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



class Runner:
    """Terraform runs for one environment's synthesized stacks, against one AWS endpoint."""

    def __init__(self, environment: EnvironmentConfig, env: dict[str, str],
                 outdir: Path = OUTDIR) -> None:
        self.environment, self.env, self.outdir = environment, env, Path(outdir)

    def stack_dir(self, stack: str) -> Path:
        return synthesized.stack_dir(stack, self.outdir)

    def terraform(self, stack: str, *args: str) -> subprocess.CompletedProcess:
        env = self.env
        if (stack == self.environment.stack_names["state"] and args[:1] in (("plan",), ("apply",))
                and self.environment.service.ecr_repository and not self.environment.several):
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
            raise TerraformError(f"{stack}: cannot tell whether ECR repository {name} exists "
                              f"({error.response['Error']['Code']}); its plan needs "
                              "ecr:DescribeRepositories and ecr:ListTagsForResource on it"
                              ) from None
        except BotoCoreError:  # no endpoint or credentials: Terraform fails too, explained
            return "false"
        owner = tags.get("Environment", self.environment.name)  # the provider's default tags
        if owner != self.environment.name:
            raise TerraformError(
                f"{stack}: ECR repository {name} exists and belongs to environment {owner!r} "
                f"(its Environment tag); run images from it with service.ecr_repository_owner "
                f"= {owner!r} and ecr_repository = false in environments/"
                f"{self.environment.name}.toml, or delete it")
        return "true"

    def checked(self, stack: str, *args: str) -> subprocess.CompletedProcess:
        result = self.terraform(stack, *args)
        if result.returncode == 1 or (result.returncode and "-detailed-exitcode" not in args):
            raise self.explain(stack, result.stdout + result.stderr)
        return result

    def explain(self, stack: str, output: str) -> TerraformError:
        """The error for a failed terraform run, typed by its cause (a missing state bucket or
        network, or anything else), with one line saying what to run."""
        where = self.env.get("AWS_ENDPOINT_URL", "AWS")
        names = self.environment.stack_names
        folder = os.path.relpath(self.stack_dir(stack))
        text = re.sub(r"\x1b\[[0-9;]*m", "", readable(output))
        if re.search(r"NoSuchBucket|S3 bucket .*does not exist", text):
            return StateBucketMissing(
                f"{stack}: state bucket '{self.environment.state.bucket}' does not exist at "
                f"{where}; deploy {names['state']} first (`make up` does, in order)",
                needs=names["state"])
        if re.search(r"connection refused|dial tcp .* connect:", text, re.I):
            return TerraformError(f"{stack}: cannot reach {where}; start the emulator with `make up` "
                               "(or, for AWS, unset AWS_ENDPOINT_URL)")
        if "Backend configuration changed" in text:
            return BackendChanged(
                f"{stack}: the backend recorded in {folder}/.terraform differs from the "
                f"configuration's; terraform -chdir={folder} init -reconfigure (or "
                "-migrate-state to move a state along)")
        if "Error acquiring the state lock" in text:
            info = dict(re.findall(r"^\s*(ID|Operation|Who|Created):\s+(.+?)\s*$", text, re.M))
            holder = ", ".join(part for part in (
                info.get("Who"), info.get("Operation", "").removeprefix("OperationType").lower(),
                f"since {info['Created']}" if "Created" in info else "") if part)
            return TerraformError(
                f"{stack}: the state is locked by another run ({holder or 'lock info not shown'})"
                f"; wait for it to finish and run again. Only if that run is gone (cancelled, "
                f"killed): terraform -chdir={folder} force-unlock {info.get('ID', '<ID>')}")
        if re.search(r"no matching EC2 VPC found|no matching (EC2 )?Subnets? found", text):
            return DependencyMissing(
                f"{stack}: VPC '{self.environment.network.vpc_name}' not found; deploy "
                f"{names['network']} first (`make up` deploys state, network, app in order)",
                needs=names["network"])
        if re.search(r"No valid credential sources|InvalidClientTokenId|ExpiredToken", text):
            return TerraformError(
                f"{stack}: no valid AWS credentials; configure them (AWS_PROFILE, SSO, ...)")
        errors = [line.strip("│ ").strip() for line in text.splitlines()
                  if line.strip("│ ").startswith("Error:")]
        detail = errors[0] if errors else (text.strip().splitlines() or ["terraform failed"])[-1]
        return TerraformError(f"{stack}: {detail} (run terraform in {folder} for the whole message)")

    def init(self, stack: str, reuse: bool = True, reconfigure: bool = False) -> None:
        """`terraform init`; with reuse, skipped when this method already initialized the folder
        for the same inputs (INIT_INPUTS: what init reads and writes), as Terragrunt's auto-init
        does: every run of it hashes the 700 MB provider and reads the backend again (1-2 CPU-s).
        """
        stamp = self.stack_dir(stack) / ".terraform" / "ops-init.sha256"
        if reuse and stamp.is_file() and stamp.read_text() == self._init_inputs(stack):
            return
        stamp.unlink(missing_ok=True)
        self.checked(stack, "init", "-input=false", "-no-color",
                      *(["-reconfigure"] if reconfigure else []))
        stamp.parent.mkdir(exist_ok=True)  # a stack without providers or backend has none
        stamp.write_text(self._init_inputs(stack))

    def _init_inputs(self, stack: str) -> str:
        folder, digest = self.stack_dir(stack), hashlib.sha256()
        if synthesized.exists(stack, self.outdir):  # its `terraform` block: backend, providers
            config = synthesized.read(stack, self.outdir)
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
        result = self.checked(stack, "plan", "-input=false", "-no-color", "-detailed-exitcode",
                               f"-out={plan_file}")
        return Planned(result.returncode == 2, plan_text(result.stdout))

    def plan_changes(self, stack: str, plan_file: str = "tfplan") -> list[PlannedChange]:
        """`terraform plan -json -out=plan_file` (after init): the resource changes it saved."""
        result = self.checked(stack, "plan", "-input=false", "-json", "-detailed-exitcode",
                               f"-out={plan_file}")
        return planned_changes(result.stdout) if result.returncode == 2 else []

    def show(self, stack: str, plan_file: str, *args: str) -> str:
        """`terraform show <args> plan_file`, e.g. args ("-json",) or ("-no-color",)."""
        return self.checked(stack, "show", *args, plan_file).stdout

    def show_json(self, stack: str, plan_file: str | Path) -> dict:
        """`terraform show -json` of a saved plan, parsed (ops/core/planned.py reads it): the
        one ops.plan kept beside it when that is still the plan's (planned.kept_show), else
        Terraform's."""
        kept = planned.kept_show(self.stack_dir(stack) / plan_file)
        return kept if kept is not None else json.loads(self.show(stack, str(plan_file), "-json"))

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
                    for resource in self.state_resources(stack)}
        imports = []
        for kind, name, block in synthesized.blocks(synthesized.read(stack, self.outdir)):
            if kind in RECOVERABLE:
                attribute, service, exists = RECOVERABLE[kind]
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
        applied = self.checked(stack, "apply", "-input=false", "-no-color", "-auto-approve")
        return StackResult(stack, applied_counts(applied.stdout), time.monotonic() - started)

    # --- Saved plans: applied exactly as reviewed, or refused --------------------------------

    def check_synth(self, stack: str, plan_file: Path) -> None:
        """PlanRefused unless `plan_file` is a plan Terraform saved from what this checkout
        synthesized for `stack`."""
        if not Path(plan_file).is_file():
            raise PlanRefused(f"{stack}: no saved plan {plan_file}")
        try:
            config = planned.saved_config(plan_file)
        except (zipfile.BadZipFile, KeyError, ValueError):
            raise PlanRefused(f"{stack}: {plan_file} is not a plan Terraform saved") from None
        if config != synthesized.read(stack, self.outdir):
            raise PlanRefused(f"{stack}: {plan_file} was made from another synth than this "
                              "checkout (another commit or environment file); plan again and "
                              "review it")

    def check_state(self, stack: str, plan_file: Path) -> None:
        """PlanRefused when `stack`'s state changed after `plan_file` was planned. Terraform
        checks it too (apply_saved), but not when the state was empty at plan time
        (hashicorp/terraform issue 27721)."""
        self.init(stack)
        then, now = planned.saved_prior_state(plan_file), self.current_state(stack)
        if then != now:
            raise PlanRefused(f"{stack}: {plan_file} is stale: the state changed after planning "
                              f"(serial {then[1]} then, {now[1]} now; another apply ran); plan "
                              "again and review it")

    def current_state(self, stack: str) -> tuple[str, int]:
        """(lineage, serial) of `stack`'s state now; ("", 0) for none."""
        state = json.loads(self.checked(stack, "state", "pull").stdout or "{}")
        return state.get("lineage", ""), state.get("serial", 0)

    def apply_saved(self, stack: str, plan_file: str | Path) -> StackResult:
        """Apply exactly the plan saved in `plan_file` (by plan()); PlanRefused when Terraform
        finds the state changed after planning."""
        started = time.monotonic()
        result = self.terraform(stack, "apply", "-input=false", "-no-color", str(plan_file))
        output = result.stdout + result.stderr
        if "Saved plan is stale" in output or "does not match the given state" in output:
            raise PlanRefused(f"{stack}: Terraform refused {plan_file}: the state changed after "
                              "planning; plan again and review it")
        if result.returncode:
            raise self.explain(stack, output)
        return StackResult(stack, applied_counts(result.stdout), time.monotonic() - started)

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
            self.checked(stack, "init", "-input=false", "-no-color", "-reconfigure")
            result = self._plan_and_apply(stack, started)
        self.checked(stack, "init", "-input=false", "-no-color", "-migrate-state",
                      "-force-copy")
        if not self.checked(stack, "state", "list").stdout.split():
            raise TerraformError(f"{stack}: the state moved into the bucket is empty; "
                              f"the local state is kept in {local}")
        for leftover in (local, local.with_name(local.name + ".backup")):
            leftover.unlink(missing_ok=True)
        result.seconds, result.migrated = time.monotonic() - started, True
        return result

    @contextlib.contextmanager
    def preview(self, stack: str):
        """A Runner over a throw-away copy of `stack` for an environment whose state bucket
        does not exist yet: an empty local state, and every data source read at apply time
        (it looks up what earlier stacks would create). Plan it to see what the stack would
        create; it is never applied (the copy and its state are deleted on exit)."""
        with tempfile.TemporaryDirectory(prefix=f"preview-{stack}-") as folder:
            copy = Path(folder) / "stacks" / stack
            copy.mkdir(parents=True)
            config = synthesized.read(stack, self.outdir)
            config["terraform"]["backend"] = {"local": {"path": str(copy / "preview.tfstate")}}
            kind, name = PREVIEW_PLACEHOLDER.split(".")
            config.setdefault("resource", {}).setdefault(kind, {})[name] = {}
            for blocks in config.get("data", {}).values():
                for block in blocks.values():
                    block["depends_on"] = [PREVIEW_PLACEHOLDER]
            synthesized.stack_file(stack, Path(folder)).write_text(json.dumps(config, indent=2))
            lock = self.stack_dir(stack) / ".terraform.lock.hcl"
            if lock.exists():
                shutil.copy2(lock, copy)
            yield Runner(self.environment, self.env, Path(folder))

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
        result = self.checked(stack, "destroy", "-input=false", "-no-color", "-auto-approve")
        destroyed = re.search(r"Resources: (\d+) destroyed", result.stdout)
        return StackResult(stack, {"destroy": int(destroyed.group(1)) if destroyed else 0},
                           time.monotonic() - started)

    def outputs(self, stack: str) -> dict:
        shown = self.checked(stack, "output", "-json").stdout
        return {key: value["value"] for key, value in json.loads(shown or "{}").items()}

    def state_resources(self, stack: str) -> list[dict]:
        """The resources in `stack`'s state (its S3 backend, as the synthesized JSON names it),
        each as {"type", "name", "attributes"}; [] when it has no state."""
        from botocore.exceptions import ClientError

        from ops.aws import client

        backend = synthesized.backend(synthesized.read(stack, self.outdir))["s3"]
        try:
            body = client("s3", self.env).get_object(Bucket=backend["bucket"],
                                                     Key=backend["key"])["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket"):
                return []
            raise
        return [{"type": resource["type"], "name": resource["name"],
                 "attributes": instance["attributes"]}
                for resource in json.loads(body or b"{}").get("resources", [])
                if resource.get("mode") == "managed" for instance in resource["instances"]]
