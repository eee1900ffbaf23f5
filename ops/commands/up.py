"""Deploy an environment: start the emulator if needed, then apply its state, network and app."""

from ops.cli import ONE
from ops.commands import environment, stacks

ENV, TARGET, OUT = ONE, True, None


def arguments(parser):
    parser.add_argument("--stack", action="append", help="only these stacks (default: all)")


def run(args):
    from ops import deploy

    found = environment(args)
    return deploy.up(found, stacks(found, args.stack), args.target)
