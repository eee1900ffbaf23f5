"""pytest plugin for bench/tests.py: one JSON line per test phase report, in the process that
prints the summary (the controller under pytest-xdist), into $BENCH_TESTS_REPORT."""

import json
import os


def pytest_runtest_logreport(report):
    path = os.environ.get("BENCH_TESTS_REPORT")
    if not path or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    node = getattr(report, "node", None)  # xdist: the worker that ran it
    worker = node.gateway.id if node is not None else "main"
    line = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
            "start": report.start, "stop": report.stop, "duration": report.duration,
            "e2e": "e2e" in report.keywords, "worker": worker}
    with open(path, "a") as out:
        out.write(json.dumps(line) + "\n")
