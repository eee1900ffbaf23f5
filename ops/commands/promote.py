"""Release to one environment the version that runs in another (--from uat --to prod)."""

from ops import commands
from ops.commands import add_every_service, add_timing, every_service, on_aws

ENV, TARGET, OUT = None, True, None
SERVICE = True


def arguments(parser):
    parser.add_argument("--from", dest="source", required=True, metavar="NAME",
                        help="the environment whose running version is released")
    parser.add_argument("--to", required=True, metavar="NAME", help="the environment released to")
    add_every_service(parser)
    add_timing(parser)


def run(args):
    from ops import release
    from ops.errors import BadInput

    if args.source == args.to:
        raise BadInput(f"--from and --to are both {args.source!r}")
    with on_aws(args):
        if every_service(args):
            targets = commands.release_targets(args, args.to, every_service=True)
            sources = {one.environment.service_key: one for one in commands.release_targets(
                args, args.source, every_service=True)}
            print(release.each_service(targets, lambda target: release.promote_changed(
                source_of(sources, target), target, timeout=args.timeout, poll=args.poll)))
            return
        source, to = commands.release_targets(args, f"{args.source},{args.to}")
        print(release.promote(source, to, timeout=args.timeout, poll=args.poll))


def source_of(sources: dict, target):
    """The source environment's same service (by name), or Refused naming it."""
    from ops.errors import Refused

    key = target.environment.service_key
    if key not in sources:
        raise Refused(f"{target.label}: the environment promoted from has no service {key}")
    return sources[key]
