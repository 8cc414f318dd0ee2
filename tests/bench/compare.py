#!/usr/bin/env python3
"""Compare two Skiff trees side by side: their own tests/bench/run.py, interleaved.

usage: tests/bench/compare.py TREE_A TREE_B [--runs N] [--only SUBSTR ...]

Each TREE is a source checkout with a built `build/` inside (for example a
`git worktree` of an older commit).  The runs alternate A, B, A, B, ... so that
a change in the machine's load hits both sides alike; each side runs its own
run.py, so a benchmark's driver always matches its binary.  Prints, per row, the
median of each side and B/A.  Figures are never asserted.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile


def one_run(tree, only, timeout):
    with tempfile.NamedTemporaryFile(suffix=".csv") as out:
        cmd = [sys.executable, os.path.join(tree, "tests", "bench", "run.py"), "--build",
               os.path.join(tree, "build"), "--runs", "1", "--csv", out.name]
        if only:
            cmd += ["--only"] + only
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout,
                       cwd=tree, check=False)
        with open(out.name) as f:
            return {(r["benchmark"], r["unit"]): float(r["median"]) for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per run.py call")
    args = ap.parse_args()
    trees = [os.path.abspath(args.a), os.path.abspath(args.b)]
    samples = [{}, {}]
    for i in range(args.runs):
        for side, tree in enumerate(trees):
            for key, v in one_run(tree, args.only, args.timeout).items():
                samples[side].setdefault(key, []).append(v)
        print("run %d of %d done" % (i + 1, args.runs), file=sys.stderr)
    print("A = %s\nB = %s\nmedians of %d interleaved runs" % (trees[0], trees[1], args.runs))
    print("%-56s %12s %12s %8s  %s" % ("benchmark", "A", "B", "B/A", "unit"))
    for key in sorted(set(samples[0]) | set(samples[1])):
        a, b = (statistics.median(s[key]) if key in s else None for s in samples)
        ratio = "%8.3f" % (b / a) if a and b is not None else "%8s" % "-"
        fmt = lambda v: "%12s" % "-" if v is None else "%12.6g" % v  # noqa: E731
        print("%-56s %s %s %s  %s" % (key[0], fmt(a), fmt(b), ratio, key[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
