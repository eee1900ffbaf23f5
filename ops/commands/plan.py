"""Plan an environment's stacks for review without applying them: saved plans and summary.md.

Exits 0 once every stack is planned, whether or not it changes anything, and 1 when a plan
failed. Whether there are changes is an output: the summary line on stdout, and with
--github-output `changes=true` or `changes=false` in the file $GITHUB_OUTPUT names.
"""

from pathlib import Path

from ops.cli import ONE
from ops.commands import add_summary, append, environment, github_output, say, terraform_env
from ops.errors import Failed

ENV, TARGET, OUT = ONE, True, "where the plans and summary.md go (default plans/<env>)"


def arguments(parser):
    add_summary(parser, "summary.md")
    parser.add_argument("--github-output", action="store_true",
                        help="append changes=true|false to the file $GITHUB_OUTPUT names")


def run(args):
    import os
    import time

    from ops import plan
    from ops.core import ROOT

    started = time.monotonic()
    found = environment(args)
    output = github_output() if args.github_output else None
    out = args.out or ROOT / "plans" / found.name
    code, plans, summary = plan.plan(found, terraform_env(args, found), out, progress=say)
    append(args.summary, Path(summary).read_text())
    if output:
        with output.open("a") as file:
            file.write(f"changes={str(code == plan.CHANGES).lower()}\n")
    outcome = {plan.NO_CHANGES: "no changes", plan.CHANGES: "changes"}.get(code, "error")
    print(f"summary: {os.path.relpath(summary)} ({outcome}, {time.monotonic() - started:.1f}s)")
    failed = [stack.message for stack in plans if stack.status == "error"]
    if failed:
        raise Failed("; ".join(failed))
