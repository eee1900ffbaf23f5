"""Test suite benchmark: where `make test`'s time goes.

    .venv/bin/python bench/tests.py [--logs DIR] [--top N] [-- PYTEST ARGS...]
    make bench-tests                          # the same pytest arguments as `make test`

Runs pytest once (the whole suite, or the PYTEST ARGS given: files, -m, -n ...) and prints:

- wall time per test module and per tier (unit / e2e): the span from the module's first test
  starting to its last one ending, and the sum of its tests' durations (setup + call + teardown);
  under pytest-xdist modules overlap, so spans add up to more than the run;
- the CPU busy share over the run: of the whole machine (/proc/stat, other users included) and of
  the suite alone (its processes' user + system CPU over wall time x CPUs), with the load average;
- the disk the run uses: the peak bytes on disk (sampled every --disk-every seconds, symlinks
  not followed) under its pytest tmp folders (--basetemp, set here unless given), the project's
  cdktf.out/, hcl/ and plans/, the Terraform logs and jsii's package cache (filled by the first
  synth on a fresh machine); the .terraform folders at the peak and
  what one takes; the provider mirror they link (counted once) and the installed .venv and
  node_modules: what a CI runner's disk must hold;
- per Terraform stack folder the run does init/plan/apply/destroy in, the seconds per command, and
  for each apply and destroy the slowest resources from Terraform's own "Creation complete after
  Ns" / "Destruction complete after Ns" lines, each named as a fixed wait of the AWS provider
  (with the provider source that sets it, see WAITS) or as a wait the provider does not impose.

Terraform's output comes from ops/terraform.py, which keeps every captured run in
$TERRAFORM_LOG_DIR (this script sets it to --logs, default a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROVIDER = "hashicorp/terraform-provider-aws v5.100.0"

# The AWS provider's own fixed waits: (resource type, "create"|"destroy") -> (floor seconds, where).
# Each is paid on AWS as on the emulator, however fast the API answers: in the emulator's request
# log (and TF_LOG=trace) the first status poll comes only after the delay, and the emulator
# answers the target state at once. Functions are in the provider's internal/service/<service>/
# (their names are in the v5.100.0 binary's symbol table); delays as observed in the request log.
WAITS = {
    ("aws_s3_bucket_lifecycle_configuration", "create"): (
        55, "s3 waitLifecycleConfigEquals (bucket_lifecycle_configuration.go): first "
            "GetBucketLifecycleConfiguration 10 s after the Put, then every 5 s until 10 reads "
            "in a row match: 10 + 9 x 5 s"),
    ("aws_lb", "create"): (
        60, "elbv2 waitLoadBalancerActive (load_balancer.go), Delay 30 s before the first "
            "DescribeLoadBalancers, run twice: by resourceLoadBalancerCreate and by the "
            "resourceLoadBalancerUpdate it ends with"),
    ("aws_vpc", "create"): (
        10, "ec2 waitVPCAttributeUpdated (vpc.go): DescribeVpcAttribute 10 s after "
            "ModifyVpcAttribute (DNS support/hostnames)"),
    ("aws_ecs_cluster", "create"): (
        10, "ecs waitClusterAvailable (cluster.go): DescribeClusters 10 s after CreateCluster"),
    ("aws_nat_gateway", "destroy"): (
        10, "ec2 waitNATGatewayDeleted (nat_gateway.go): first DescribeNatGateways 10 s after "
            "DeleteNatGateway"),
    ("aws_vpc_endpoint", "create"): (
        5, "ec2 waitVPCEndpointAvailable (vpc_endpoint.go): 5-6 s seen, each endpoint alike"),
    ("aws_vpc_endpoint", "destroy"): (
        5, "ec2 waitVPCEndpointDeleted (vpc_endpoint.go): 5-6 s seen, each endpoint alike"),
}
COMPLETE = re.compile(r"^(?P<address>\S+): (?P<action>Creation|Destruction|Modifications) "
                      r"complete after (?P<time>(?:\d+h)?(?:\d+m)?\d+s)")


def seconds(text: str) -> int:
    total = 0
    for number, unit in re.findall(r"(\d+)([hms])", text):
        total += int(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def terraform_shim(folder: Path, cpu_log: Path) -> dict[str, str]:
    """The variables that put bench/terraform_cpu.py first on PATH as `terraform`, logging each
    command's CPU to cpu_log (for every caller: ops, the tests, the cdktf CLI)."""
    real = shutil.which("terraform")
    if real is None:
        raise SystemExit("error: terraform is not on PATH")
    shim = folder / "terraform"
    shim.write_text(f"#!{sys.executable}\n" + (ROOT / "bench" / "terraform_cpu.py").read_text())
    shim.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}",
            "BENCH_TERRAFORM": real, "BENCH_TERRAFORM_CPU": str(cpu_log)}


