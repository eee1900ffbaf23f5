"""Synthesize the environments' stacks into cdktf.out/stacks/<stack>."""

from ops.cli import MANY
from ops.commands import environments

ENV, TARGET, OUT = MANY, False, "where the stacks go (default cdktf.out)"


def run(args):
    import main as app

    app.synth(environments(args), str(args.out) if args.out else None)
