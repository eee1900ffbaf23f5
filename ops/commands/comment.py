"""Add or update the pull request's comment whose first line is the body's hidden marker."""

from pathlib import Path

ENV, TARGET, OUT = None, False, None


def arguments(parser):
    parser.add_argument("--pr", type=int, required=True, help="pull request number")
    parser.add_argument("--body-file", type=Path, required=True,
                        help="Markdown whose first line is the comment's hidden marker")


def run(args):
    from ops.commands import github
    from ops.errors import BadInput
    from ops.github import keep_one_comment

    try:
        body = args.body_file.read_text()
    except OSError as error:
        raise BadInput(f"{args.body_file}: cannot read: {error.strerror}") from None
    if not body.startswith("<!--"):
        raise BadInput(f"{args.body_file}: the first line must be a hidden marker "
                       "(<!-- ... -->) that finds the comment again")
    print(keep_one_comment(github(), args.pr, body))
