"""Report a fork's pull request as a skipped plan: GitHub gives it no OIDC token (plan.yml)."""

from ops.cli import ONE
from ops.commands import add_summary, append, env_name

ENV, TARGET, OUT = ONE, False, None


def arguments(parser):
    parser.add_argument("--fork", required=True, help="the fork (owner/name)")
    add_summary(parser, "the report")


def run(args):
    from ops.github import fork_skipped

    name = env_name(args)
    append(args.summary, fork_skipped(name, args.fork))
    print(f"::notice::plan of {name} skipped: pull request from the fork {args.fork} "
          "(no OIDC token)")