def run(pytest_args: list[str], logs: Path, report: Path, shim: dict,
        disk: DiskPeak | None = None) -> tuple[int, dict]:
    env = dict(os.environ, TERRAFORM_LOG_DIR=str(logs), BENCH_TESTS_REPORT=str(report),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "bench"),
                                                        os.environ.get("PYTHONPATH")])), **shim)
    load_before = os.getloadavg()
    busy, total = cpu_times()
    cpu, started = children_cpu(), time.monotonic()
    if disk is not None:
        disk.start()
    try:
        code = subprocess.call([sys.executable, "-m", "pytest", "-p", "timing_plugin",
                                *pytest_args], cwd=ROOT, env=env)
    finally:
        if disk is not None:
            disk.stop()
    wall = time.monotonic() - started
    busy_after, total_after = cpu_times()
    return code, {
        "wall": wall, "suite_cpu": children_cpu() - cpu,
        "machine_busy": (busy_after - busy) / max(total_after - total, 1),
        "cpus": os.cpu_count() or 1, "load": (load_before, os.getloadavg()),
    }


def disk_use(path: Path) -> tuple[int, int]:
    """(bytes on disk, .terraform folders) under `path`; symlinks are not followed (a provider
    linked from the mirror counts as the link)."""
    used, inits, pending = 0, 0, [str(path)]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:  # removed meanwhile, or not there
            continue
        with entries:
            for entry in entries:
                try:
                    used += entry.stat(follow_symlinks=False).st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        inits += entry.name == ".terraform"
                        pending.append(entry.path)
                except OSError:
                    continue
    return used, inits


class DiskPeak(threading.Thread):
    """Samples disk_use() of some folders every `every` seconds until stopped; keeps the
    sample with the most bytes in all."""

    def __init__(self, folders: dict[str, Path], every: float):
        super().__init__(daemon=True)
        self.folders, self.every = folders, every
        self.peak: dict[str, tuple[int, int]] = {name: (0, 0) for name in folders}
        self.samples, self.most_inits = 0, 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        now = {name: disk_use(folder) for name, folder in self.folders.items()}
        self.samples += 1
        self.most_inits = max(self.most_inits, sum(inits for _, inits in now.values()))
        if sum(used for used, _ in now.values()) >= sum(used for used, _ in self.peak.values()):
            self.peak = now

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.sample()


MB = 1024 * 1024
FILLED_ONCE = {"jsii package cache"}  # filled by the first run on a machine, then reused


