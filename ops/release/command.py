"""The command line of `python -m ops.release` (see the package's docstring)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from config import ConfigError, select_environments
from ops.aws import target_environment
from ops.core import environments
from ops.errors import EXIT_DONE as DONE, EXIT_FAILED as FAILED, EXIT_REFUSED as REFUSED
from ops.errors import OpsError, Refused
from ops.release.deploy import deploy
from ops.release.lock import unlock
from ops.release.promote import promote
from ops.release.rollback import rollback
from ops.release.status import status
from ops.release.target import DIGEST, TAG, RolloutFailed, Target
from ops.release.wait import ROLLING_WAIT_SECONDS, START_MARGIN_SECONDS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(REFUSED, f"error: {message} (python -m ops.release --help)\n")


def parser() -> argparse.ArgumentParser:
    import ops.release  # its docstring is the command's reference

    parser = _Parser(prog="python -m ops.release", description=ops.release.__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["emulator", "aws"],
                        default=os.environ.get("DEPLOY_TARGET", "emulator"))
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"seconds to wait for a rollout (default: rolling "
                             f"{ROLLING_WAIT_SECONDS}; blue/green the traffic shift plus the "
                             f"termination wait plus {START_MARGIN_SECONDS})")
    parser.add_argument("--poll", type=float, default=5, help="seconds between checks")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    deploy_parser = commands.add_parser("deploy", help="release a version to an environment")
    deploy_parser.add_argument("--env", required=True)
    deploy_parser.add_argument("--version", required=True,
                               help="an image tag (the git commit) or sha256:<digest>")
    promote_parser = commands.add_parser("promote", help="deploy what runs in one environment "
                                                         "to another")
    promote_parser.add_argument("--from", dest="source", required=True)
    promote_parser.add_argument("--to", dest="to", required=True)
    for name, text in (("rollback", "back to the previous version of record"),
                       ("unlock", "clear the release lock of a release that died")):
        commands.add_parser(name, help=text).add_argument("--env", required=True)
    commands.add_parser("status", help="what runs where").add_argument("--env")
    return parser


def run(args: argparse.Namespace, targets: Callable[[str | None], list[Target]]) -> int:
    """Run the parsed command with `targets(names)` giving the environments; the exit status.
    Each failure is one line on stderr."""
    timing = {"timeout": args.timeout, "poll": args.poll}
    try:
        if args.command == "status":
            print(status(targets(args.env)))
            return DONE
        if args.command == "deploy":
            (target,) = targets(args.env)
            if not (TAG.match(args.version) or DIGEST.match(args.version)):
                raise Refused(f"--version {args.version!r}: not an image tag or "
                              "sha256:<64 hex digits>")
            print(deploy(target, args.version, **timing))
        elif args.command == "promote":
            if args.source == args.to:
                raise Refused(f"--from and --to are both {args.source!r}")
            source, to = targets(f"{args.source},{args.to}")
            print(promote(source, to, **timing))
        elif args.command == "rollback":
            (target,) = targets(args.env)
            print(rollback(target, **timing))
        else:
            (target,) = targets(args.env)
            print(unlock(target))
        return DONE
    except (Refused, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return REFUSED
    except RolloutFailed as error:
        print(str(error), file=sys.stderr)
        return FAILED
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return FAILED
    except (BotoCoreError, ClientError) as error:
        hint = " (is the emulator running? make up)" if args.target == "emulator" else ""
        print(f"error: {error}{hint}", file=sys.stderr)
        return FAILED


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def targets(names: str | None) -> list[Target]:
        every = {env.name: env for env in environments.load()}
        for name in (names or "").split(","):
            if name and name not in every:
                raise Refused(f"unknown environment {name!r}; allowed: "
                              f"{', '.join(every)} (environments/<name>.toml)")
        return [Target(environment, target_environment(args.target, environment.region))
                for environment in select_environments(list(every.values()), names)]

    return run(args, targets)
