"""Open a shell (or run --command) in a running task of the service, through ECS Exec."""

from ops.cli import ONE
from ops.commands import ServiceTarget, on_aws, say

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def arguments(parser):
    # dest: `command` is the command line's own (ops/cli.py: which command runs)
    parser.add_argument("--command", dest="shell", default="/bin/sh", metavar="CMD",
                        help="what to run in the container (default /bin/sh)")
    parser.add_argument("--task", metavar="ID",
                        help="the task (its ID or ARN; default the newest running one)")


def run(args):
    from ops.service_tasks import open_shell

    target = ServiceTarget(args)
    with on_aws(args):
        # The emulator opens the session but runs no container: open_shell says so.
        return open_shell(target.client("ecs"), target.service,
                          region=target.environment.region, command=args.shell, task=args.task,
                          emulator=args.target == "emulator", say=say)
