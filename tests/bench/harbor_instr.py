#!/usr/bin/env python3
"""Instructions per harbor round trip, counted by callgrind: a cost figure that
does not move with the machine's load (wall-clock round trips do, a lot, on a
busy 2-core machine).

usage: tests/bench/harbor_instr.py TREE [TREE ...] [--calls N] [--sends]

For each TREE (a source checkout with a built build/), two real nodes run under
`valgrind --tool=callgrind` with tests/multinode/mn_bench.lua on node 2 (calls
to node 1, 64 B and 1024 B payloads), once with N and once with 2N calls; the
difference of the two runs' instruction totals (both nodes) divided by 2N is the
cost of one round trip, without start-up and shutdown.  --sends does the same
for one-way sends (mn_bench's throughput part: N and 2N messages of each size).  Each tree's own
tests/multinode/mnlib.py drives its own binary.
"""
import argparse
import glob
import importlib.util
import os
import re
import shutil
import signal
import stat
import sys
import tempfile


def load_mnlib(tree):
    spec = importlib.util.spec_from_file_location(
        "mnlib_" + str(abs(hash(tree))), os.path.join(tree, "tests", "multinode", "mnlib.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.join(tree, "tests"))
    sys.path.insert(0, os.path.join(tree, "tests", "multinode"))
    spec.loader.exec_module(mod)
    return mod


def total_instructions(outdir):
    total = 0
    for path in glob.glob(os.path.join(outdir, "cg.*")):
        with open(path) as f:
            for line in f:
                m = re.match(r"(?:summary|totals): (\d+)", line)
                if m:
                    total = total + int(m.group(1))
                    break
    return total


def run(tree, calls, msgs, timeout, keep=None):
    mnlib = load_mnlib(tree)
    skiff = os.path.join(tree, "build", "skiff")
    with tempfile.TemporaryDirectory(prefix="skiff-instr-") as tmp:
        wrapper = os.path.join(tmp, "skiff")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec valgrind -q --tool=callgrind --callgrind-out-file=%s/cg.%%p "
                    "%s \"$@\"\n" % (tmp, skiff))
        os.chmod(wrapper, stat.S_IRWXU)
        # generous harbor timeouts: valgrind runs each node ~50x slower
        with mnlib.Cluster(wrapper, timeout=60, nodes=2) as c:
            c.start(1, master=True, wait_ready=False)
            c.wait(1, r"MN READY 1", timeout=timeout)
            c.start(2, extra=['start = "mn_bench"', "bench_calls = %d" % calls,
                                  "bench_msgs = %d" % msgs],
                    wait_ready=False)
            c.wait(2, r"HBENCH DONE", timeout=timeout)
            # a clean exit, so that callgrind writes each node's counts
            for nid in (2, 1):
                if c.nodes[nid].proc.poll() is None:
                    c.kill(nid, signal.SIGTERM)
                c.nodes[nid].proc.wait(timeout=timeout)
        # the nodes are gone: their callgrind files are complete
        if keep:
            os.makedirs(keep, exist_ok=True)
            for path in glob.glob(os.path.join(tmp, "cg.*")):
                shutil.copy(path, keep)
        return total_instructions(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="+")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--sends", action="store_true", help="count one-way sends, not calls")
    ap.add_argument("--keep", help="copy the callgrind files to KEEP/<n>/N and KEEP/<n>/2N "
                    "(n: the tree's place in the arguments), for callgrind_annotate")
    a = ap.parse_args()
    if not shutil.which("valgrind"):
        print("harbor_instr: valgrind is missing (Debian package valgrind)")
        return 1
    what = "one-way send" if a.sends else "round trip"
    print("instructions per harbor %s (both nodes, 64 B and 1024 B averaged), callgrind, "
          "N=%d vs 2N" % (what, a.calls))
    for i, tree in enumerate(a.trees):
        tree = os.path.abspath(tree)
        n = (lambda k: (100, k)) if a.sends else (lambda k: (k, 100))
        keep = (lambda sub: os.path.join(a.keep, str(i), sub)) if a.keep else (lambda sub: None)
        lo = run(tree, *n(a.calls), a.timeout, keep("N"))
        hi = run(tree, *n(2 * a.calls), a.timeout, keep("2N"))
        per_op = (hi - lo) / (2.0 * a.calls)  # mn_bench does N per size, two sizes
        print("%-40s %10.0f instructions/%s" % (tree, per_op, "send" if a.sends else "call"))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
