"""Destroy an environment's app and network, and stop the emulator once nothing is left in it."""

from ops.cli import ONE
from ops.commands import environment

ENV, TARGET, OUT = ONE, True, None


def run(args):
    from ops import deploy

    return deploy.down(environment(args), args.target)
