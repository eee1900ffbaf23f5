"""Plan an environment's stacks for review, without applying anything.

    python -m ops plan --env uat [--out plans/uat] [--target emulator|aws]

Synthesizes once, then per stack in deploy order (state, network, app) runs `terraform init` and
`terraform plan -out`, and keeps in --out (default `plans/<env>/`):

    <stack>.tfplan       the saved plan (`terraform apply` it from cdktf.out/stacks/<stack>)
    <stack>.json         `terraform show -json <stack>.tfplan`
    <stack>.changes.json the reviewed changes: status, and each resource change (address,
                         actions, after values with unknowns and sensitive values normalized),
                         what deploy.yml compares with the pull request's (`differences()`)
    summary.md           one Markdown summary for a pull-request comment: security-relevant
                         changes first (IAM trust and policies, security groups, public
                         exposure; never cut), then every replacement and destroy (with the
                         attributes forcing each replacement), the counts per stack, the
                         cost estimate and the plan's cost change (from the plan JSON's before
                         and after, ops/cost.py), then each stack's full plan text folded in
                         <details> (only these are cut to fit a comment), and last, hidden,
                         the reviewed changes of every stack (`reviewed_in()` reads them back)

`python -m ops plan` exits 0 when it planned and 1 on an error (details in summary.md and on
stderr); whether there are changes is an output (ops/commands/plan.py), not the status. A stack
whose dependency is not deployed yet (the app before its network, anything before the state
bucket) is reported in the summary with the one-line reason and counts as pending, not as an
error: applying the stacks before it is what creates what it needs. An environment whose state
bucket does not exist yet gets a preview of every stack instead (status "preview"): what
it would create, planned in a throw-away copy against an empty state, never applied.

`--target aws` (the default in CI) uses whatever AWS credentials the environment has;
`--target emulator` plans against the local emulator that `make up` started.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
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

from constructs_lib.json_document import decode
from config import EnvironmentConfig
from ops.core import OUTDIR, synthesized
from ops.core.planned import actions, analyse, forget_show, keep_show, resource_changes
from ops.core.runner import (PREVIEW_PLACEHOLDER, DependencyMissing, Runner, StateBucketMissing,
                             TerraformError)
from ops.core.synth import synthesize

NO_CHANGES, CHANGES, ERROR = 0, 2, 1  # this command's own: "changes" is not an error
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
    security: list[str] = field(default_factory=list)  # Markdown lines, security_changes()
    changes: list[dict] | None = None  # reviewed_changes(); None when not planned


# --- What a reviewer must see, and what deploy.yml compares ----------------------------------

UNKNOWN, SENSITIVE = "(known after apply)", "(sensitive)"
OPEN_TO_ALL = ("0.0.0.0/0", "::/0")


def _normalized(value: Any, unknown: Any = None, sensitive: Any = None) -> Any:
    """A plan's `after` value with each unknown part as UNKNOWN and each sensitive one as
    SENSITIVE (never written out: the changes go into a pull request comment)."""
    if sensitive is True:
        return SENSITIVE
    if unknown is True:
        return UNKNOWN
    if isinstance(value, dict) or isinstance(unknown, dict):
        value, unknown, sensitive = (v if isinstance(v, dict) else {}
                                     for v in (value, unknown, sensitive))
        keys = set(value) | {key for key, part in unknown.items() if part}
        return {key: _normalized(value.get(key), unknown.get(key), sensitive.get(key))
                for key in sorted(keys)}
    if isinstance(value, list) or isinstance(unknown, list):
        value, unknown, sensitive = (v if isinstance(v, list) else []
                                     for v in (value, unknown, sensitive))
        return [_normalized(*(side[at] if at < len(side) else None
                              for side in (value, unknown, sensitive)))
                for at in range(max(len(value), len(unknown)))]
    return value


def reviewed_changes(shown: dict) -> list[dict]:
    """What a plan would do, as a reviewer saw it and as deploy.yml compares it: each resource
    change (address, actions, after values normalized), by address; not the state's serial or
    lineage, which any apply moves."""
    return sorted(({"address": change["address"], "actions": actions(change),
                    "after": _normalized(change["change"].get("after"),
                                         change["change"].get("after_unknown"),
                                         change["change"].get("after_sensitive"))}
                   for change in resource_changes(shown)
                   if actions(change) != ["no-op"]), key=lambda c: c["address"])


def _document(value: Any) -> dict | None:
    """A policy document: a JSON string (plan JSON) or a jsonencode expression (cdk.tf.json)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError:
        try:
            return decode(value)
        except (ValueError, IndexError):
            return None


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _codes(values: Any) -> str:
    return ", ".join(f"`{value}`" for value in _listed(values)) or "(none)"


