"""pytest plugin for bench/tests.py: one JSON line per test phase report, in the process that
prints the summary (the controller under pytest-xdist), into $BENCH_TESTS_REPORT. Each phase
carries the CPU seconds its process and the children it waited for (Terraform, the providers,
node) used since the previous phase: under xdist a worker runs one test at a time, so this is the
phase's own CPU, even while other workers run."""

import json
import os
import resource

import pytest

_last = [0.0]


def _cpu() -> float:
    return sum(usage.ru_utime + usage.ru_stime for usage in
               (resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN)))


def pytest_collection_finish(session):
    _last[0] = _cpu()  # collection is no test's


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    now = _cpu()
    outcome.get_result().user_properties.append(("cpu", round(now - _last[0], 3)))
    _last[0] = now


def pytest_runtest_logreport(report):
    path = os.environ.get("BENCH_TESTS_REPORT")
    if not path or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    node = getattr(report, "node", None)  # xdist: the worker that ran it
    worker = node.gateway.id if node is not None else "main"
    line = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
            "start": report.start, "stop": report.stop, "duration": report.duration,
            "e2e": "e2e" in report.keywords, "worker": worker,
            "cpu": dict(report.user_properties).get("cpu", 0.0)}
    with open(path, "a") as out:
        out.write(json.dumps(line) + "\n")
