"""Run a command once in a new task of the service's current task definition (a migration).

With the service's network and roles; its log lines are printed as it writes them, and the
command exits with the container's exit code (what a release pipeline's migration step needs).
"""

import argparse

from ops.cli import ONE
from ops.commands import ServiceTarget, add_poll, on_aws, say, seconds

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def arguments(parser):
    parser.add_argument("--timeout", type=seconds, default=3600, metavar="SECONDS",
                        help="seconds to wait for the task to stop (default 3600)")
    add_poll(parser, 2)
    # Everything after `--` is the task's command, options included.
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                        help="the container's command, e.g. -- ./migrate up")


def run(args):
    from ops.errors import BadInput
    from ops.service_tasks import run_one_off

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise BadInput(f"{args.command}: give the task's command after --, e.g. "
                       "python -m ops run --env uat -- ./migrate up")
    target = ServiceTarget(args)
    with on_aws(args):
        # Its last line says the exit code, which is this command's exit status.
        return run_one_off(target.client("ecs"), target.client("logs"), target.service, argv,
                           timeout=args.timeout, poll=args.poll, say=say)