def _statements(value: Any) -> list[str]:
    """Each statement of a policy document as one readable line."""
    document = _document(value)
    if not isinstance(document, dict):
        return [f"document {_codes(value)}"]
    lines = []
    for statement in _listed(document.get("Statement")):
        words = [f"**{statement.get('Effect', '?')}**"]
        for key, label in (("Action", ""), ("NotAction", "every action except ")):
            if key in statement:
                words.append(label + _codes(statement[key]))
        for key, label in (("Principal", "by"), ("NotPrincipal", "by anyone except")):
            who = statement.get(key)
            if who is not None:
                named = (_codes(who) if isinstance(who, str) else "; ".join(
                    f"{kind} {_codes(ids)}" for kind, ids in who.items()))
                anyone = key == "Principal" and "*" in str(who) and \
                    statement.get("Effect") == "Allow"
                words.append(f"{label} {named}" + (" :warning: **anyone**" if anyone else ""))
        for key, label in (("Resource", "on"), ("NotResource", "on everything except")):
            if key in statement:
                words.append(f"{label} {_codes(statement[key])}")
        conditions = [f"{operator} `{key}` = {_codes(wanted)}"
                      for operator, tests in (statement.get("Condition") or {}).items()
                      for key, wanted in tests.items()]
        if conditions:
            words.append("if " + " and ".join(conditions))
        lines.append(" ".join(words))
    return lines


def _rule(direction: str, rule: dict) -> str:
    protocol = str(rule.get("protocol", rule.get("ip_protocol", "?")))
    low, high = rule.get("from_port"), rule.get("to_port")
    ports = ("all ports" if protocol == "-1" or low is None
             else f"port {low}" if low == high else f"ports {low}-{high}")
    sources = [*_listed(rule.get("cidr_blocks")), *_listed(rule.get("ipv6_cidr_blocks")),
               *_listed(rule.get("cidr_ipv4")), *_listed(rule.get("cidr_ipv6")),
               *_listed(rule.get("prefix_list_ids")), *_listed(rule.get("security_groups")),
               *_listed(rule.get("source_security_group_id")),
               *_listed(rule.get("referenced_security_group_id"))]
    if rule.get("self"):
        sources.append("itself")
    line = (f"{direction} {'all protocols' if protocol == '-1' else protocol} {ports} "
            f"{'from' if direction == 'ingress' else 'to'} {_codes(sources)}")
    if any(source in OPEN_TO_ALL for source in sources):
        line += (" :warning: **open to the internet**" if direction == "ingress"
                 else " :warning: **to any address**")
    return line


def _group_rules(values: dict) -> list[str]:
    """The group's inline rules (none known before apply: its rules are then resources of
    their own, aws_vpc_security_group_*_rule, shown one by one)."""
    return [_rule(direction, rule) for direction in ("ingress", "egress")
            for rule in _listed(values.get(direction)) if isinstance(rule, dict)]


def _public_access(values: dict) -> list[str]:
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls",
             "restrict_public_buckets")
    off = [flag for flag in flags if values.get(flag) is False]
    return [f"public access blocked: {'all four' if not off else 'not ' + _codes(off)}"
            + (" :warning:" if off else "")]