def disk_table(disk: DiskPeak, provider_mirror: Path | None) -> list[str]:
    peak = sum(used for used, _ in disk.peak.values())
    inits = sum(inits for _, inits in disk.peak.values())
    per_run = sum(used for name, (used, _) in disk.peak.items() if name not in FILLED_ONCE)
    lines = [f"disk: peak {peak / MB:.1f} MB on disk in the run's folders ({disk.samples} "
             f"samples): " + ", ".join(f"{name} {used / MB:.1f} MB" for name, (used, _)
                                      in disk.peak.items()),
             f"  .terraform folders: {inits} at the peak, {disk.most_inits} at most"
             + (f"; the run's own folders ({', '.join(sorted(set(disk.peak) - FILLED_ONCE))}) "
                f"hold {per_run / inits / MB:.2f} MB per init folder at the peak"
                if inits else "")]
    installed = {}
    if provider_mirror is not None:
        installed[f"provider mirror {provider_mirror}"] = disk_use(provider_mirror)[0]
    for name in (".venv", "node_modules"):
        installed[name] = disk_use((ROOT / name).resolve())[0]
    lines.append("  installed once: " + ", ".join(f"{name} {used / MB:.0f} MB"
                                                  for name, used in installed.items()))
    if provider_mirror is not None:
        mirror = next(iter(installed.values()))
        lines.append(f"  each init folder links the mirror; a copy in each of the "
                     f"{disk.most_inits} would have been {disk.most_inits * mirror / MB:.0f} MB")
    else:
        lines.append("  no provider mirror: each init folder holds its own copy of the provider "
                     "(make provider)")
    lines.append(f"  total: {(peak + sum(installed.values())) / MB:.0f} MB (the run's peak plus "
                 "what is installed once)")
    return lines


def module_table(report: Path) -> list[str]:
    rows = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    modules: dict[str, dict] = {}
    tiers: dict[str, dict] = {}
    for row in rows:
        module = row["nodeid"].split("::", 1)[0]
        tier = "e2e" if row["e2e"] else "unit"
        for key, group in ((module, modules), (tier, tiers)):
            entry = group.setdefault(key, {"start": row["start"], "stop": row["stop"], "sum": 0.0,
                                           "cpu": 0.0, "tests": set(), "failed": 0,
                                           "workers": set(), "tier": tier})
            entry["start"] = min(entry["start"], row["start"])
            entry["stop"] = max(entry["stop"], row["stop"])
            entry["sum"] += row["duration"]
            entry["cpu"] += row.get("cpu", 0.0)
            entry["tests"].add(row["nodeid"])
            entry["failed"] += row["outcome"] == "failed"
            entry["workers"].add(row["worker"])
    lines = [f"{'module':44} {'tier':5} {'tests':>5} {'span s':>8} {'sum s':>8} {'CPU-s':>7}"
             "  workers"]
    for name, entry in sorted(modules.items(), key=lambda item: -(item[1]["stop"]
                                                                    - item[1]["start"])):
        lines.append(f"{name:44} {entry['tier']:5} {len(entry['tests']):5d} "
                     f"{entry['stop'] - entry['start']:8.1f} {entry['sum']:8.1f} "
                     f"{entry['cpu']:7.1f}  "
                     f"{','.join(sorted(entry['workers']))}"
                     + (f"  FAILED {entry['failed']}" if entry["failed"] else ""))
    tests: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        tests[row["nodeid"]][0] += row["duration"]
        tests[row["nodeid"]][1] += row.get("cpu", 0.0)
    for title, index, unit in (("slowest", 0, "s"), ("most CPU", 1, "CPU-s")):
        lines += ["", f"{title} tests (setup + call + teardown):"]
        lines += [f"  {figures[index]:7.1f} {unit:5}  {nodeid}" for nodeid, figures in
                  sorted(tests.items(), key=lambda item: -item[1][index])[:10]]
    lines.append("")
    for tier in ("unit", "e2e"):
        if tier in tiers:
            entry = tiers[tier]
            lines.append(f"tier {tier:5} {len(entry['tests']):4d} tests: span "
                         f"{entry['stop'] - entry['start']:6.1f} s (first start to last end), "
                         f"sum {entry['sum']:7.1f} s, {entry['cpu']:6.1f} CPU-s")
    return lines


