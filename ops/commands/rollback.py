"""Release the previous version of record of an environment again."""

from ops import commands
from ops.cli import ONE
from ops.commands import add_timing, env_name, on_aws

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def arguments(parser):
    add_timing(parser)


def run(args):
    from ops import release

    with on_aws(args):
        (target,) = commands.release_targets(args, env_name(args))
        print(release.rollback(target, timeout=args.timeout, poll=args.poll))
