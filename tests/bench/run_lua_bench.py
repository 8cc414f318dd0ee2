#!/usr/bin/env python3
"""Run the Lua-level benchmarks on real skiff nodes and print a table.

usage: run_lua_bench.py SKIFF_EXE [--threads N (default: CPU count)] [--scale F] [--only NAME...]
                        [--skynet SKYNET_DIR [--rounds N]]

Each benchmark is a service tests/bench/lua_<name>.lua started as the node's
`start` service; it prints "BENCH <metric> <value> <unit> [note]" lines and
aborts the node.  --scale shrinks every iteration count (0.05 for a quick
smoke run).  Traffic stays inside the node; nothing listens on the network.
Each figure is printed beside the previous Skiff figure (PREVIOUS below) when
there is one.  "agents" at full scale needs ~10 GiB of free memory and "churn"
(1,000,000 services) several minutes.

With --skynet DIR, DIR is a skynet source tree that has been built; the
same benchmark services run there too, alternating with Skiff round by round
(--rounds, 3 unless given), and every metric is printed as the Skiff median,
the skynet median and their ratio.  A skynet built without its bundled jemalloc
(`make linux MALLOC_STATICLIB= SKYNET_DEFINES=-DNOUSE_JEMALLOC`) runs with
Debian's libjemalloc preloaded, so both sides use jemalloc.  Only services
that use skynet's API alone can run there (spawn, spawn4, pack, call, send,
pairs, fanout, payload, timeout); skynet's memory.total() is 0 without its
jemalloc, so its heap figures are not comparable.
"""
import argparse
import os
import statistics
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


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def skynet_command(skynet, config):
    """The command and environment that run a skynet checkout on `config`."""
    env = dict(os.environ)
    if not os.path.exists(os.path.join(skynet, "3rd", "jemalloc", "lib", "libjemalloc_pic.a")) \
            and os.path.exists(JEMALLOC):
        env["LD_PRELOAD"] = JEMALLOC
    return [os.path.join(skynet, "skynet"), config], env


def run_one(skiff, name, threads, scale, timeout, skynet=None):
    if scale >= 1:
        timeout = max(timeout, TIMEOUTS.get(name, 0))
    with tempfile.TemporaryDirectory(prefix="skiff-bench-") as tmp:
        config = os.path.join(tmp, "config.lua")
        with open(config, "w") as f:
            f.write(f"thread = {threads}\nharbor = 0\n")
            if skynet:  # skynet's config has no defaults for its paths
                root = os.path.abspath(skynet) + "/"
                f.write(f'root = "{root}"\nbootstrap = "snlua bootstrap"\n'
                        f'luaservice = root .. "service/?.lua;{HERE}/?.lua"\n'
                        f'lualoader = root .. "lualib/loader.lua"\n'
                        f'lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua;{HERE}/?.lua"\n'
                        f'lua_cpath = root .. "luaclib/?.so"\ncpath = root .. "cservice/?.so"\n')
                cmd, env = skynet_command(skynet, config)
            else:
                f.write(f'luaservice = luaservice .. ";{HERE}/?.lua"\n'
                        f'lua_path = lua_path .. ";{HERE}/?.lua"\n')
                cmd, env = [skiff, config], None
            f.write(f'start = "lua_{name}"\n'
                    f'bench_scale = "{scale}"\n')
        t0 = time.monotonic()
        try:
            out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
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
    ap.add_argument("--skynet", help="a built skynet checkout to run the same services on")
    ap.add_argument("--rounds", type=int, default=3, help="with --skynet: interleaved rounds")
    args = ap.parse_args()
    names = args.only or BENCHES
    if args.skynet:
        return side_by_side(args, names)
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


def side_by_side(args, names):
    print(f"# Skiff {os.path.abspath(args.skiff)} beside skynet {os.path.abspath(args.skynet)}: "
          f"thread={args.threads} scale={args.scale}, {args.rounds} interleaved rounds, medians")
    cmd, env = skynet_command(args.skynet, "config")
    if "LD_PRELOAD" in env:
        print(f"# skynet has no bundled jemalloc: run with LD_PRELOAD={env['LD_PRELOAD']}")
    print(f"# command: {' '.join(sys.argv)}")
    print(f"{'metric':32} {'skiff':>12} {'skynet':>12}  {'skiff/skynet':>12}  unit / rounds (skiff | skynet)")
    bad = 0
    for name in names:
        got = {"skiff": {}, "skynet": {}}
        units = {}
        for _ in range(args.rounds):
            for side in ("skiff", "skynet"):
                rows, failed, _ = run_one(args.skiff, name, args.threads, args.scale, args.timeout,
                                          args.skynet if side == "skynet" else None)
                if failed:
                    bad += 1
                    print(f"{'lua_' + name:32} {side} FAILED: {failed}")
                for metric, value, unit, _ in rows:
                    got[side].setdefault(metric, []).append(value)
                    units[metric] = unit
        for metric, unit in units.items():
            a, b = got["skiff"].get(metric, []), got["skynet"].get(metric, [])
            ma = statistics.median(a) if a else float("nan")
            mb = statistics.median(b) if b else float("nan")
            ratio = f"{ma / mb:12.2f}" if a and b and mb else f"{'-':>12}"
            rounds = " ".join(f"{v:.6g}" for v in a) + " | " + " ".join(f"{v:.6g}" for v in b)
            print(f"{metric:32} {ma:12.6g} {mb:12.6g}  {ratio}  {unit} / {rounds}")
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
