"""Refuse plans of main that differ from what the merged pull request showed (deploy.yml)."""

from pathlib import Path

from ops.cli import ONE
from ops.commands import add_summary, append, env_name

ENV, TARGET, OUT = ONE, False, None


def arguments(parser):
    parser.add_argument("--commit", required=True, help="the commit planned (GITHUB_SHA)")
    parser.add_argument("--plans", type=Path, required=True, metavar="DIR",
                        help="where `plan` wrote them (its --out)")
    parser.add_argument("--allow-unreviewed", choices=["true", "false"], default="false",
                        help="true: compare nothing (a run started by hand says so)")
    add_summary(parser, "the result")


def run(args):
    from ops.github import GitHub, Refused, compare_with_review

    try:
        text = compare_with_review(GitHub.from_environment, env_name(args), args.commit,
                                   args.plans, args.allow_unreviewed == "true")
    except Refused as refused:
        append(args.summary, "**Not applied: refused.** " + str(refused).replace("\n  ", "\n- "))
        raise
    append(args.summary, text)
    print(text)
