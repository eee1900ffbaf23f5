"""Synth benchmark: wall time of synthesizing every stack of every environment, N fresh processes.

    .venv/bin/python bench/synth.py --runs 5               # as configured (fast import on)
    CDKTF_FAST_IMPORT=0 .venv/bin/python bench/synth.py    # the eager provider import, for before

Each run is a new Python process doing what `python main.py` does (load environments/, synth
every stack), writing into a temporary CDKTF_OUTDIR, so cdktf.out/ is never touched. Prints
min/median/max wall time, peak memory, and the median split of a run into: interpreter start,
config load, provider import (cdktf + jsii kernel + AWS provider bindings + constructs_lib, stacks),
construct tree, synth/write, exit. Environment variables (ENVIRONMENTS, CDKTF_FAST_IMPORT, ...)
pass through to the runs.
"""

import time  # first, so that a run's "interpreter start" ends at once

_CHILD_START = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPLIT = (  # (label, start mark, end mark); marks are wall-clock times of one run
    ("interpreter start", "spawn", "start"),
    ("config load", "start", "config"),
    ("provider import", "config", "imports"),
    ("construct tree", "imports", "tree"),
    ("synth/write", "tree", "synth"),
    ("exit", "synth", "exited"),
)


def _descendants(pid: int) -> list[int]:
    """Every live process below pid (the jsii kernel's node processes), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _peak_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def child(result_file: str) -> int:
    """One run, in its own process: what main.main() does, with a time mark between phases."""
    import resource

    marks = {"start": _CHILD_START}
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import main

    environments = main.select_environments(main.load_environments(main.environments_dir()),
                                            os.environ.get("ENVIRONMENTS"))
    marks["config"] = time.time()

    import lazy_provider_import

    lazy_provider_import.activate()  # what main.synth() does first
    import cdktf  # noqa: F401

    import stacks
    import stacks.app  # noqa: F401 (the construct modules load here; build imports them)

    marks["imports"] = time.time()
    build = stacks.build

    def timed_build(*args, **kwargs):
        built = build(*args, **kwargs)
        marks["tree"] = time.time()
        return built

    stacks.build = timed_build  # main.synth() imports build at call time
    built = main.synth(environments)
    marks["synth"] = time.time()
    node = [_peak_rss_kib(pid) for pid in _descendants(os.getpid())]
    Path(result_file).write_text(json.dumps({
        "marks": marks,
        "stacks": sorted(built),
        "import_mode": lazy_provider_import.status,
        "python_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "node_peak_kib": max(node, default=0),
        "node_processes": len(node),
    }))
    return 0


def run_once(python: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        result_file = Path(tmp, "result.json")
        env = dict(os.environ, CDKTF_OUTDIR=str(Path(tmp, "cdktf.out")))
        env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
        spawn = time.time()
        process = subprocess.Popen([python, str(Path(__file__).resolve()), "--child",
                                    str(result_file)], cwd=ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        exited = time.time()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 or not result_file.exists():
            raise SystemExit(f"error: synth run failed (exit {process.returncode})")
        result = json.loads(result_file.read_text())
        written = sorted(p.name for p in Path(tmp, "cdktf.out", "stacks").iterdir())
        if written != result["stacks"]:
            raise SystemExit(f"error: stacks written {written} != stacks built {result['stacks']}")
    result["marks"].update(spawn=spawn, exited=exited)
    result["wall"] = exited - spawn
    result["tree_peak_kib"] = usage.ru_maxrss  # largest single process of the run's tree
    result["cpu"] = usage.ru_utime + usage.ru_stime  # python and the node processes it reaped
    return result


def _mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs (default 5)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="unmeasured runs first, to warm file caches (default 1)")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"),
                        help="interpreter of the runs (default .venv/bin/python)")
    parser.add_argument("--child", metavar="RESULT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    load = os.getloadavg()
    for _ in range(args.warmup):
        run_once(args.python)
    results = [run_once(args.python) for _ in range(args.runs)]
    walls = [r["wall"] for r in results]
    first = results[0]
    print(f"synth of {len(first['stacks'])} stacks ({', '.join(first['stacks'])}), "
          f"{args.runs} runs (+{args.warmup} warm-up), provider import: {first['import_mode']}, "
          f"{os.cpu_count()} CPUs, load average {load[0]:.2f} before / "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"wall time min                {min(walls):6.2f} s")
    print(f"wall time median             {statistics.median(walls):6.2f} s")
    print(f"wall time max                {max(walls):6.2f} s")
    print(f"cpu time median              {statistics.median(r['cpu'] for r in results):6.2f} s"
          "  (user + system, python and node; less sensitive to other load)")
    print(f"peak memory, largest process {_mib(max(r['tree_peak_kib'] for r in results)):>8}"
          "  (ru_maxrss of the run's process tree)")
    print(f"peak memory, python          "
          f"{_mib(statistics.median(r['python_peak_kib'] for r in results)):>8}  (median)")
    print(f"peak memory, node kernel     "
          f"{_mib(statistics.median(r['node_peak_kib'] for r in results)):>8}  (median)")
    for label, start, end in SPLIT:
        took = statistics.median(r["marks"][end] - r["marks"][start] for r in results)
        print(f"split: {label:<22}{took:6.2f} s  (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
