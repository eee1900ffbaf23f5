"""The few GitHub REST calls the workflows make, with urllib; and the plan comment command.

    python -m ops.github comment --pr 12 --body-file plans/uat/summary.md

`comment` keeps one comment per marker on a pull request: the body's first line is its hidden
marker (`<!-- ops.plan:uat -->`); a comment of the workflow's bot starting with it is edited,
else one is added. Reads GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name) and GITHUB_API_URL
(default https://api.github.com), which GitHub Actions sets. Exit 0 done, 1 the API refused
(one line), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path


class GitHubError(Exception):
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


def report(action) -> int:
    """Print what `action()` did and return 0; or, when GitHub refused, one line and 1."""
    try:
        print(action())
    except GitHubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.github", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    comment = commands.add_parser("comment", help="add or update the pull request's comment")
    comment.add_argument("--pr", type=int, required=True, help="pull request number")
    comment.add_argument("--body-file", type=Path, required=True,
                         help="Markdown whose first line is the comment's hidden marker")
    args = parser.parse_args(argv)
    try:
        body = args.body_file.read_text()
        if not body.startswith("<!--"):
            print(f"error: {args.body_file}: the first line must be a hidden marker "
                  "(<!-- ... -->) that finds the comment again", file=sys.stderr)
            return 2
        github = GitHub.from_environment()
    except OSError as error:
        print(f"error: {args.body_file}: cannot read: {error.strerror}", file=sys.stderr)
        return 2
    except GitHubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return report(lambda: keep_one_comment(github, args.pr, body))


if __name__ == "__main__":
    sys.exit(main())
