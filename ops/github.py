"""The few GitHub REST calls the workflows make, with urllib; and the commands that use them.

    python -m ops comment --pr 12 --body-file plans/uat/summary.md
    python -m ops reviewed --env uat --commit SHA --plans plans/uat [--summary FILE]
                                  [--allow-unreviewed true]
    python -m ops fork-skipped --env uat --fork someone/hello [--summary FILE]

`comment` keeps one comment per marker on a pull request: the body's first line is its hidden
marker (`<!-- ops.plan:uat -->`); a comment of the workflow's bot starting with it is edited,
else one is added.

`reviewed` (deploy.yml, after ops.plan on main) finds the merged pull request of the commit and
the plan it showed (the reviewed changes ops.plan hides in its comment), and refuses, with the
difference, when the plans of the stacks CI applies (all but state-<env>) plan other changes:
dflook/terraform-apply's rule, the approver sees what is applied. A commit with no merged pull
request, or one whose plan comment is missing, is refused, unless `--allow-unreviewed true`
(deploy.yml's workflow_dispatch input) says to apply a plan only this run shows.

`fork-skipped` (plan.yml) reports a pull request from a fork as a skipped plan: GitHub gives its
workflow no OIDC token, so nothing can be planned against AWS.

Reads GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name) and GITHUB_API_URL (default
https://api.github.com), which GitHub Actions sets. Exit 0 done, 1 the API refused (one line),
2 bad input or refused.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

from ops.errors import Failed, Refused


class GitHubError(Failed):
    """A failed call or missing setting; the message is the one line shown."""


class GitHub:
    def __init__(self, token: str, repository: str, api_url: str = "https://api.github.com"):
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set (the workflow passes "
                              "secrets.GITHUB_TOKEN)")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository or ""):
            raise GitHubError(f"GITHUB_REPOSITORY = {repository!r}: expected owner/name")
        self.token, self.api_url = token, api_url.rstrip("/")
        self.repo = f"/repos/{repository}"

    @classmethod
    def from_environment(cls) -> "GitHub":
        return cls(os.environ.get("GITHUB_TOKEN", ""), os.environ.get("GITHUB_REPOSITORY", ""),
                   os.environ.get("GITHUB_API_URL") or "https://api.github.com")

    def _call(self, method: str, url: str, body: dict | None = None):
        request = urllib.request.Request(
            url, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}",
                     "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return (json.loads(text) if text else None), response.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            try:
                detail = json.loads(detail).get("message", detail)
            except ValueError:
                pass
            raise GitHubError(f"{method} {url}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise GitHubError(f"{method} {url}: {getattr(error, 'reason', error)}") from None

    def request(self, method: str, path: str, body: dict | None = None):
        """One call; `path` relative to the repository (`/issues`), returns the parsed JSON."""
        return self._call(method, f"{self.api_url}{self.repo}{path}", body)[0]

    def paginate(self, path: str) -> list:
        """Every item of a list endpoint, following the Link header's rel="next"."""
        items, url = [], f"{self.api_url}{self.repo}{path}"
        url += ("&" if "?" in url else "?") + "per_page=100"
        while url:
            page, link = self._call("GET", url)
            items += page
            found = re.search(r'<([^>]+)>;\s*rel="next"', link)
            url = found.group(1) if found else None
        return items


def keep_one_comment(github: GitHub, pull_request: int, body: str) -> str:
    """Edit the bot's comment that starts with the body's first line, or add one."""
    marker = body.splitlines()[0]
    comments = github.paginate(f"/issues/{pull_request}/comments")
    mine = next((comment for comment in comments if comment["user"]["type"] == "Bot"
                 and comment["body"].startswith(marker)), None)
    if mine:
        github.request("PATCH", f"/issues/comments/{mine['id']}", {"body": body})
        return f"updated comment {mine['id']} on #{pull_request}"
    made = github.request("POST", f"/issues/{pull_request}/comments", {"body": body})
    return f"added comment {made['id']} on #{pull_request}"


