"""Rewrite docs/configuration.md's reference table from the config dataclasses' comments."""

ENV, TARGET, OUT = None, False, None


def arguments(parser):
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/configuration.md is not what would be written")


def run(args):
    from ops import config_reference as reference
    from ops.errors import BadInput, Failed

    try:
        current = reference.DOC.read_text()
    except OSError as error:
        raise BadInput(f"{reference.DOC}: cannot read: {error.strerror}") from None
    wanted = reference.render(current)
    where = reference.DOC.relative_to(reference.ROOT)
    if args.check and current != wanted:
        raise Failed(f"{where} is out of date; run make docs")
    if not args.check and current != wanted:
        reference.DOC.write_text(wanted)
        print(f"wrote {where}")
