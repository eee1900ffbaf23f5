"""Print the service's recent log lines, each with its task and time (--follow for new ones)."""

import re

from ops.cli import ONE
from ops.commands import ServiceTarget, on_aws, say

ENV, TARGET, OUT = ONE, True, None
SERVICE = True

# --since: a whole number and a unit, seconds per unit.
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"^(\d+)([smhd])$")


def arguments(parser):
    parser.add_argument("--since", default="10m", metavar="DURATION",
                        help="how far back: a number and s, m, h or d, e.g. 30s, 2h, 1d "
                        "(default 10m)")
    parser.add_argument("--follow", action="store_true",
                        help="then keep printing new lines until Ctrl-C")
    parser.add_argument("--filter", metavar="TEXT", help="only the lines that contain TEXT")
    parser.add_argument("--task", metavar="ID", help="only this task's lines (its ID or ARN)")


def seconds(since: str) -> int:
    from ops.errors import BadInput

    found = DURATION.match(since)
    if not found or int(found[1]) == 0:
        raise BadInput(f"--since {since!r}: expected a number above 0 and s, m, h or d, "
                       "e.g. 30s, 10m, 2h, 1d")
    return int(found[1]) * UNITS[found[2]]


def run(args):
    import sys

    from ops.service_tasks import log_lines

    since = seconds(args.since)
    target = ServiceTarget(args)
    with on_aws(args):
        try:
            printed = log_lines(target.client("logs"), target.service, since_seconds=since,
                                text=args.filter, task=args.task, follow=args.follow, say=say)
        except KeyboardInterrupt:  # how --follow ends
            return 0
    if not printed:  # on stderr: a pipe reads only log lines
        print(f"no log lines of {target.service.name} in the last {args.since}", file=sys.stderr)