def cpu_table(cpu_log: Path, suite_cpu: float) -> list[str]:
    """CPU seconds per Terraform command (each one starts the AWS provider, which loads its
    schemas: the fixed cost that bounds the suite), and their share of the suite's CPU."""
    rows = [json.loads(line) for line in cpu_log.read_text().splitlines()] \
        if cpu_log.exists() else []
    per: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        per[row["command"] or "(none)"].append(row["cpu"])
    total = sum(row["cpu"] for row in rows)
    lines = [f"terraform CPU: {len(rows)} commands, {total:.0f} CPU-s = "
             f"{total / max(suite_cpu, 1e-9):.0%} of the suite's",
             f"  {'command':10} {'runs':>5} {'CPU-s':>7} {'per run':>8}"]
    for command, cpus in sorted(per.items(), key=lambda item: -sum(item[1])):
        lines.append(f"  {command:10} {len(cpus):5d} {sum(cpus):7.0f} "
                     f"{sum(cpus) / len(cpus):8.1f}")
    return lines


def owner(row: dict, tests: list[dict]) -> str:
    """The test module that ran a Terraform command: from PYTEST_CURRENT_TEST, else (a caller
    cleared the environment) the test running on the worker whose tmp folder holds it then."""
    if row.get("test"):
        return row["test"].split("::", 1)[0]
    worker = re.search(r"popen-(gw\d+)", row["dir"])
    for test in tests:
        if (worker and test["worker"] == worker[1] and "end" in row
                and test["start"] <= row["end"] <= test["stop"] + 1):
            return test["nodeid"].split("::", 1)[0]
    return "(no test)"


def module_terraform_table(cpu_log: Path, report: Path) -> list[str]:
    """Terraform commands and their CPU per test module: what sharing environments cuts."""
    rows = [json.loads(line) for line in cpu_log.read_text().splitlines()] \
        if cpu_log.exists() else []
    tests = [json.loads(line) for line in report.read_text().splitlines()] \
        if report.exists() else []
    per: dict[str, dict] = defaultdict(lambda: {"cpu": 0.0, "commands": defaultdict(int)})
    for row in rows:
        entry = per[owner(row, tests)]
        entry["cpu"] += row["cpu"]
        entry["commands"][row["command"] or "(none)"] += 1
    lines = ["terraform per test module:", f"  {'module':68} {'runs':>5} {'CPU-s':>7}  commands"]
    for module, entry in sorted(per.items(), key=lambda item: -item[1]["cpu"]):
        lines.append(f"  {module:68} {sum(entry['commands'].values()):5d} {entry['cpu']:7.0f}  "
                     + ", ".join(f"{command} {count}" for command, count in
                                 sorted(entry["commands"].items(), key=lambda kv: -kv[1])))
    return lines


def classify(resource_type: str, action: str, took: int) -> str:
    known = WAITS.get((resource_type, action))
    if known is None:
        return "no fixed provider wait known for it: the emulator's answers or the CPU"
    floor, source = known
    over = took - floor
    verdict = "fixed provider delay" if over <= 3 else \
        f"fixed provider delay {floor} s, plus {over} s more (emulator answers, or CPU)"
    return f"{verdict}: {source} [{PROVIDER}]"


