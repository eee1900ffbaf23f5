"""What runs where: version, revision, tasks and deployment per environment, in deploy order."""

from ops import commands
from ops.cli import MANY
from ops.commands import on_aws

ENV, TARGET, OUT = MANY, True, None
SERVICE = True


def run(args):
    from ops import release

    with on_aws(args):
        print(release.status(commands.release_targets(args, args.env, every_service=True)))
