"""Clear an environment's release lock, left by a release that died."""

from ops import commands
from ops.cli import ONE
from ops.commands import env_name, on_aws

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def run(args):
    from ops import release

    with on_aws(args):
        (target,) = commands.release_targets(args, env_name(args))
        print(release.unlock(target))