def terraform_table(logs: Path, top: int, slow: int) -> list[str]:
    runs = []
    for path in sorted(logs.glob("*.log")):
        header, _, output = path.read_text().partition("\n")
        runs.append((json.loads(header), output))
    by_dir: dict[str, list] = defaultdict(list)
    for header, output in sorted(runs, key=lambda run: run[0]["started"]):
        by_dir[header["dir"]].append((header, output))
    lines, waits = [], []
    for folder, folder_runs in by_dir.items():
        per_command: dict[str, float] = defaultdict(float)
        for header, _ in folder_runs:
            per_command[header["args"][0]] += header["seconds"]
        stack = folder_runs[0][0]["stack"]
        where = "/".join(Path(folder).parts[-5:-2])  # e.g. popen-gw2/cdktf.out0 under basetemp
        lines.append(f"{stack} ({where}): " + ", ".join(
            f"{command} {total:.1f}s" for command, total in per_command.items()))
        for header, output in folder_runs:
            command = header["args"][0]
            if command not in ("apply", "destroy"):
                continue
            done = []
            for line in output.splitlines():
                match = COMPLETE.match(line.strip())
                if match:
                    done.append((seconds(match["time"]), match["address"],
                                 "destroy" if match["action"] == "Destruction" else "create"))
            done.sort(reverse=True)
            shown = [item for item in done[:top] if item[0] >= slow]
            lines.append(f"  {command} {header['seconds']:.1f}s, {len(done)} resources"
                         + (": slowest " + ", ".join(f"{address} {took}s"
                                                     for took, address, _ in shown)
                            if shown else ""))
            for took, address, action in shown:
                waits.append((took, address.split(".")[0], action))
    if waits:
        lines += ["", "long waits (by resource type and action; the longest seen):"]
        longest: dict[tuple, int] = {}
        for took, resource_type, action in waits:
            longest[(resource_type, action)] = max(took, longest.get((resource_type, action), 0))
        for (resource_type, action), took in sorted(longest.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {resource_type} {action} {took}s: "
                         f"{classify(resource_type, action, took)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=Path, help="keep Terraform's output here, and "
                        "terraform-cpu.jsonl, the CPU of each command (default: a temporary "
                        "folder, removed after)")
    parser.add_argument("--top", type=int, default=3, help="slowest resources per apply")
    parser.add_argument("--slow", type=int, default=5, help="seconds from which a resource "
                        "counts as slow")
    parser.add_argument("--disk-every", type=float, default=2.0, help="seconds between disk "
                        "samples (default 2)")
    parser.add_argument("pytest_args", nargs="*", help="after --: what to give pytest")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-tests-") as scratch:
        logs = args.logs or Path(scratch) / "terraform"
        logs.mkdir(parents=True, exist_ok=True)
        report = Path(scratch) / "report.jsonl"
        cpu_log = (logs if args.logs else Path(scratch)) / "terraform-cpu.jsonl"
        (Path(scratch) / "bin").mkdir()
        pytest_args, basetemp = list(args.pytest_args), Path(scratch) / "pytest"
        given = [arg for arg in pytest_args if arg.startswith("--basetemp")]
        if given:  # --basetemp=DIR or --basetemp DIR
            basetemp = Path(given[0].partition("=")[2] or
                            pytest_args[pytest_args.index(given[0]) + 1])
        else:
            pytest_args.append(f"--basetemp={basetemp}")
        sys.path.insert(0, str(ROOT))
        from ops.core.terraform import provider_mirror
        # jsii unpacks each package (the AWS provider's ~400 MB) once into its cache, which
        # every kernel links from; a fresh runner fills it during the run.
        jsii_cache = Path(os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT")
                          or Path.home() / ".cache" / "aws" / "jsii" / "package-cache")
        disk = DiskPeak({"pytest tmp": basetemp, "cdktf.out": ROOT / "cdktf.out",
                         "hcl": ROOT / "hcl", "plans": ROOT / "plans",
                         "terraform logs": logs.resolve(), "jsii package cache": jsii_cache},
                        args.disk_every)
        code, figures = run(pytest_args, logs.resolve(), report,
                            terraform_shim(Path(scratch) / "bin", cpu_log), disk)
        lines = ["", "== bench/tests.py " + "=" * 60, *module_table(report), ""]
        load_before, load_after = figures["load"]
        lines += [
            f"run: {figures['wall']:.1f} s wall, pytest exit {code}, "
            f"pytest {' '.join(args.pytest_args) or '(no arguments)'}",
            f"CPU: machine busy {figures['machine_busy']:.0%} of {figures['cpus']} CPUs over the "
            f"run (everyone's); the suite's own processes "
            f"{figures['suite_cpu']:.0f} CPU-s = "
            f"{figures['suite_cpu'] / (figures['wall'] * figures['cpus']):.0%}; load average "
            f"{load_before[0]:.2f} before, {load_after[0]:.2f} after", "",
            *cpu_table(cpu_log, figures["suite_cpu"]), "",
            *module_terraform_table(cpu_log, report), "",
            *disk_table(disk, provider_mirror(os.environ)), ""]
        lines += ["terraform, per stack folder (seconds per command; apply/destroy with their "
                  "slowest resources):", *terraform_table(logs, args.top, args.slow)]
        print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
