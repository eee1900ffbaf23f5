"""Report drift: one GitHub issue per environment while its plan is not clean.

    python -m ops plan --env uat --out plans/uat     # first (drift.yml runs it on a schedule)
    python -m ops drift --env uat --plans plans/uat

The environment is clean when every one of its stacks was planned (`<stack>.json` in --plans)
with nothing to add, change or destroy. Not clean: the issue whose body holds the hidden marker
`<!-- ops.drift:<env> -->` gets the plan's summary.md (opened if there is none); clean: that
issue, if open, gets a comment and is closed. Uses GITHUB_TOKEN, GITHUB_REPOSITORY and
GITHUB_API_URL (see ops/github.py). Prints what it did; exit 0, 1 when GitHub refused, 2 for bad
input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from config import EnvironmentConfig
from ops.core import planned
from ops.github import GitHub


def marker(environment_name: str) -> str:
    return f"<!-- ops.drift:{environment_name} -->"


def drifted(environment: EnvironmentConfig, plans: Path) -> list[str]:
    """What is not clean, one line per stack (empty when the environment is clean)."""
    found = []
    for stack in environment.stack_names.values():
        shown = plans / f"{stack}.json"
        if not shown.is_file():
            found.append(f"{stack}: not planned (see the summary)")
            continue
        counts = planned.counts(json.loads(shown.read_text()))
        if any(counts.values()):
            found.append(f"{stack}: " + ", ".join(f"{n} to {action}"
                                                   for action, n in counts.items()))
    return found


def reconcile(github: GitHub, environment: EnvironmentConfig, plans: Path,
              run_url: str = "") -> str:
    """Open, update or close the environment's drift issue; returns what was done."""
    name, tag = environment.name, marker(environment.name)
    issues = [issue for issue in github.paginate("/issues?state=open")
              if "pull_request" not in issue and tag in (issue.get("body") or "")]
    issue = issues[0] if issues else None
    found = drifted(environment, plans)
    if not found:
        if issue is None:
            return f"{name}: clean, no open drift issue"
        github.request("POST", f"/issues/{issue['number']}/comments",
                       {"body": f"The plan of `{name}` is clean again{run_url and f' ({run_url})'}"
                                "; closing."})
        github.request("PATCH", f"/issues/{issue['number']}",
                       {"state": "closed", "state_reason": "completed"})
        return f"{name}: clean, closed #{issue['number']}"
    summary = plans / "summary.md"
    body = "\n".join([tag, f"The deployed `{name}` differs from what this repository's "
                      "Terraform configuration describes (someone changed it by hand, or a "
                      "change was never applied):", "", *[f"- {line}" for line in found], "",
                      *([f"Last checked: {run_url}", ""] if run_url else []),
                      summary.read_text() if summary.is_file() else "(no summary.md)"])
    if issue is None:
        made = github.request("POST", "/issues", {"title": f"Drift in {name}", "body": body})
        return f"{name}: drift, opened #{made['number']}"
    github.request("PATCH", f"/issues/{issue['number']}", {"body": body})
    return f"{name}: drift, updated #{issue['number']}"


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops drift` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="drift")


if __name__ == "__main__":
    sys.exit(main())
