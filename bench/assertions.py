"""How much the suite checks, per test module and per tier: tests collected and asserted
behaviours written (each `assert` statement, `pytest.raises`/`pytest.fail`, cdktf `Testing.to_*`
matcher and mock `assert_*` call in the module's source, fixtures and helpers included). A guard
for merging tests: moving a check keeps the total, dropping one lowers it.

    .venv/bin/python bench/assertions.py [PATHS...]     # default: tests/

The tier (unit / e2e) of a test function is its collected items' (pytest's `e2e` marker); code
outside test functions counts for the tier of most of the module's tests; the checks of the
files the tests share (conftest, helpers, fakes) count as tier "share".
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def collected(paths: list[str], marker: str | None) -> list[str]:
    """Node ids pytest collects (optionally only those with -m marker)."""
    args = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
            *paths] + (["-m", marker] if marker else [])
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False).stdout
    return [line for line in out.splitlines() if "::" in line]


def is_check(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name, owner = node.func.attr, node.func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else ""
        return ((owner_name == "pytest" and name in ("raises", "fail"))
                or (owner_name == "Testing" and name.startswith("to_"))
                or name.startswith("assert_"))
    return False


def checks(tree: ast.AST) -> int:
    return sum(is_check(node) for node in ast.walk(tree))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["tests"])
    args = parser.parse_args(argv)
    every, e2e = collected(args.paths, None), set(collected(args.paths, "e2e"))
    tests: dict[str, Counter] = defaultdict(Counter)  # module -> tier -> tests
    tier_of: dict[tuple[str, str], str] = {}  # (module, function) -> tier
    for nodeid in every:
        module, _, rest = nodeid.partition("::")
        tier = "e2e" if nodeid in e2e else "unit"
        tests[module][tier] += 1
        tier_of[(module, rest.split("::")[-1].split("[")[0])] = tier
    rows, totals = [], {"unit": Counter(), "e2e": Counter()}
    for module in sorted(tests):
        tree = ast.parse((ROOT / module).read_text())
        main_tier = tests[module].most_common(1)[0][0]
        found: Counter = Counter()
        inside = 0
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    (module, node.name) in tier_of:
                count = checks(node)
                found[tier_of[(module, node.name)]] += count
                inside += count
        found[main_tier] += checks(tree) - inside
        for tier in ("unit", "e2e"):
            if tests[module][tier] or found[tier]:
                rows.append((module, tier, tests[module][tier], found[tier]))
                totals[tier]["tests"] += tests[module][tier]
                totals[tier]["checks"] += found[tier]
    # What the tests share (conftest, helpers, fakes): checks of no one test module's.
    folders = {ROOT / path for path in args.paths if (ROOT / path).is_dir()}
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")
                       if not p.name.startswith("test_")):
        found = checks(ast.parse(path.read_text()))
        if found:
            rows.append((str(path.relative_to(ROOT)), "share", 0, found))
            totals.setdefault("share", Counter())["checks"] += found
    print(f"{'module':48} {'tier':5} {'tests':>5} {'checks':>6}")
    for module, tier, count, found in rows:
        print(f"{module:48} {tier:5} {count:5d} {found:6d}")
    for tier, total in totals.items():
        print(f"tier {tier:5} {total['tests']:4d} tests, {total['checks']:5d} checks")
    print(f"total      {sum(t['tests'] for t in totals.values()):4d} tests, "
          f"{sum(t['checks'] for t in totals.values()):5d} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
