"""ops/github.py (the plan comment) and ops/drift.py (the drift issues) against a small fake
GitHub REST API on 127.0.0.1: issues and comments kept in memory, pages of 2 items with a Link
header, the token checked. No network."""

import http.server
import json
import re
import threading
from urllib.parse import parse_qs, urlparse

import pytest

from ops import drift, github, plan

TOKEN = "test-token"
REPO = "acme/hello"


class FakeGitHub(http.server.ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.issues, self.comments, self.calls, self.next_id = {}, {}, [], 100
        self.pulls = {}  # commit -> the pull requests GitHub lists for it
        self.url = f"http://127.0.0.1:{self.server_port}"

    def new_id(self):
        self.next_id += 1
        return self.next_id


class Handler(http.server.BaseHTTPRequestHandler):
    def _send(self, status, payload=None, link=""):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method):
        fake, url = self.server, urlparse(self.path)
        fake.calls.append((method, url.path))
        if self.headers["Authorization"] != f"Bearer {TOKEN}":
            return self._send(401, {"message": "Bad credentials"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or "{}")
        path = url.path.removeprefix(f"/repos/{REPO}")
        if match := re.fullmatch(r"/commits/(\w+)/pulls", path):
            return self._send(200, fake.pulls.get(match[1], []))
        if method == "GET" and path == "/issues":
            state = parse_qs(url.query).get("state", ["open"])[0]
            return self._page([i for i in fake.issues.values() if i["state"] == state], url)
        if method == "POST" and path == "/issues":
            number = fake.new_id()
            fake.issues[number] = {"number": number, "state": "open", **body}
            return self._send(201, fake.issues[number])
        if match := re.fullmatch(r"/issues/(\d+)", path):
            fake.issues[int(match[1])].update(body)
            return self._send(200, fake.issues[int(match[1])])
        if match := re.fullmatch(r"/issues/(\d+)/comments", path):
            if method == "GET":
                return self._page([c for c in fake.comments.values()
                                   if c["issue"] == int(match[1])], url)
            comment = {"id": fake.new_id(), "issue": int(match[1]), "body": body["body"],
                       "user": {"type": "Bot"}}
            fake.comments[comment["id"]] = comment
            return self._send(201, comment)
        if match := re.fullmatch(r"/issues/comments/(\d+)", path):
            fake.comments[int(match[1])].update(body)
            return self._send(200, fake.comments[int(match[1])])
        return self._send(404, {"message": "Not Found"})

    def _page(self, items, url, size=2):
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        link = ""
        if len(items) > page * size:
            query = re.sub(r"&?page=\d+", "", url.query)
            link = f'<{self.server.url}{url.path}?{query}&page={page + 1}>; rel="next"'
        return self._send(200, items[(page - 1) * size:page * size], link)

    do_GET = lambda self: self._route("GET")  # noqa: E731
    do_POST = lambda self: self._route("POST")  # noqa: E731
    do_PATCH = lambda self: self._route("PATCH")  # noqa: E731

    def log_message(self, *args):
        pass


@pytest.fixture
def fake(monkeypatch):
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    yield server
    server.shutdown()
    server.server_close()


def write_plans(folder, environment, changes):
    """<stack>.json as `terraform show -json` writes them: `changes` maps a stack to the
    actions of its one resource (None: the stack was not planned, so no file)."""
    folder.mkdir(exist_ok=True)
    for stack in environment.stack_names.values():
        actions = changes.get(stack, ["no-op"])
        if actions is not None:
            (folder / f"{stack}.json").write_text(json.dumps({"resource_changes": [
                {"address": "aws_vpc.network_vpc", "change": {"actions": actions}}]}))
    (folder / "summary.md").write_text(f"<!-- ops.plan:{environment.name} -->\nthe summary\n")
    return folder


def test_drift_opens_then_updates_then_closes_one_issue(fake, tmp_path, environments, capsys):
    uat = environments["uat"]
    # Other open issues (more than a page of them) are left alone.
    for title in ("bug", "idea", "question"):
        number = fake.new_id()
        fake.issues[number] = {"number": number, "state": "open", "title": title, "body": "x"}
    drifting = write_plans(tmp_path / "a", uat, {"network-uat": ["update"]})
    assert drift.main(["--env", "uat", "--plans", str(drifting)]) == 0
    (opened,) = [i for i in fake.issues.values() if i.get("title") == "Drift in uat"]
    assert capsys.readouterr().out == f"uat: drift, opened #{opened['number']}\n"
    assert opened["body"].startswith("<!-- ops.drift:uat -->\n")
    assert "- network-uat: 0 to add, 1 to change, 0 to destroy" in opened["body"]
    assert opened["body"].endswith("<!-- ops.plan:uat -->\nthe summary\n")

    worse = write_plans(tmp_path / "b", uat, {"network-uat": ["update"], "app-uat": None})
    assert drift.main(["--env", "uat", "--plans", str(worse), "--run-url", "https://run/7"]) == 0
    assert capsys.readouterr().out == f"uat: drift, updated #{opened['number']}\n"
    assert len([i for i in fake.issues.values() if i["state"] == "open"]) == 4
    assert "- app-uat: not planned (see the summary)" in opened["body"]
    assert "Last checked: https://run/7" in opened["body"]

    # prod's drift is its own issue.
    assert drift.main(["--env", "prod", "--plans",
                       str(write_plans(tmp_path / "p", environments["prod"],
                                       {"app-prod": ["delete", "create"]}))]) == 0
    assert "prod: drift, opened #" in capsys.readouterr().out

    clean = write_plans(tmp_path / "c", uat, {})
    assert drift.main(["--env", "uat", "--plans", str(clean)]) == 0
    assert capsys.readouterr().out == f"uat: clean, closed #{opened['number']}\n"
    assert opened["state"] == "closed" and opened["state_reason"] == "completed"
    (note,) = [c for c in fake.comments.values() if c["issue"] == opened["number"]]
    assert note["body"] == "The plan of `uat` is clean again; closing."
    assert drift.main(["--env", "uat", "--plans", str(clean)]) == 0
    assert capsys.readouterr().out == "uat: clean, no open drift issue\n"
    assert [i["title"] for i in fake.issues.values() if i["state"] == "open"] == \
        ["bug", "idea", "question", "Drift in prod"]


def test_drift_refuses_bad_input_and_reports_api_errors(fake, tmp_path, monkeypatch, capsys):
    assert drift.main(["--env", "uat", "--plans", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err == (
        f"error: --plans {tmp_path / 'none'}: no such folder; run `python -m ops plan --env uat "
        f"--out {tmp_path / 'none'}` first\n")
    monkeypatch.setenv("GITHUB_REPOSITORY", "not a repo")
    assert drift.main(["--env", "uat", "--plans", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("error: GITHUB_REPOSITORY = 'not a repo': expected "
                                       "owner/name\n")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    assert drift.main(["--env", "uat", "--plans", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"error: GET {fake.url}/repos/{REPO}/issues?state=open&per_page=100: HTTP 401: "
        "Bad credentials\n")
    assert not fake.issues


def test_plan_comment_is_added_once_then_edited(fake, tmp_path, capsys):
    summary = tmp_path / "summary.md"
    summary.write_text("<!-- ops.plan:uat -->\nfirst plan\n")
    for _ in range(3):  # another environment's and a person's comments are not touched
        comment = {"id": fake.new_id(), "issue": 5, "body": "<!-- ops.plan:prod -->\n",
                   "user": {"type": "Bot"}}
        fake.comments[comment["id"]] = comment
    human = {"id": fake.new_id(), "issue": 5, "body": "<!-- ops.plan:uat -->\nquoted",
             "user": {"type": "User"}}
    fake.comments[human["id"]] = human
    assert github.main(["comment", "--pr", "5", "--body-file", str(summary)]) == 0
    (added,) = [c for c in fake.comments.values() if c["body"].endswith("first plan\n")]
    assert capsys.readouterr().out == f"added comment {added['id']} on #5\n"
    summary.write_text("<!-- ops.plan:uat -->\nsecond plan\n")
    assert github.main(["comment", "--pr", "5", "--body-file", str(summary)]) == 0
    assert capsys.readouterr().out == f"updated comment {added['id']} on #5\n"
    assert added["body"] == "<!-- ops.plan:uat -->\nsecond plan\n"
    assert human["body"] == "<!-- ops.plan:uat -->\nquoted"
    assert len(fake.comments) == 5
    summary.write_text("no marker\n")
    assert github.main(["comment", "--pr", "5", "--body-file", str(summary)]) == 2
    assert "the first line must be a hidden marker" in capsys.readouterr().err


SHA = "a" * 40


def reviewed_plans(folder, environment, replicas=2):
    """plans/<env> as ops.plan writes it: a pending app's record and the network's changes."""
    network, app = (environment.stack_names[kind] for kind in ("network", "app"))
    shown = {"resource_changes": [{"address": "aws_ecs_cluster.c", "change": {
        "actions": ["update"], "after": {"replicas": replicas}, "after_unknown": {"arn": True}}}]}
    plans = [plan.StackPlan(network, "changes", {"add": 0, "change": 1, "destroy": 0},
                            changes=plan.reviewed_changes(shown)),
             plan.StackPlan(app, "pending", message="VPC not found")]
    folder.mkdir(exist_ok=True)
    for stack_plan in plans:
        (folder / f"{stack_plan.stack}.changes.json").write_text(
            json.dumps(plan.record(stack_plan)))
    return folder, plan.summarize(environment, plans)


def test_the_plan_on_main_is_compared_with_what_the_pull_request_showed(
        fake, tmp_path, environments, capsys):
    uat = environments["uat"]
    folder, body = reviewed_plans(tmp_path / "plans", uat)
    fake.pulls[SHA] = [{"number": 9, "merged_at": None, "merge_commit_sha": "b" * 40},
                       {"number": 7, "merged_at": "2026-12-06T02:00:00Z", "merge_commit_sha": SHA}]
    fake.comments[1] = {"id": 1, "issue": 7, "body": body, "user": {"type": "Bot"}}
    summary = tmp_path / "summary.md"
    command = ["reviewed", "--env", "uat", "--commit", SHA, "--plans", str(folder),
               "--summary", str(summary)]
    assert github.main(command) == 0
    out = capsys.readouterr().out
    assert out.startswith("The plans of network-uat, app-uat plan the changes pull request #7 "
                          "showed (`network-uat` ")
    assert out.strip() in summary.read_text()
    # GITHUB_API_URL is where the calls go.
    assert ("GET", f"/repos/{REPO}/commits/{SHA}/pulls") in fake.calls
    # One attribute differs: refused, with the difference.
    reviewed_plans(folder, uat, replicas=3)
    assert github.main(command) == 2
    assert capsys.readouterr().err == (
        f"error: the plan of uat at {SHA[:12]} differs from what pull request #7 "
        "showed; plan the change again in a pull request (or run deploy by hand with "
        "apply_unreviewed after reading this plan):\n"
        "  network-uat: aws_ecs_cluster.c.replicas: 2 reviewed, 3 now\n")
    assert "**Not applied: refused.**" in summary.read_text()
    assert "- network-uat: aws_ecs_cluster.c.replicas: 2 reviewed, 3 now" in summary.read_text()


def test_nothing_reviewed_is_refused_unless_the_run_says_so(fake, tmp_path, environments,
                                                           capsys):
    folder, _ = reviewed_plans(tmp_path / "plans", environments["uat"])
    command = ["reviewed", "--env", "uat", "--commit", SHA, "--plans", str(folder)]
    assert github.main(command) == 2
    assert capsys.readouterr().err.startswith(
        f"error: commit {SHA[:12]} has no merged pull request (a direct push?), so no "
        "plan of it was reviewed; ")
    fake.pulls[SHA] = [{"number": 7, "merged_at": "2026-12-06T02:00:00Z",
                        "merge_commit_sha": SHA}]
    assert github.main(command) == 2
    assert capsys.readouterr().err.startswith(
        "error: pull request #7 has no plan comment for uat, so what is applied cannot "
        "be compared with what was reviewed; ")
    fake.comments[1] = {"id": 1, "issue": 7, "body": "<!-- ops.plan:uat -->\nold\n",
                        "user": {"type": "Bot"}}
    assert github.main(command) == 2
    assert "has a plan comment without reviewed changes" in capsys.readouterr().err
    calls = len(fake.calls)
    assert github.main(command + ["--allow-unreviewed", "true"]) == 0
    assert "apply_unreviewed" in capsys.readouterr().out
    assert len(fake.calls) == calls  # nothing asked of GitHub
    assert github.main(["reviewed", "--env", "uat", "--commit", SHA, "--plans",
                        str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: {tmp_path / 'none'}: no plans of app-uat, network-uat; run ")
    assert github.main(["reviewed", "--env", "nowhere", "--commit", SHA, "--plans",
                        str(folder)]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_fork_pull_request_gets_a_skipped_plan_not_a_failure(tmp_path, capsys):
    summary = tmp_path / "summary.md"
    assert github.main(["fork-skipped", "--env", "uat", "--fork", "someone/hello",
                        "--summary", str(summary)]) == 0
    assert capsys.readouterr().out == ("::notice::plan of uat skipped: pull request from the "
                                       "fork someone/hello (no OIDC token)\n")
    assert summary.read_text().startswith("\n## Terraform plan: `uat` skipped\n\nThis pull "
                                          "request comes from the fork `someone/hello`")