def merged_pull_request(github: GitHub, commit: str) -> dict | None:
    """The merged pull request that brought `commit` to its branch, or None (a direct push)."""
    pulls = [pull for pull in github.request("GET", f"/commits/{commit}/pulls") or []
             if pull.get("merged_at")]
    return next((pull for pull in pulls if pull.get("merge_commit_sha") == commit),
                pulls[0] if pulls else None)


def bot_comment(github: GitHub, pull_request: int, marker: str) -> str | None:
    """The body of the workflow bot's comment starting with `marker`, or None."""
    comments = [comment for comment in github.paginate(f"/issues/{pull_request}/comments")
                if comment["user"]["type"] == "Bot" and comment["body"].startswith(marker)]
    return comments[-1]["body"] if comments else None


def compare_with_review(github_of, environment: str, commit: str, plans: Path,
                        allow_unreviewed: bool) -> str:
    """What deploy.yml's plan job checks before any apply: the plans in `plans` plan the changes
    the merged pull request of `commit` showed (ops.plan.differences). Returns the Markdown to
    report; raises Refused (its first line the reason, then the differences)."""
    from ops import plan  # here: `comment` needs no Terraform tooling
    from ops.apply import ci_stacks
    from ops.core import environments

    config = environments.load_one(environment)
    stacks = ci_stacks(config)
    now = plan.read_records(plans, stacks)
    if set(now) != set(stacks):
        raise Refused(f"{plans}: no plans of {', '.join(sorted(set(stacks) - set(now)))}; run "
                      f"`python -m ops plan --env {environment} --out {plans}` first")
    if allow_unreviewed:
        return (f"Not compared with a pull request: `apply_unreviewed` was set when this run "
                f"was started by hand, so the approver reviews the plan above (of "
                f"{', '.join(stacks)}).")
    github = github_of()
    pull = merged_pull_request(github, commit)
    if pull is None:
        raise Refused(f"commit {commit[:12]} has no merged pull request (a direct push?), so no "
                      "plan of it was reviewed; merge it through a pull request, or run deploy "
                      "by hand (workflow_dispatch) with apply_unreviewed after reading its plan")
    number = pull["number"]
    body = bot_comment(github, number, plan.marker(environment))
    reviewed = plan.reviewed_in(body or "", environment)
    if reviewed is None:
        why = ("has no plan comment for " if body is None else
               "has a plan comment without reviewed changes (an older ops.plan) for ")
        raise Refused(f"pull request #{number} {why}{environment}, so what is applied cannot "
                      "be compared with what was reviewed; re-run its plan workflow, or run "
                      "deploy by hand (workflow_dispatch) with apply_unreviewed after reading "
                      "this run's plan")
    found = plan.differences(reviewed, now, stacks)
    if found:
        raise Refused(f"the plan of {environment} at {commit[:12]} differs from what pull "
                      f"request #{number} showed; plan the change again in a pull request (or "
                      "run deploy by hand with apply_unreviewed after reading this plan):\n"
                      + "\n".join(f"  {line}" for line in found))
    digests = ", ".join(f"`{stack}` {plan.digest(now[stack])}" for stack in stacks)
    return (f"The plans of {', '.join(stacks)} plan the changes pull request #{number} showed "
            f"({digests}).")


def fork_skipped(environment: str, fork: str) -> str:
    return (f"## Terraform plan: `{environment}` skipped\n\nThis pull request comes from the "
            f"fork `{fork}`: GitHub gives a fork's workflow no OIDC token (and a read-only "
            "token), so it cannot plan against AWS. A maintainer reads the change; to see its "
            "plan, push the branch to this repository and open the pull request from there.\n")


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops comment, reviewed, fork-skipped` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"comment": "comment", "reviewed": "reviewed", "fork-skipped": "fork-skipped"})


if __name__ == "__main__":
    sys.exit(main())
