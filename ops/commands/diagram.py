"""Draw each environment's architecture (PNG and SVG) from its synthesized stacks."""

from pathlib import Path

from ops.cli import MANY
from ops.commands import environments

ENV, TARGET, OUT = MANY, False, "where the pictures go (default docs/)"


def arguments(parser):
    parser.add_argument("--format", default="png,svg", help="comma-separated (default png,svg)")
    parser.add_argument("--stacks", type=Path, metavar="DIR",
                        help="where the stacks are synthesized (default cdktf.out)")
    parser.add_argument("--no-synth", action="store_true",
                        help="read the stacks already in --stacks instead of synthesizing")


def run(args):
    from ops import diagram
    from ops.errors import Failed
    from ops.terraform import ROOT

    found = environments(args)
    formats = tuple(fmt.strip() for fmt in args.format.split(",") if fmt.strip())
    stacks, out = args.stacks or ROOT / "cdktf.out", args.out or diagram.DOCS
    try:
        if not args.no_synth:
            import main as app
            app.synth(found, str(stacks))
        for env in found:
            graph = diagram.synthesized_architecture(env, stacks)
            for path in diagram.render(graph, out / f"architecture-{env.name}", formats):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    except (RuntimeError, FileNotFoundError) as error:  # no Graphviz; stacks not synthesized
        raise Failed(str(error)) from None
