"""A local stand-in for the few GitHub REST endpoints the workflows' commands call (ops/github.py,
ops/drift.py), for the workflow replay: issues and pull requests (one number space), their
comments, with pagination by Link header, and the pull requests of a commit (GET
/commits/{sha}/pulls). It checks the token and the repository as GitHub would
(401 / 404) and keeps everything in memory for the test to read.

    with FakeGitHub("acme/hello-world", token="t") as github:
        env["GITHUB_API_URL"] = github.url
        ...
        github.comments(12)   # the bodies on pull request 12
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BOT = {"login": "github-actions[bot]", "type": "Bot"}


class FakeGitHub:
    def __init__(self, repository: str, token: str, page_size: int = 30):
        self.repository, self.token, self.page_size = repository, token, page_size
        self.issues: dict[int, dict] = {}
        self.comment_list: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self._next = 1
        self._lock = threading.Lock()

    # -- what tests set up and read -------------------------------------------------------
    def open_pull_request(self, title: str = "a change", head_sha: str = "") -> int:
        with self._lock:
            number = self._new_number()
            self.issues[number] = {"number": number, "title": title, "body": "", "state": "open",
                                   "pull_request": {"url": f"{self.url}/pulls/{number}"},
                                   "user": {"login": "developer", "type": "User"},
                                   "head": {"sha": head_sha}, "merged_at": None,
                                   "merge_commit_sha": None}
            return number

    def merge(self, number: int, merge_commit_sha: str) -> None:
        """The pull request merged as `merge_commit_sha` (what the push to main then carries)."""
        with self._lock:
            self.issues[number].update(state="closed", merged_at="2026-01-01T00:00:00Z",
                                       merge_commit_sha=merge_commit_sha)

    def comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.comment_list if c["issue"] == number]

    def open_issues(self) -> list[dict]:
        return [i for i in self.issues.values() if i["state"] == "open"
                and "pull_request" not in i]

    def _new_number(self) -> int:
        number, self._next = self._next, self._next + 1
        return number

    # -- server ---------------------------------------------------------------------------
    def __enter__(self) -> "FakeGitHub":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body=None, link: str = ""):
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if link:
                    self.send_header("Link", link)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                fake.requests.append((method, self.path))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._answer(401, {"message": "Bad credentials"})
                with fake._lock:
                    status, answer, link = fake.route(method, self.path, body)
                self._answer(status, answer, link)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PATCH(self):
                self._handle("PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def page(self, items: list, path: str, query: dict) -> tuple[int, list, str]:
        size = min(int(query.get("per_page", [self.page_size])[0]), 100)
        number = int(query.get("page", ["1"])[0])
        chunk = items[(number - 1) * size:number * size]
        link = ""
        if number * size < len(items):
            link = f'<{self.url}{path}?per_page={size}&page={number + 1}>; rel="next"'
        return 200, chunk, link

    def route(self, method: str, raw: str, body):
        parts = urlsplit(raw)
        query = parse_qs(parts.query)
        prefix = f"/repos/{self.repository}"
        if not parts.path.startswith(prefix + "/"):
            return 404, {"message": "Not Found"}, ""
        path = parts.path[len(prefix):]
        if path == "/issues" and method == "GET":
            state = query.get("state", ["open"])[0]
            found = [i for i in self.issues.values() if state == "all" or i["state"] == state]
            return self.page(found, parts.path, query)
        if path == "/issues" and method == "POST":
            number = self._new_number()
            self.issues[number] = {"number": number, "title": body["title"],
                                   "body": body.get("body", ""), "state": "open", "user": BOT}
            return 201, self.issues[number], ""
        found = re.fullmatch(r"/commits/([0-9a-f]{7,40})/pulls", path)
        if found and method == "GET":  # the pull requests a commit belongs to
            sha = found.group(1)
            return 200, [issue for issue in self.issues.values() if "pull_request" in issue
                         and sha in (issue["merge_commit_sha"], issue["head"]["sha"])], ""
        found = re.fullmatch(r"/issues/(\d+)", path)
        if found and method == "PATCH":
            issue = self.issues.get(int(found.group(1)))
            if issue is None:
                return 404, {"message": "Not Found"}, ""
            issue.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
            return 200, issue, ""
        found = re.fullmatch(r"/issues/(\d+)/comments", path)
        if found:
            number = int(found.group(1))
            if number not in self.issues:
                return 404, {"message": "Not Found"}, ""
            if method == "GET":
                return self.page([c for c in self.comment_list if c["issue"] == number],
                                 parts.path, query)
            if method == "POST":
                comment = {"id": 1000 + len(self.comment_list), "issue": number,
                           "body": body["body"], "user": BOT}
                self.comment_list.append(comment)
                return 201, comment, ""
        found = re.fullmatch(r"/issues/comments/(\d+)", path)
        if found and method == "PATCH":
            comment = next((c for c in self.comment_list if c["id"] == int(found.group(1))),
                           None)
            if comment is None:
                return 404, {"message": "Not Found"}, ""
            comment["body"] = body["body"]
            return 200, comment, ""
        return 404, {"message": f"the fake does not implement {method} {path}"}, ""
