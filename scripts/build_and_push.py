#!/usr/bin/env python3
"""Build the application image, tag it with the git commit, and push it to the environment's ECR
repository (created by app-<env> when `service.ecr_repository = true`).

    python scripts/build_and_push.py --env prod [--context app/] [--dry-run] [--push-latest]

Then set `service.image_tag` in environments/<env>.toml to the printed tag and deploy. The
repository's tags are immutable, so a tag always names the image that was tested; `latest` is
tagged locally (as the guide does) but pushed only with --push-latest, which a repository with
mutable tags needs. --dry-run prints the commands instead of running them.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from constructs_lib.config import ConfigError, load_environments, select_environments  # noqa: E402


def git_commit(short: int = 12) -> str:
    return subprocess.run(["git", "rev-parse", f"--short={short}", "HEAD"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


def account_id() -> str:
    return subprocess.run(["aws", "sts", "get-caller-identity", "--query", "Account",
                           "--output", "text"], check=True, capture_output=True,
                          text=True).stdout.strip()


def commands(*, registry: str, repository: str, region: str, tag: str, context: str,
             push_latest: bool) -> list[list[str] | str]:
    """The steps, in order: a list is one command, a string a shell pipeline."""
    image = f"{registry}/{repository}"
    steps: list[list[str] | str] = [
        ["docker", "build", "--pull", "-t", f"{image}:{tag}", "-t", f"{image}:latest", context],
        f"aws ecr get-login-password --region {shlex.quote(region)} | docker login --username "
        f"AWS --password-stdin {shlex.quote(registry)}",
        ["docker", "push", f"{image}:{tag}"],
    ]
    if push_latest:
        steps.append(["docker", "push", f"{image}:latest"])
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", required=True)
    parser.add_argument("--context", default=".", help="docker build context (default: .)")
    parser.add_argument("--tag", help="default: the current git commit")
    parser.add_argument("--account", help="AWS account id (default: from aws sts)")
    parser.add_argument("--push-latest", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    try:
        (environment,) = select_environments(load_environments(ROOT / "environments"), args.env)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not environment.service.ecr_repository:
        print(f"error: environments/{environment.name}.toml: service.ecr_repository = false: "
              "this environment runs a public image; set it to true to build and push",
              file=sys.stderr)
        return 2
    try:
        tag = args.tag or git_commit()
        account = args.account or ("<account>" if args.dry_run else account_id())
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    region = environment.region
    registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
    steps = commands(registry=registry, repository=f"{environment.project}/"
                     f"{environment.service.name}", region=region, tag=tag,
                     context=args.context, push_latest=args.push_latest)
    for step in steps:
        print("+ " + (step if isinstance(step, str) else shlex.join(step)), flush=True)
        if not args.dry_run:
            result = subprocess.run(step, shell=isinstance(step, str))
            if result.returncode:
                return result.returncode
    print(f"image tag: {tag}  (set service.image_tag = \"{tag}\" in "
          f"environments/{environment.name}.toml, then deploy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
