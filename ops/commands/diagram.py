"""Draw each environment's architecture (PNG and SVG) from its synthesized stacks."""

from ops.cli import MANY
from ops.commands import add_stacks, environments, stacks_dir

ENV, TARGET, OUT = MANY, False, "where the pictures go (default docs/)"


def arguments(parser):
    parser.add_argument("--format", default="png,svg", help="comma-separated (default png,svg)")
    add_stacks(parser)


def run(args):
    from ops import diagram
    from ops.errors import Failed
    from ops.core import ROOT

    found = environments(args)
    formats = tuple(fmt.strip() for fmt in args.format.split(",") if fmt.strip())
    try:
        for path in diagram.draw(found, args.out or diagram.DOCS, formats, stacks_dir(args),
                                 synth=not args.no_synth):
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    except (RuntimeError, FileNotFoundError) as error:  # no Graphviz; stacks not synthesized
        raise Failed(str(error)) from None
