"""The environments the workflows run for, read from `environments/*.toml`, in deploy order.

    python -m ops environments                  # one line each: name, region, where from
    python -m ops environments --json           # {"include": [{"name", "region", "promote_from"}]}
    python -m ops environments --github-output  # also appends matrix=<json> and first=<name>
                                                # to $GITHUB_OUTPUT, for `fromJSON(...)`

Deploy order: an environment with `[delivery] promote_from = "<env>"` comes after that
environment and receives the version it runs; the others receive the new build, by name. Adding
`environments/staging.toml` adds staging to plan.yml, deploy.yml and drift.yml with no YAML edit.
Needs only Python 3.11 (no cdktf), so a workflow's first job runs it before installing anything.
A bad file: one line, exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from config import delivery_order, github_variable, load_environments


def matrix(directory: Path) -> dict:
    """The GitHub Actions matrix: one `include` entry per environment, in deploy order."""
    return {"include": [{"name": env.name, "region": env.region,
                         "promote_from": env.delivery.promote_from,
                         "plan_role_variable": github_variable("plan", env.name)}
                        for env in delivery_order(load_environments(directory))]}


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops environments` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="environments", renames={"--dir": "--environments-dir"})


if __name__ == "__main__":
    sys.exit(main())