# Resource type -> (what it decides, its values described as readable lines).
SECURITY = {
    "aws_iam_role": ("IAM role: who may assume it",
                     lambda v: _statements(v.get("assume_role_policy"))
                     + ([f"permissions boundary `{v['permissions_boundary']}`"]
                        if v.get("permissions_boundary") else [])),
    "aws_iam_role_policy": ("IAM inline policy of role",
                            lambda v: [f"role `{v.get('role')}`"] + _statements(v.get("policy"))),
    "aws_iam_policy": ("IAM managed policy", lambda v: _statements(v.get("policy"))),
    "aws_iam_role_policy_attachment": (
        "IAM policy attached", lambda v: [f"`{v.get('policy_arn')}` to role `{v.get('role')}`"]),
    "aws_iam_openid_connect_provider": (
        "IAM OIDC provider",
        lambda v: [f"`{v.get('url')}` for audiences {_codes(v.get('client_id_list'))}"]),
    "aws_security_group": ("security group rules", _group_rules),
    "aws_default_security_group": ("default security group rules", _group_rules),
    "aws_security_group_rule": ("security group rule",
                                lambda v: [_rule(str(v.get("type")), v)]),
    "aws_vpc_security_group_ingress_rule": ("security group rule",
                                            lambda v: [_rule("ingress", v)]),
    "aws_vpc_security_group_egress_rule": ("security group rule",
                                           lambda v: [_rule("egress", v)]),
    "aws_lb": ("load balancer exposure",
               lambda v: ["**internet-facing** :warning:" if v.get("internal") is False
                          else f"internal: {v.get('internal')}"]),
    "aws_lb_listener": ("load balancer listener",
                        lambda v: [f"{v.get('protocol')} port {v.get('port')}"]),
    "aws_s3_bucket_policy": ("bucket policy", lambda v: [f"bucket `{v.get('bucket')}`"]
                             + _statements(v.get("policy"))),
    "aws_s3_bucket_public_access_block": ("bucket public access block", _public_access),
}


def _configured(config: dict | None, address: str) -> dict:
    """The synthesized arguments of the resource at `address` (references as `${...}`)."""
    kind, _, name = re.sub(r"\[[^\]]*\]$", "", address).partition(".")
    return ((config or {}).get("resource", {}).get(kind, {}).get(name) or {})


def security_changes(stack: str, shown: dict, config: dict | None = None) -> list[str]:
    """Markdown lines for the security-relevant changes of one stack's plan: for each resource
    of a SECURITY type that changes what it allows, the lines removed and added. A value known
    only after apply (a policy naming a resource of the same apply) is read from the stack's
    synthesized configuration, its references shown as `${...}`."""
    lines = []
    for change in resource_changes(shown):
        kind, planned = change.get("type"), actions(change)
        if kind not in SECURITY or change.get("mode", "managed") != "managed" \
                or planned in (["no-op"], ["read"]):
            continue
        label, describe = SECURITY[kind]
        before = describe(change["change"].get("before") or {}) if "delete" in planned or \
            planned == ["update"] else []
        after = []
        if "create" in planned or planned == ["update"]:
            configured = _configured(config, change["address"])
            values = _normalized(change["change"].get("after"),
                                 change["change"].get("after_unknown"),
                                 change["change"].get("after_sensitive"))
            after = describe({key: configured.get(key, value) if value == UNKNOWN else value
                              for key, value in values.items()})
        removed = [line for line in before if line not in after]
        added = [line for line in after if line not in before]
        if not removed and not added:
            continue
        verb = ("replace" if len(planned) == 2 else {"create": "create", "update": "update",
                                                      "delete": "destroy"}[planned[0]])
        lines.append(f"- **{verb}** `{change['address']}` in `{stack}` ({label})")
        lines += [f"  - removed: {line}" for line in removed]
        lines += [f"  - {'added: ' if before else ''}{line}" for line in added]
    return lines


REVIEWED = "ops.plan.reviewed"
# The reviewed changes travel in the comment while they fit; beyond that only their digests.
REVIEWED_LIMIT = 20000


def record(plan: StackPlan) -> dict:
    """One stack's reviewed plan, as `<stack>.changes.json` keeps it."""
    return {"stack": plan.stack, "status": plan.status, "message": plan.message,
            "changes": plan.changes}


