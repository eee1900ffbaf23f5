"""The one reader of planned changes: a plan's `terraform show -json`, the machine-readable UI a
`plan -json` run prints, and what Terraform keeps inside a saved plan file.

`plan -json` names every planned change as it plans: no `show -json` of the plan, a second
start of the AWS provider, is needed to know them (ops.release uses it); a review needs the
values, which only `show -json` has (ops.plan, ops.apply, ops.drift, ops.cost).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any, Iterable, NamedTuple

from ops.core.terraform import json_messages

# What Terraform keeps inside a saved plan: the root module's configuration (cdk.tf.json as it
# was synthesized when planning) and the state it planned against.
SAVED_CONFIG, SAVED_STATE = "tfconfig/m-/cdk.tf.json", "tfstate"


class PlannedChange(NamedTuple):
    address: str
    type: str
    action: str  # create, update, replace, delete, read, noop, move, remove (forget), import


def planned_changes(output: str) -> list[PlannedChange]:
    """The resource changes a `plan -json` run printed."""
    return [PlannedChange(message["change"]["resource"]["addr"],
                          message["change"]["resource"]["resource_type"],
                          message["change"]["action"])
            for message in json_messages(output) if message.get("type") == "planned_change"]


# --- `terraform show -json` of a plan ----------------------------------------------------------


def resource_changes(shown: dict) -> list[dict]:
    """The plan's resource changes (each with address, type, change.actions/before/after)."""
    return shown.get("resource_changes", [])


def actions(change: dict) -> list[str]:
    """A resource change's actions: ["create"], ["delete", "create"] (a replacement), ..."""
    return change["change"]["actions"]


def applyable(shown: dict) -> bool:
    """Whether applying the plan would do anything (Terraform's own flag)."""
    return shown.get("applyable", True)


def created(changes: Iterable[dict], actions_of=actions) -> set[str]:
    """The addresses that `changes` only create."""
    return {change["address"] for change in changes if actions_of(change) == ["create"]}


def _path(parts: Iterable[Any]) -> str:
    """["ingress", 0, "cidr_blocks"] -> "ingress[0].cidr_blocks"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def analyse(shown: dict) -> tuple[dict[str, int], list[tuple[str, list[str]]], list[str]]:
    """Counts (as Terraform prints them: a replacement is one add and one destroy), the
    replacements with the attribute paths forcing them, and the plain destroys."""
    counts = {"add": 0, "change": 0, "destroy": 0}
    replacements, destroys = [], []
    for change in resource_changes(shown):
        planned = actions(change)
        counts["add"] += "create" in planned
        counts["destroy"] += "delete" in planned
        counts["change"] += planned == ["update"]
        if "create" in planned and "delete" in planned:
            paths = [_path(p) for p in change["change"].get("replace_paths") or []]
            if not paths and change.get("action_reason"):
                paths = [change["action_reason"]]  # e.g. replace_because_tainted
            replacements.append((change["address"], paths))
        elif planned == ["delete"]:
            destroys.append(change["address"])
    return counts, replacements, destroys


def counts(shown: dict) -> dict[str, int]:
    """{add, change, destroy}, as Terraform's `Plan:` line counts them."""
    return analyse(shown)[0]


# --- A saved plan file -------------------------------------------------------------------------


def saved_config(plan_file: Path) -> dict:
    """The root module's configuration Terraform keeps inside a saved plan."""
    with zipfile.ZipFile(plan_file) as saved:
        return json.loads(saved.read(SAVED_CONFIG))


def saved_prior_state(plan_file: Path) -> tuple[str, int]:
    """(lineage, serial) of the state the plan was made against; ("", 0) for no state."""
    with zipfile.ZipFile(plan_file) as saved:
        state = json.loads(saved.read(SAVED_STATE))
    return state.get("lineage", ""), state.get("serial", 0)


# --- A saved plan's `terraform show -json`, kept beside it --------------------------------------
# ops.plan writes each saved plan's show as `<stack>.json` (the reviewers' artifact) and, in
# `<stack>.tfplan.sha256`, the digests of the plan file and of that JSON: ops.apply then reads the
# JSON instead of starting the provider for the same `show -json` again (2-3 CPU-s a stack), and
# only while both files are the ones written together.


def shown_file(plan_file: Path) -> Path:
    """Where ops.plan keeps `plan_file`'s `terraform show -json`: `<stack>.json`."""
    return Path(plan_file).with_suffix(".json")


def _digests_file(plan_file: Path) -> Path:
    return Path(plan_file).with_name(Path(plan_file).name + ".sha256")


def _digests(plan_file: Path, shown: str) -> str:
    return " ".join(hashlib.sha256(data).hexdigest()
                    for data in (Path(plan_file).read_bytes(), shown.encode()))


def keep_show(plan_file: Path, shown: str) -> None:
    """Write `shown` (`terraform show -json plan_file`) beside the plan, with the digests that
    tie the two together."""
    shown_file(plan_file).write_text(shown)
    _digests_file(plan_file).write_text(_digests(plan_file, shown) + "\n")


def forget_show(plan_file: Path) -> None:
    """Remove what keep_show() wrote for `plan_file`."""
    for path in (shown_file(plan_file), _digests_file(plan_file)):
        path.unlink(missing_ok=True)


def kept_show(plan_file: Path) -> dict | None:
    """`plan_file`'s show as keep_show() wrote it, parsed; None when there is none or either
    file changed since (then only `terraform show` can tell)."""
    json_path, digests = shown_file(plan_file), _digests_file(plan_file)
    if not (json_path.is_file() and digests.is_file() and Path(plan_file).is_file()):
        return None
    shown = json_path.read_text()
    if digests.read_text().strip() != _digests(plan_file, shown):
        return None
    return json.loads(shown)
