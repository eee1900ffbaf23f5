"""One module per command of `python -m ops` (ops/cli.py). Each declares the global options it
takes (ENV: ONE, MANY or None; TARGET; OUT: the help of --out, or None), adds its own options
in `arguments(parser)` and in `run(args)` calls the library and prints. What several commands
do with the global options is here, once. Modules import the library inside `run`: listing the
commands loads none of it (`python -S -m ops environments` runs where only Python is)."""

from __future__ import annotations

import argparse
import math
import os
from contextlib import contextmanager
from pathlib import Path

from ops.errors import BadInput, Failed


def select(names: str | None) -> list:
    """The environments named (comma separated; all when empty), from environments/."""
    from ops.core.environments import load

    return load(names)


def environments(args: argparse.Namespace) -> list:
    """The environments --env names (all when it names none)."""
    return select(args.env)


def env_name(args: argparse.Namespace) -> str:
    """The one environment a command acts on (ops/cli.py has refused a list)."""
    if not args.env:
        raise BadInput(f"--env: name the environment {args.command} acts on (or set $ENV)")
    return args.env


def environment(args: argparse.Namespace):
    (found,) = select(env_name(args))
    return found


def stacks(environment, names: list[str] | None) -> list[str]:
    """The --stack names (default all) of the environment, in deploy order."""
    from ops.core.environments import select_stacks

    return select_stacks(environment, names)


def terraform_env(args: argparse.Namespace, environment) -> dict[str, str]:
    """The process environment Terraform runs with for --target."""
    from ops.aws import target_environment

    return target_environment(args.target, environment.region)


def focused(args: argparse.Namespace, environment):
    """`environment` seen from --service (the only service when it names none)."""
    try:
        return environment.focus(getattr(args, "service", None))
    except ValueError as error:
        raise BadInput(f"--service: {error}") from None


def release_targets(args: argparse.Namespace, names: str | None, *,
                    every_service: bool = False) -> list:
    """What the release commands act on: the environments named, on --target, each seen from
    --service (with `every_service` and no --service: one target per service)."""
    from ops.aws import target_environment
    from ops.release import Target

    found = select(names)
    each = ([one for env in found for one in env.each_service()]
            if every_service and not args.service else [focused(args, env) for env in found])
    return [Target(env, target_environment(args.target, env.region)) for env in each]


class ServiceTarget:
    """The environment's service as the day-two commands (logs, exec, run, secrets) address it:
    its names (ops.service_tasks.Service), its environment, and boto3 clients for --target."""

    def __init__(self, args: argparse.Namespace):
        from ops.service_tasks import Service
        from stacks.props import fargate_service

        self.environment = focused(args, environment(args))
        names = self.environment.names
        # The config's container name or the props' default; the app stack's awslogs stream
        # prefix is that name too (constructs_lib/fargate_service.py).
        container = fargate_service(self.environment).container_name
        self.service = Service(cluster=names.cluster, name=names.service, container=container,
                               log_group=names.log_group, stream_prefix=container)
        self.env = terraform_env(args, self.environment)

    def client(self, name: str):
        from ops.aws import client

        return client(name, self.env)


def add_stacks(parser: argparse.ArgumentParser, *, synthesizes: bool = True) -> None:
    parser.add_argument("--stacks", type=Path, metavar="DIR",
                        help="where the stacks are synthesized (default cdktf.out)")
    if synthesizes:
        parser.add_argument("--no-synth", action="store_true",
                            help="read the stacks already in --stacks instead of synthesizing")


def stacks_dir(args: argparse.Namespace) -> Path:
    """Where the stacks are synthesized: --stacks, else cdktf.out."""
    from ops.core import OUTDIR

    return args.stacks or OUTDIR


def synthesized(args: argparse.Namespace, found: list) -> Path:
    """The folder of the environments' synthesized stacks, synthesized there unless
    --no-synth."""
    from ops.core.synth import synthesize

    stacks = stacks_dir(args)
    if not args.no_synth:
        for one in found:
            synthesize(one, stacks, reuse=True)  # skipped when its inputs are unchanged
    return stacks


def add_every_service(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--every-service", action="store_true",
                        help="each service in the file's order whose version differs (the "
                        "others are skipped); the first failure stops the rest")


def every_service(args: argparse.Namespace) -> bool:
    """--every-service, refused beside --service."""
    if args.every_service and args.service:
        raise BadInput("--every-service and --service: give one of them")
    return args.every_service


def seconds(text: str) -> float:
    """An option's seconds: a number above 0 (else argparse's one-line error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds above 0, e.g. 5")
    return value


def add_poll(parser: argparse.ArgumentParser, default: float) -> None:
    parser.add_argument("--poll", type=seconds, default=default, metavar="SECONDS",
                        help=f"seconds between checks (default {default:g})")


def add_timing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=seconds, default=None, metavar="SECONDS",
                        help="seconds to wait for the rollout (default: rolling, the service's "
                        "wait; blue/green, the traffic shift plus the termination wait plus a "
                        "margin: docs/releases.md)")
    add_poll(parser, 5)


@contextmanager
def on_aws(args: argparse.Namespace):
    """An AWS API error in one line; on the emulator, with the likely cause."""
    try:
        yield
    except Exception as error:
        if type(error).__module__ != "botocore.exceptions":
            raise
        hint = " (is the emulator running? make up)" if args.target == "emulator" else ""
        raise Failed(f"{error}{hint}") from error


def add_summary(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--summary", type=Path, metavar="FILE",
                        help=f"append {what} here as Markdown (GITHUB_STEP_SUMMARY)")


def append(summary: Path | None, text: str) -> None:
    """Add `text` to the --summary file, if one was given."""
    if summary is not None and text:
        with summary.open("a") as out:
            out.write("\n" + text.rstrip() + "\n")


def github_output() -> Path:
    """The file $GITHUB_OUTPUT names, for --github-output."""
    if not os.environ.get("GITHUB_OUTPUT"):
        raise BadInput("--github-output: GITHUB_OUTPUT is not set (GitHub Actions sets it)")
    return Path(os.environ["GITHUB_OUTPUT"])


def github():
    """The GitHub API client from the workflow's variables (a missing one is bad input)."""
    from ops.github import GitHub, GitHubError

    try:
        return GitHub.from_environment()
    except GitHubError as error:
        raise BadInput(str(error)) from None


def say(line: str) -> None:
    print(line, flush=True)
