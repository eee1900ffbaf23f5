"""Plan an environment's stacks for review, without applying anything.

    python -m ops.plan [--env uat] [--out plans/uat] [--target emulator|aws]

Synthesizes once, then per stack in deploy order (state, network, app) runs `terraform init` and
`terraform plan -out`, and keeps in --out (default `plans/<env>/`):

    <stack>.tfplan       the saved plan (`terraform apply` it from cdktf.out/stacks/<stack>)
    <stack>.json         `terraform show -json <stack>.tfplan`
    summary.md           one Markdown summary for a pull-request comment: every replacement and
                         destroy at the top (with the attributes forcing each replacement), the
                         counts per stack, the cost estimate and the plan's cost change (from
                         the plan JSON's before and after, ops/cost.py), then each stack's full
                         plan text folded in <details>

Exit status: 0 no changes, 2 changes, 1 an error (details in summary.md and on stderr). A stack
whose dependency is not deployed yet (the app before its network, anything before the state
bucket) is reported in the summary with the one-line reason and counts as pending, not as an
error: applying the stacks before it is what creates what it needs. An environment whose state
bucket does not exist yet gets a preview of every stack instead (status "preview", exit 2): what
it would create, planned in a throw-away copy against an empty state, never applied.

`--target aws` (the default in CI) uses whatever AWS credentials the environment has;
`--target emulator` plans against the local emulator that `make up` started.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from constructs_lib.config import (ConfigError, EnvironmentConfig, environments_dir,
                                   load_environments, select_environments)
from ops.deploy import (OUTDIR, PREVIEW_PLACEHOLDER, DependencyMissing, Deployment, DeployError,
                        StateBucketMissing, synthesize, terraform_environment)
from ops.terraform import ROOT

NO_CHANGES, CHANGES, ERROR = 0, 2, 1
# GitHub refuses comments longer than 65536 characters; the plan texts get what is left.
COMMENT_LIMIT = 60000


def marker(environment_name: str) -> str:
    """The hidden line that identifies this environment's pull-request comment."""
    return f"<!-- ops.plan:{environment_name} -->"


@dataclass
class StackPlan:
    stack: str
    # "no changes" | "changes" | "pending" (a dependency is not deployed) | "error" |
    # "preview" (no state bucket yet: what it would create, never applied)
    status: str
    counts: dict[str, int] = field(default_factory=lambda: {"add": 0, "change": 0, "destroy": 0})
    replacements: list[tuple[str, list[str]]] = field(default_factory=list)  # address, paths
    destroys: list[str] = field(default_factory=list)
    text: str = ""  # as `terraform show -no-color` of the plan prints it
    message: str = ""  # the one-line reason, for "pending" and "error"
    plan_file: Path | None = None
    json_file: Path | None = None
    seconds: float = 0.0


