"""A stand-in `terraform` for bench/tests.py: runs the real one (BENCH_TERRAFORM) and appends one
JSON line to BENCH_TERRAFORM_CPU: the command, its folder, wall seconds, and the CPU seconds of
Terraform and the providers it started (getrusage of the waited child includes its waited
children). Signals are passed on, so a test that interrupts an apply still does."""

import json
import os
import signal
import subprocess
import sys
import time


def real_terraform() -> str:
    """BENCH_TERRAFORM; where a caller cleared the environment (the workflow replay's jobs), the
    first terraform on PATH that is not this stand-in's folder."""
    if os.environ.get("BENCH_TERRAFORM"):
        return os.environ["BENCH_TERRAFORM"]
    here = os.path.dirname(os.path.realpath(sys.argv[0]))
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder, "terraform")
        if os.path.realpath(folder) != here and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("bench/terraform_cpu.py: no terraform on PATH besides this stand-in")


def main() -> int:
    started = time.monotonic()
    process = subprocess.Popen([real_terraform(), *sys.argv[1:]])
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda received, _: process.send_signal(received))
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = code = os.waitstatus_to_exitcode(status)
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    if not os.environ.get("BENCH_TERRAFORM_CPU"):  # not logged: the caller cleared it
        return code if code >= 0 else 128 - code
    with open(os.environ["BENCH_TERRAFORM_CPU"], "a") as log:
        # The test that ran it: pytest's own variable, or (where a caller cleared the
        # environment) its worker's folder in dir and the time, matched in bench/tests.py.
        log.write(json.dumps({"command": command, "dir": os.getcwd(),
                              "test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0],
                              "end": round(time.time(), 3),
                              "seconds": round(time.monotonic() - started, 3),
                              "cpu": round(usage.ru_utime + usage.ru_stime, 3)}) + "\n")
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
