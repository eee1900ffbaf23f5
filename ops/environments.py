"""The environments the workflows run for, read from `environments/*.toml`, in deploy order.

    python -m ops.environments                  # one line each: name, region, where from
    python -m ops.environments --json           # {"include": [{"name", "region", "promote_from"}]}
    python -m ops.environments --github-output  # also appends matrix=<json> and first=<name>
                                                # to $GITHUB_OUTPUT, for `fromJSON(...)`

Deploy order: an environment with `[delivery] promote_from = "<env>"` comes after that
environment and receives the version it runs; the others receive the new build, by name. Adding
`environments/staging.toml` adds staging to plan.yml, deploy.yml and drift.yml with no YAML edit.
Needs only Python 3.11 (no cdktf), so a workflow's first job runs it before installing anything.
A bad file: one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from config import (ConfigError, delivery_order, environments_dir, github_variable,
                                   load_environments)


def matrix(directory: Path) -> dict:
    """The GitHub Actions matrix: one `include` entry per environment, in deploy order."""
    return {"include": [{"name": env.name, "region": env.region,
                         "promote_from": env.delivery.promote_from,
                         "plan_role_variable": github_variable("plan", env.name)}
                        for env in delivery_order(load_environments(directory))]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.environments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=environments_dir(),
                        help="the environment files' folder (default: environments/)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="the matrix as one JSON line")
    shown.add_argument("--github-output", action="store_true",
                       help="append matrix= and first= to the file $GITHUB_OUTPUT names")
    args = parser.parse_args(argv)
    try:
        found = matrix(args.dir)
        if args.github_output and not os.environ.get("GITHUB_OUTPUT"):
            raise ConfigError("--github-output: GITHUB_OUTPUT is not set (GitHub Actions sets it)")
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json or args.github_output:
        lines = [f"matrix={json.dumps(found, separators=(',', ':'))}",
                 f"first={found['include'][0]['name']}"]
        if args.github_output:
            with open(os.environ["GITHUB_OUTPUT"], "a") as output:
                output.write("\n".join(lines) + "\n")
        print(lines[0].removeprefix("matrix=") if args.json else "\n".join(lines))
        return 0
    for entry in found["include"]:
        source = (f"promoted from {entry['promote_from']}" if entry["promote_from"]
                  else "new build")
        print(f"{entry['name']:<16} {entry['region']:<16} {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
