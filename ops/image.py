"""Build the application image (app/), tag it with the git commit, push it to the environment's
ECR repository, and print its digest.

    python -m ops image --env uat [--tag T] [--context app] [--dry-run] [--target emulator|aws]

The repository is the environment's (`service.ecr_repository`, or the one it shares through
`service.ecr_repository_owner`). Its tags are immutable, so a tag names one image forever: a
commit already in the repository is not built again (its digest is printed, exit 0), which makes
a re-run of CI harmless (and `latest` is never pushed: it could be pushed once). The image is
built for the tasks' platform (linux/amd64) from any machine, as one manifest: no provenance
attestation, whose untagged parts the repository's lifecycle rule would expire. --dry-run prints
the commands instead of running them.
Then release it: `python -m ops release --env uat --version <tag or digest>`.

Exit status: 0 pushed (or already there), 1 a step failed, 2 bad input or no repository to
push to (nothing built or pushed).
"""

from __future__ import annotations

import shlex
import subprocess
import sys

from config import EnvironmentConfig
from constructs_lib.props.fargate_service import IMAGE_PLATFORM
from ops.aws import client
from ops.core import ROOT
from ops.errors import BadInput, Failed


class ImageError(Failed):
    """A failed step (exit 1); the message is the one line shown to the user."""


class ImageRefused(ImageError, BadInput):
    """Bad input, nothing done (exit 2)."""


def git_commit(short: int = 12) -> str:
    return subprocess.run(["git", "rev-parse", f"--short={short}", "HEAD"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


def commands(*, registry: str, repository: str, region: str, tag: str,
             context: str) -> list[list[str] | str]:
    """The steps, in order: a list is one command, a string a shell pipeline."""
    image = f"{registry}/{repository}"
    return [
        ["docker", "build", "--pull", "--platform", IMAGE_PLATFORM, "--provenance=false",
         "--build-arg", f"VERSION={tag}", "-t", f"{image}:{tag}", context],
        f"aws ecr get-login-password --region {shlex.quote(region)} | docker login --username "
        f"AWS --password-stdin {shlex.quote(registry)}",
        ["docker", "push", f"{image}:{tag}"],
    ]


def digest_of(ecr, repository: str, tag: str,
              owner: EnvironmentConfig | None = None) -> str | None:
    """The digest of `repository:tag` in ECR, or None when the tag is not there; ImageRefused
    when the repository itself is missing (nothing can be pushed there); `owner` is the
    environment that creates it."""
    try:
        images = ecr.describe_images(repositoryName=repository,
                                     imageIds=[{"imageTag": tag}])["imageDetails"]
    except ecr.exceptions.ImageNotFoundException:
        return None
    except ecr.exceptions.RepositoryNotFoundException:
        where = ""
        if owner is not None:
            stack = owner.stack_names["state"]
            where = (f"; {stack} creates it: an administrator applies it with `python -m "
                     f"ops up --env {owner.name} --stack {stack}`")
        raise ImageRefused(f"ECR repository {repository} does not exist in "
                           f"{ecr.meta.region_name}{where}, then push again") from None
    return images[0]["imageDigest"] if images else None


def push(environment: EnvironmentConfig, *, tag: str, context: str, dry_run: bool,
         env: dict[str, str], account: str | None = None,
         owner: EnvironmentConfig | None = None) -> str | None:
    """Build and push `tag` unless it is in the repository already; returns the digest (None
    on a dry run). `owner`: the environment that creates the repository (default: this one)."""
    repository = environment.names.repository
    if repository is None:
        raise ImageRefused(
            f"environments/{environment.name}.toml: service.ecr_repository = false: this "
            "environment runs a public image; set ecr_repository = true (or "
            "ecr_repository_owner) to build and push")
    ecr = None if dry_run else client("ecr", env)
    if ecr is not None:
        existing = digest_of(ecr, repository, tag, owner or environment)
        if existing:
            print(f"{repository}:{tag} is already in ECR (tags are immutable); not rebuilt")
            return existing
        account = account or client("sts", env).get_caller_identity()["Account"]
    registry = f"{account or '<account>'}.dkr.ecr.{environment.region}.amazonaws.com"
    for step in commands(registry=registry, repository=repository, region=environment.region,
                         tag=tag, context=context):
        print("+ " + (step if isinstance(step, str) else shlex.join(step)), flush=True)
        if not dry_run and subprocess.run(step, shell=isinstance(step, str), env=env).returncode:
            raise ImageError(f"{step if isinstance(step, str) else shlex.join(step)}: failed")
    if ecr is None:
        return None
    digest = digest_of(ecr, repository, tag)
    if digest is None:
        raise ImageError(f"{repository}:{tag}: pushed, but ECR does not list it")
    return digest


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops image` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"push": "image"})


if __name__ == "__main__":
    sys.exit(main())
