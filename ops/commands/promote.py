"""Release to one environment the version that runs in another (--from uat --to prod)."""

from ops import commands
from ops.commands import add_timing, on_aws

ENV, TARGET, OUT = None, True, None
SERVICE = True


def arguments(parser):
    parser.add_argument("--from", dest="source", required=True, metavar="NAME",
                        help="the environment whose running version is released")
    parser.add_argument("--to", required=True, metavar="NAME", help="the environment released to")
    add_timing(parser)


def run(args):
    from ops import release
    from ops.errors import BadInput

    if args.source == args.to:
        raise BadInput(f"--from and --to are both {args.source!r}")
    with on_aws(args):
        source, to = commands.release_targets(args, f"{args.source},{args.to}")
        print(release.promote(source, to, timeout=args.timeout, poll=args.poll))