def digest(stack_record: dict) -> str:
    canonical = json.dumps([stack_record["status"], stack_record.get("changes")], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def hidden_record(environment_name: str, plans: list[StackPlan]) -> str:
    """The last line of a summary: every stack's reviewed changes, packed into an HTML comment
    (digests only when they would not fit)."""
    records = {plan.stack: record(plan) for plan in plans}

    def packed(value) -> str:
        data = gzip.compress(json.dumps(value, sort_keys=True).encode(), mtime=0)
        return base64.b64encode(data).decode()

    text = packed(records)
    if len(text) > REVIEWED_LIMIT:
        text = packed({stack: {"stack": stack, "status": r["status"], "digest": digest(r)}
                       for stack, r in records.items()})
    return f"<!-- {REVIEWED}:{environment_name} {text} -->"


def reviewed_in(body: str, environment_name: str) -> dict | None:
    """The records hidden_record() packed into a comment body, by stack; None if none."""
    found = re.search(rf"<!-- {re.escape(REVIEWED)}:{re.escape(environment_name)} "
                      r"([A-Za-z0-9+/=]+) -->", body)
    if not found:
        return None
    return json.loads(gzip.decompress(base64.b64decode(found.group(1))))


def read_records(plans: Path, stacks: Iterable[str]) -> dict[str, dict]:
    """The `<stack>.changes.json` ops.plan wrote in `plans`, by stack (absent ones left out)."""
    return {stack: json.loads((plans / f"{stack}.changes.json").read_text())
            for stack in stacks if (plans / f"{stack}.changes.json").is_file()}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _value_differences(reviewed: Any, now: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(reviewed, dict) and isinstance(now, dict):
        return [found for key in sorted(set(reviewed) | set(now))
                for found in _value_differences(reviewed.get(key), now.get(key),
                                                f"{path}.{key}" if path else key)]
    if isinstance(reviewed, list) and isinstance(now, list) and len(reviewed) == len(now):
        return [found for at, (a, b) in enumerate(zip(reviewed, now))
                for found in _value_differences(a, b, f"{path}[{at}]")]
    return [] if reviewed == now else [(path, reviewed, now)]


def differences(reviewed: dict[str, dict], now: dict[str, dict], stacks: Iterable[str],
                shown: int = 5) -> list[str]:
    """How the plans in `now` differ from the `reviewed` ones, stack by stack, one line each
    (at most `shown` attribute paths per resource); [] when they plan the same changes."""
    lines = []
    for stack in stacks:
        then, current = reviewed.get(stack), now.get(stack)
        if current is None or then is None:
            lines.append(f"{stack}: {'not planned now' if then else 'not in the reviewed plan'}")
            continue
        if "changes" not in then:  # the comment kept only a digest
            if then["digest"] != digest(current):
                lines.append(f"{stack}: its planned changes differ from the reviewed ones "
                             "(the comment kept only their digest; compare the two plans)")
            continue
        if then["status"] != current["status"] and {then["status"], current["status"]} != \
                {"changes", "no changes"}:
            lines.append(f"{stack}: {then['status']} in the reviewed plan, {current['status']} "
                         f"now{': ' + current['message'] if current.get('message') else ''}")
            continue
        old = {change["address"]: change for change in then["changes"] or []}
        new = {change["address"]: change for change in current["changes"] or []}
        for address in sorted(set(old) | set(new)):
            a, b = old.get(address), new.get(address)
            if a is None:
                lines.append(f"{stack}: {address}: {'/'.join(b['actions'])} planned now, not "
                             "in the reviewed plan")
            elif b is None:
                lines.append(f"{stack}: {address}: {'/'.join(a['actions'])} in the reviewed "
                             "plan, not planned now")
            elif a["actions"] != b["actions"]:
                lines.append(f"{stack}: {address}: {'/'.join(a['actions'])} in the reviewed "
                             f"plan, {'/'.join(b['actions'])} now")
            else:
                found = _value_differences(a["after"], b["after"])
                lines += [f"{stack}: {address}.{path}: {_short(x)} reviewed, {_short(y)} now"
                          for path, x, y in found[:shown]]
                if len(found) > shown:
                    lines.append(f"{stack}: {address}: and {len(found) - shown} more")
    return lines


def plan_stack(deployment: Runner, stack: str, out: Path) -> StackPlan:
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    plan_file, json_file = (out / f"{stack}.tfplan").resolve(), (out / f"{stack}.json").resolve()
    plan_file.unlink(missing_ok=True)
    forget_show(plan_file)  # json_file too
    try:
        try:
            deployment.init(stack)  # skipped when current: then the plan finds a missing bucket
            text = deployment.plan(stack, str(plan_file)).text
        except StateBucketMissing:
            plan_file.unlink(missing_ok=True)
            return preview_stack(deployment, stack, out, started)
        shown = deployment.show(stack, str(plan_file), "-json")
        keep_show(plan_file, shown)
    except TerraformError as error:
        plan_file.unlink(missing_ok=True)  # Terraform saves an errored plan too: never apply it
        if isinstance(error, DependencyMissing):
            return pending_stack(deployment, stack, started, str(error))
        return StackPlan(stack, "error", message=str(error), seconds=time.monotonic() - started)
    shown = json.loads(shown)
    counts, replacements, destroys = analyse(shown)
    return StackPlan(stack, "changes" if any(counts.values()) else "no changes", counts,
                     replacements, destroys, text, plan_file=plan_file, json_file=json_file,
                     seconds=time.monotonic() - started,
                     security=security_changes(stack, shown, configuration(deployment, stack)),
                     changes=reviewed_changes(shown))


def configuration(runner: Runner, stack: str) -> dict | None:
    """`stack`'s synthesized JSON, None when it is not synthesized."""
    return (synthesized.read(stack, runner.outdir) if synthesized.exists(stack, runner.outdir)
            else None)


def _without_placeholder(text: str, counts: dict[str, int]) -> str:
    """A preview's plan text without the placeholder resource Runner.preview adds, its
    `Plan:` line counting the stack's own resources, as the table does."""
    text = re.sub(rf"  # {re.escape(PREVIEW_PLACEHOLDER)} will be created\n.*?\n    }}\n\n?",
                  "", text, count=1, flags=re.S)
    return re.sub(r"Plan: \d+ to add, \d+ to change, \d+ to destroy\.",
                  "Plan: {add} to add, {change} to change, {destroy} to destroy.".format(**counts),
                  text)


def _preview(deployment: Runner, stack: str) -> tuple[str, dict]:
    """What `stack` would create, planned in a throw-away copy against an empty state with its
    lookups deferred (Runner.preview): the text and the JSON, without the placeholder."""
    with deployment.preview(stack) as preview:
        preview.init(stack)
        with tempfile.TemporaryDirectory() as folder:
            plan_file = str(Path(folder) / "preview.tfplan")
            text = preview.plan(stack, plan_file).text
            shown = preview.show_json(stack, plan_file)
    shown["resource_changes"] = [change for change in resource_changes(shown)
                                 if change["address"] != PREVIEW_PLACEHOLDER]
    return text, shown


def pending_stack(deployment: Runner, stack: str, started: float, reason: str) -> StackPlan:
    """A stack whose dependency is not deployed yet (the app before its VPC): pending, with a
    preview of what it would create, so that a first deploy's app is reviewed too (ops.apply
    --plan-pending applies its plan only if it creates exactly the previewed resources)."""
    try:
        text, shown = _preview(deployment, stack)
    except TerraformError:  # the reason it is pending says what to do; the preview is a bonus
        return StackPlan(stack, "pending", message=reason, seconds=time.monotonic() - started)
    counts, replacements, destroys = analyse(shown)
    return StackPlan(stack, "pending", counts, replacements, destroys,
                     _without_placeholder(text, counts), message=reason,
                     security=security_changes(stack, shown, configuration(deployment, stack)),
                     changes=reviewed_changes(shown), seconds=time.monotonic() - started)


def preview_stack(deployment: Runner, stack: str, out: Path, started: float) -> StackPlan:
    """The environment's state bucket does not exist yet: what `stack` would create, planned in
    a throw-away copy against an empty state (Runner.preview). Only the JSON and the text
    are kept: a preview plan is never applied."""
    json_file = (out / f"{stack}.json").resolve()
    try:
        text, shown = _preview(deployment, stack)
    except TerraformError as error:
        return StackPlan(stack, "error", message=f"preview: {error}",
                         seconds=time.monotonic() - started)
    json_file.write_text(json.dumps(shown))
    counts, replacements, destroys = analyse(shown)
    bootstrap = deployment.environment.stack_names["state"]
    return StackPlan(stack, "preview", counts, replacements, destroys,
                     _without_placeholder(text, counts), json_file=json_file,
                     security=security_changes(stack, shown, configuration(deployment, stack)),
                     changes=reviewed_changes(shown),
                     message=f"state bucket '{deployment.environment.state.bucket}' does not "
                     "exist yet: planned against an empty state, with lookups of other stacks "
                     "known after apply (a placeholder defers them; neither text nor counts "
                     f"include it); never applied. Bootstrap with `python -m ops up --env "
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
    deployment = Runner(environment, env, outdir)
    stacks = list(environment.stack_names.values())
    progress(f"planning {', '.join(stacks)} ...")
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        running = {pool.submit(plan_stack, deployment, stack, out): stack for stack in stacks}
        for done in as_completed(running):
            progress(f"  {running[done]}: {describe(done.result())}")
    plans = [future.result() for future in running]
    for stack_plan in plans:
        (out / f"{stack_plan.stack}.changes.json").write_text(
            json.dumps(record(stack_plan), indent=1, sort_keys=True))
    return plans


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
    """The Markdown summary; starts with marker(environment.name). In order: the headline, the
    security-relevant changes, replacements and destroys, the table, notes, `extra_sections`,
    the plan texts (only these are cut to fit a comment), the reviewed changes (hidden)."""
    code = exit_code(plans)
    totals = {action: sum(plan.counts[action] for plan in plans)
              for action in ("add", "change", "destroy")}
    headline = {NO_CHANGES: "No changes.", ERROR: "**Plan failed.**",
                CHANGES: "**{add} to add, {change} to change, {destroy} to destroy.**".format(
                    **totals)}[code]
    if any(plan.status == "preview" for plan in plans):
        headline += " Preview: the state bucket does not exist yet; nothing here can be applied."
    lines = [marker(environment.name), f"## Terraform plan: `{environment.name}`", "", headline, ""]
    security = [line for plan in plans for line in plan.security]
    if security:
        lines += ["### Security-relevant changes", "",
                  "Who may assume which role, what each policy allows, what is reachable "
                  "from where:", "", *security, ""]
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
        counts = (["", "", ""] if plan.status == "error" or (plan.status == "pending"
                                                              and plan.changes is None)
                  else [str(plan.counts[a]) for a in ("add", "change", "destroy")])
        lines.append(f"| `{plan.stack}` | {plan.status} | " + " | ".join(counts) + " |")
    lines.append("")
    state = environment.stack_names["state"]
    for plan in plans:
        if plan.status == "pending":
            lines.append(f"- `{plan.stack}` not planned yet, a dependency is not deployed: "
                         f"{plan.message}" + (
                             ". Previewed instead (against an empty state, its lookups "
                             "deferred): on deploy, its plan is applied once the stacks before "
                             "it are, only if it creates exactly what the preview shows"
                             if plan.changes is not None else ""))
        elif plan.status == "error":
            lines.append(f"- `{plan.stack}` **error**: {plan.message}")
        elif plan.status == "preview" and plan.message not in "\n".join(lines):
            lines.append(f"- **preview** (every stack marked so): {plan.message}")
        elif plan.stack == state and plan.status == "changes":
            lines.append(f"- `{state}` has changes that CI never applies (it holds the state "
                         "bucket and CI's own roles): an administrator reviews and applies them "
                         f"with `python -m ops up --env {environment.name} --stack "
                         f"{state}`. They do not hold back the other stacks, which do not "
                         "depend on them.")
    if any(plan.status in ("pending", "error", "preview") or
           (plan.stack == state and plan.status == "changes") for plan in plans):
        lines.append("")
    if extra_sections:
        lines += [extra_sections.rstrip(), ""]
    digests = ", ".join(f"`{plan.stack}` {digest(record(plan))}" for plan in plans)
    lines += [f"Reviewed changes (deploy.yml applies only a plan with the same): {digests}", ""]
    head, tail = "\n".join(lines), hidden_record(environment.name, plans)
    budget = max(COMMENT_LIMIT - len(head) - len(tail), 2000)
    shown = [plan for plan in plans if plan.text]
    details = []
    for plan in shown:
        text, share = plan.text, budget // max(len(shown), 1) - 200
        if len(text) > share:
            whole = (f"the whole preview is {plan.stack}.json in this run's plans; a preview "
                     "saves no plan file" if plan.status == "preview" else
                     f"the whole plan is {plan.stack}.tfplan in this run's plans, "
                     f"`terraform show {plan.stack}.tfplan`")
            text = text[:max(share, 500)] + f"\n... (cut to fit a comment: {whole})"
        details += [f"<details><summary>{plan.stack}: {describe(plan)}</summary>", "",
                    _fence(text), "", "</details>", ""]
    return head + "\n" + "\n".join(details) + tail + "\n"


def plan(environment: EnvironmentConfig, env: dict[str, str], out: Path,
         outdir: Path = OUTDIR, synth: bool = True,
         progress=lambda line: None) -> tuple[int, list[StackPlan], Path]:
    """Plan every stack, write out/summary.md; returns (exit code, plans, summary path)."""
    plans = plan_environment(environment, env, out, outdir, synth, progress)
    summary = out / "summary.md"
    summary.write_text(summarize(environment, plans, cost_section(environment, out, outdir)))
    return exit_code(plans), plans, summary


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops plan` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="plan")


if __name__ == "__main__":
    sys.exit(main())