def _path(parts: Iterable[Any]) -> str:
    """["ingress", 0, "cidr_blocks"] -> "ingress[0].cidr_blocks"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def analyse(shown: dict) -> tuple[dict[str, int], list[tuple[str, list[str]]], list[str]]:
    """Counts (as Terraform prints them: a replacement is one add and one destroy), the
    replacements with the attribute paths forcing them, and the plain destroys of a plan's
    `terraform show -json`."""
    counts = {"add": 0, "change": 0, "destroy": 0}
    replacements, destroys = [], []
    for change in shown.get("resource_changes", []):
        actions = change["change"]["actions"]
        counts["add"] += "create" in actions
        counts["destroy"] += "delete" in actions
        counts["change"] += actions == ["update"]
        if "create" in actions and "delete" in actions:
            paths = [_path(p) for p in change["change"].get("replace_paths") or []]
            if not paths and change.get("action_reason"):
                paths = [change["action_reason"]]  # e.g. replace_because_tainted
            replacements.append((change["address"], paths))
        elif actions == ["delete"]:
            destroys.append(change["address"])
    return counts, replacements, destroys


def plan_stack(deployment: Deployment, stack: str, out: Path) -> StackPlan:
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    plan_file, json_file = (out / f"{stack}.tfplan").resolve(), (out / f"{stack}.json").resolve()
    for stale in (plan_file, json_file):
        stale.unlink(missing_ok=True)
    try:
        try:
            deployment.init(stack)  # skipped when current: then the plan finds a missing bucket
            text = deployment.plan(stack, str(plan_file)).text
        except StateBucketMissing:
            plan_file.unlink(missing_ok=True)
            return preview_stack(deployment, stack, out, started)
        shown = deployment.show(stack, str(plan_file), "-json")
        json_file.write_text(shown)
    except DeployError as error:
        plan_file.unlink(missing_ok=True)  # Terraform saves an errored plan too: never apply it
        status = "pending" if isinstance(error, DependencyMissing) else "error"
        return StackPlan(stack, status, message=str(error), seconds=time.monotonic() - started)
    counts, replacements, destroys = analyse(json.loads(shown))
    return StackPlan(stack, "changes" if any(counts.values()) else "no changes", counts,
                     replacements, destroys, text, plan_file=plan_file, json_file=json_file,
                     seconds=time.monotonic() - started)


def preview_stack(deployment: Deployment, stack: str, out: Path, started: float) -> StackPlan:
    """The environment's state bucket does not exist yet: what `stack` would create, planned in
    a throw-away copy against an empty state (Deployment.preview). Only the JSON and the text
    are kept: a preview plan is never applied."""
    json_file = (out / f"{stack}.json").resolve()
    try:
        with deployment.preview(stack) as preview:
            preview.init(stack)
            with tempfile.TemporaryDirectory() as folder:
                plan_file = str(Path(folder) / "preview.tfplan")
                text = preview.plan(stack, plan_file).text
                shown = json.loads(preview.show(stack, plan_file, "-json"))
    except DeployError as error:
        return StackPlan(stack, "error", message=f"preview: {error}",
                         seconds=time.monotonic() - started)
    shown["resource_changes"] = [change for change in shown.get("resource_changes", [])
                                 if change["address"] != PREVIEW_PLACEHOLDER]
    json_file.write_text(json.dumps(shown))
    counts, replacements, destroys = analyse(shown)
    bootstrap = deployment.environment.stack_names["state"]
    return StackPlan(stack, "preview", counts, replacements, destroys, text, json_file=json_file,
                     message=f"state bucket '{deployment.environment.state.bucket}' does not "
                     "exist yet: planned against an empty state, with lookups of other stacks "
                     f"known after apply (`{PREVIEW_PLACEHOLDER}` in the text defers them); "
                     f"never applied. Bootstrap with `python -m ops.deploy up --env "
                     f"{deployment.environment.name} --stack {bootstrap}` to plan for real",
                     seconds=time.monotonic() - started)


def plan_environment(environment: EnvironmentConfig, env: dict[str, str], out: Path,
                     outdir: Path = OUTDIR, synth: bool = True,
                     progress=lambda line: None) -> list[StackPlan]:
    """Synthesize `environment` into `outdir` (unless synth=False, or it is current there), then
    plan every stack, all at once: plans only read, and each stack has its own folder and state."""
    if synth:
        progress(f"synthesizing {environment.name} ...")
        if not synthesize(environment, outdir, reuse=True):
            progress(f"  skipped: {os.path.relpath(outdir)} holds it, from the same inputs")
    deployment = Deployment(environment, env, outdir)
    stacks = list(environment.stack_names.values())
    progress(f"planning {', '.join(stacks)} ...")
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        running = {pool.submit(plan_stack, deployment, stack, out): stack for stack in stacks}
        for done in as_completed(running):
            progress(f"  {running[done]}: {describe(done.result())}")
    return [future.result() for future in running]


def describe(plan: StackPlan) -> str:
    if plan.status in ("pending", "error"):
        return f"{plan.status}: {plan.message}"
    counts = ", ".join(f"{count} to {action}" for action, count in plan.counts.items())
    return f"{plan.status}: {counts} ({plan.seconds:.1f}s)"


def exit_code(plans: list[StackPlan]) -> int:
    if any(plan.status == "error" for plan in plans):
        return ERROR
    if any(plan.status in ("changes", "pending", "preview") for plan in plans):
        return CHANGES
    return NO_CHANGES


def cost_section(environment: EnvironmentConfig, out: Path, outdir: Path = OUTDIR) -> str:
    """The environment's cost estimate (its synthesized stacks) and the cost change of the plans
    in `out` (their before and after sides, ops/cost.py)."""
    from ops import cost

    try:
        after = cost.estimate_synthesized(environment, outdir)
        change, notes = cost.plan_change(environment, out, outdir)
    except (cost.PriceError, FileNotFoundError) as error:
        return f"## Cost\n\nNo estimate: {error}\n"
    text = f"## Cost\n\nEstimate for `{environment.name}`:\n\n{_fence(cost.format_estimate(after))}\n"
    text += ("\nChange of this plan:\n\n" + _fence("\n".join([cost.format_diff(change)]
                                                          + [f"  {n}" for n in notes])) + "\n"
             if change.changes else "\nChange of this plan: no change in cost.\n")
    return text


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}\n{text.rstrip()}\n{ticks}"


def summarize(environment: EnvironmentConfig, plans: list[StackPlan],
              extra_sections: str | None = None) -> str:
    """The Markdown summary; starts with marker(environment.name)."""
    code = exit_code(plans)
    totals = {action: sum(plan.counts[action] for plan in plans)
              for action in ("add", "change", "destroy")}
    headline = {NO_CHANGES: "No changes.", ERROR: "**Plan failed.**",
                CHANGES: "**{add} to add, {change} to change, {destroy} to destroy.**".format(
                    **totals)}[code]
    if any(plan.status == "preview" for plan in plans):
        headline += " Preview: the state bucket does not exist yet; nothing here can be applied."
    lines = [marker(environment.name), f"## Terraform plan: `{environment.name}`", "", headline, ""]
    risky = [(plan.stack, address, paths) for plan in plans
             for address, paths in plan.replacements]
    destroys = [(plan.stack, address) for plan in plans for address in plan.destroys]
    if risky or destroys:
        lines += ["> [!WARNING]",
                  f"> {len(risky)} replacement(s) and {len(destroys)} destroy(s): "
                  "these resources are deleted (and, if replaced, created anew)", ">"]
        for stack, address, paths in risky:
            forced = ", ".join(f"`{path}`" for path in paths) or "(no attribute reported)"
            lines.append(f"> - **replace** `{address}` in `{stack}`, forced by {forced}")
        for stack, address in destroys:
            lines.append(f"> - **destroy** `{address}` in `{stack}`")
        lines.append("")
    lines += ["| stack | result | add | change | destroy |", "|---|---|---:|---:|---:|"]
    for plan in plans:
        counts = (["", "", ""] if plan.status in ("pending", "error")
                  else [str(plan.counts[a]) for a in ("add", "change", "destroy")])
        lines.append(f"| `{plan.stack}` | {plan.status} | " + " | ".join(counts) + " |")
    lines.append("")
    for plan in plans:
        if plan.status == "pending":
            lines.append(f"- `{plan.stack}` not planned yet, a dependency is not deployed: "
                         f"{plan.message}")
        elif plan.status == "error":
            lines.append(f"- `{plan.stack}` **error**: {plan.message}")
        elif plan.status == "preview" and plan.message not in "\n".join(lines):
            lines.append(f"- **preview** (every stack marked so): {plan.message}")
    if any(plan.status in ("pending", "error", "preview") for plan in plans):
        lines.append("")
    if extra_sections:
        lines += [extra_sections.rstrip(), ""]
    head = "\n".join(lines)
    budget = max(COMMENT_LIMIT - len(head), 2000)
    shown = [plan for plan in plans if plan.text]
    details = []
    for plan in shown:
        text, share = plan.text, budget // max(len(shown), 1) - 200
        if len(text) > share:
            text = (text[:max(share, 500)] + "\n... (cut to fit a comment: the whole plan is "
                    f"{plan.stack}.tfplan, or `terraform show {plan.stack}.tfplan`)")
        details += [f"<details><summary>{plan.stack}: {describe(plan)}</summary>", "",
                    _fence(text), "", "</details>", ""]
    return head + "\n" + "\n".join(details)


def plan(environment: EnvironmentConfig, env: dict[str, str], out: Path,
         outdir: Path = OUTDIR, synth: bool = True,
         progress=lambda line: None) -> tuple[int, list[StackPlan], Path]:
    """Plan every stack, write out/summary.md; returns (exit code, plans, summary path)."""
    plans = plan_environment(environment, env, out, outdir, synth, progress)
    summary = out / "summary.md"
    summary.write_text(summarize(environment, plans, cost_section(environment, out, outdir)))
    return exit_code(plans), plans, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default=os.environ.get("ENV", "uat"))
    parser.add_argument("--out", type=Path, help="where plans and summary.md go "
                        "(default: plans/<env>)")
    parser.add_argument("--target", choices=["emulator", "aws"],
                        default=os.environ.get("DEPLOY_TARGET", "emulator"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        (environment,) = select_environments(load_environments(environments_dir()), args.env)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return ERROR
    out = args.out or ROOT / "plans" / environment.name
    code, plans, summary = plan(environment,
                                terraform_environment(args.target, environment.region), out,
                                progress=lambda line: print(line, flush=True))
    for failed in (p for p in plans if p.status == "error"):
        print(f"error: {failed.message}", file=sys.stderr)
    print(f"summary: {os.path.relpath(summary)} "
          f"({['no changes', 'error', 'changes'][code]}, {time.monotonic() - started:.1f}s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
