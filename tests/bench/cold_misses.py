#!/usr/bin/env python3
"""Count what one fan-out call costs in instructions and cache misses.

usage: cold_misses.py SKIFF_EXE [--lualib DIR]

The fan-out benchmark wakes 1,000 echo services once per round, so its time
goes to cache misses on cold Lua states more than to instructions, and wall
time on a shared machine is too noisy to compare two versions of skynet.lua.
This runs tests/bench/lua_fanout.lua under valgrind's cachegrind (simulated
32 KiB L1, 4 MiB last-level cache) twice, with 2 and with 12 rounds, and
prints the difference per call: start-up and the 1,000 spawns cancel out, and
the miss counts are the same from run to run whatever else the machine does.
The instruction total is not always: during shutdown a worker can loop on a
retired service's queue (skynet's retry), and valgrind's one-thread-at-a-time
scheduling can stretch that loop; compare misses, and Ir only across runs
whose runtime functions (skynet_context_message_dispatch) agree.
Both variants of the benchmark (calls and request():select()) are counted.

--lualib puts DIR first on lua_path, to measure another skynet.lua with the
same binary.  LD_LIBRARY_PATH pointing at a liblua5.4 built with -g makes the
per-function lines (--top) name the interpreter's functions.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH = 1000


def run(skiff, rounds, tmp, lualib):
    cfg = os.path.join(tmp, f"fan{rounds}.conf")
    prefix = f'"{lualib}/?.lua;" .. ' if lualib else ""
    with open(cfg, "w") as f:
        f.write("thread = 2\nharbor = 0\nworker_spin = 0\n"
                f'luaservice = luaservice .. ";{HERE}/?.lua"\n'
                f'lua_path = {prefix}lua_path .. ";{HERE}/?.lua"\n'
                'start = "lua_fanout"\n'
                f'bench_scale = "{rounds / 100}"\n')
    out = os.path.join(tmp, f"cg{rounds}.out")
    p = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--D1=32768,8,64",
                        "--LL=4194304,16,64", f"--cachegrind-out-file={out}",
                        "--soname-synonyms=somalloc=*jemalloc*", skiff, cfg],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
    if "BENCH DONE" not in p.stdout or "BENCH FAIL" in p.stdout:
        sys.stderr.write(p.stdout[-3000:])
        raise SystemExit("cold_misses: the benchmark failed under valgrind")
    events, total, per_fn, fn = None, None, {}, None
    with open(out) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("summary:"):
                total = [int(x) for x in line.split()[1:]]
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line[:1].isdigit() and fn is not None:
                vals = [int(x) for x in line.split()[1:]]
                acc = per_fn.setdefault(fn, [0] * len(events))
                for i, v in enumerate(vals):
                    acc[i] += v
    return events, total, per_fn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--lualib", help="a directory with another skynet.lua to measure")
    ap.add_argument("--top", type=int, default=8, help="functions to list by last-level read misses")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="skiff-cg-") as tmp:
        ev, lo, lo_fn = run(a.skiff, 2, tmp, a.lualib)
        _, hi, hi_fn = run(a.skiff, 12, tmp, a.lualib)
    calls = 2 * 10 * WIDTH  # two variants, ten more rounds
    print(f"# per fan-out call ({WIDTH} echo services), cachegrind D1 32 KiB, LL 4 MiB")
    print("  ".join(f"{e}={(h - l) / calls:.1f}" for e, l, h in zip(ev, lo, hi)))
    dl = ev.index("DLmr")
    rows = sorted(((hi_fn[k][dl] - lo_fn.get(k, [0] * len(ev))[dl]) / calls, k) for k in hi_fn)
    for v, k in reversed(rows[-a.top:]):
        print(f"  {v:7.1f} LL read misses  {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
