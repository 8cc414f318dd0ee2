#!/usr/bin/env python3
"""Run the Lua-level benchmarks on real skiff nodes and print a table.

usage: run_lua_bench.py SKIFF_EXE [--threads N (default: CPU count)] [--scale F] [--only NAME...]

Each benchmark is a service tests/bench/lua_<name>.lua started as the node's
`start` service; it prints "BENCH <metric> <value> <unit> [note]" lines and
aborts the node.  --scale shrinks every iteration count (0.05 for a quick
smoke run).  Traffic stays inside the node; nothing listens on the network.
Each figure is printed beside the previous Skiff figure (PREVIOUS below) when
there is one.  "agents" at full scale needs ~10 GiB of free memory and "churn"
(1,000,000 services) several minutes.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = ["call", "send", "pairs", "fanout", "spawn", "spawn4", "agents", "churn", "timeout", "payload",
           "pack", "shared", "sproto"]

# Seconds a full-scale run may take, where the default (--timeout) is too short.
TIMEOUTS = {"agents": 900, "churn": 1800}

# metric -> (previous Skiff figure, where it comes from).  Issue 21's figures
# were measured side by side with skynet (thread = 2, medians of interleaved
# runs); the others on session 4's tree before the per-service work (commit
# 9fbbb4c), same machine class.
PREVIOUS = {
    "spawn": (4207, "issue 21"),
    "spawn4": (7251, "issue 21"),
    "spawn_rss_per_service": (102.5, "issue 21"),
    "spawn_lua_heap_per_service": (92.7, "9fbbb4c"),
    "pack_unpack": (817e3, "issue 21"),
    # 9fbbb4c, the same loaded 2-vCPU machine as session 4's "after" run
    "agents_rss_total": (9.89, "9fbbb4c"),
    "agents_rss_per_agent": (103.6, "9fbbb4c"),
    "agents_lua_heap_per_agent": (92.8, "9fbbb4c"),
    "churn_rss_growth": (-1.7, "9fbbb4c"),
}


def run_one(skiff, name, threads, scale, timeout):
    if scale >= 1:
        timeout = max(timeout, TIMEOUTS.get(name, 0))
    with tempfile.TemporaryDirectory(prefix="skiff-bench-") as tmp:
        config = os.path.join(tmp, "config.lua")
        with open(config, "w") as f:
            f.write(f"thread = {threads}\nharbor = 0\n"
                    f'luaservice = luaservice .. ";{HERE}/?.lua"\n'
                    f'lua_path = lua_path .. ";{HERE}/?.lua"\n'
                    f'start = "lua_{name}"\n'
                    f'bench_scale = "{scale}"\n')
        t0 = time.monotonic()
        try:
            out = subprocess.run([skiff, config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, errors="replace", timeout=timeout).stdout
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            out += "\nBENCH FAIL timeout\n"
        wall = time.monotonic() - t0
    rows, failed = [], None
    for line in out.splitlines():
        if line.startswith("BENCH FAIL"):
            failed = line
        elif line.startswith("BENCH ") and not line.startswith("BENCH DONE"):
            parts = line.split(None, 4)
            rows.append((parts[1], float(parts[2]), parts[3], parts[4] if len(parts) > 4 else ""))
    if failed or "BENCH DONE" not in out:
        sys.stderr.write(out[-3000:] + "\n")
        failed = failed or "no BENCH DONE"
    return rows, failed, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    names = args.only or BENCHES
    print(f"# skiff Lua benchmarks: {os.path.abspath(args.skiff)} thread={args.threads} scale={args.scale}")
    print(f"# command: {' '.join(sys.argv)}")
    print(f"{'metric':32} {'value':>14}  {'unit':14} {'previous':>10}  note")
    bad = 0
    for name in names:
        rows, failed, wall = run_one(args.skiff, name, args.threads, args.scale, args.timeout)
        for metric, value, unit, note in rows:
            prev = PREVIOUS.get(metric) if args.scale == 1 else None  # full-scale figures only
            prev = f"{prev[0]:10.6g}" if prev else f"{'-':>10}"
            print(f"{metric:32} {value:14.6g}  {unit:14} {prev}  {note}")
        if failed:
            bad += 1
            print(f"{'lua_' + name:32} {'FAILED':>14}  {'':14} {'':10}  {failed}")
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
