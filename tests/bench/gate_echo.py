#!/usr/bin/env python3
"""Gate echo benchmark: a node runs the Lua gate (or the C gate with --cgate)
with an echo agent; 100 Python clients send 64-byte packets one at a time and
wait for each echo. Prints packets/s and p50/p99 round-trip latency.

usage: gate_echo.py SKIFF [--cgate] [--client-exe PATH] [--clients N] [--seconds S] [--size B]
With --client-exe (gate_echo_client, built from gate_echo_client.c) the load
comes from one epoll C process; without it from Python asyncio, which saturates
first. Clients share the machine with the node: compare builds, not machines.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOCK = os.path.join(HERE, "..", "socket")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--cgate", action="store_true")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--client-exe")
    a = ap.parse_args()
    env = dict(os.environ)
    env["GATE_BENCH"] = "%d,%f,%d" % (a.clients, a.seconds, a.size)
    if a.client_exe:
        env["GATE_BENCH_EXE"] = os.path.abspath(a.client_exe)
    args = [sys.executable, os.path.join(SOCK, "run_socktest.py"), a.skiff,
            "--client", "gate_bench_exe" if a.client_exe else "gate_bench_env", "--timeout", str(a.seconds + 60),
            "--lua-dir", HERE, "--reject", "SOCKTEST FAIL"]
    if a.cgate:
        args += ["--service", "socktest_cgate", "--ready", r"gate: listen on 127\.0\.0\.1:(\d+)"]
    else:
        args += ["--service", "gate_echo_watchdog"]
    p = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode(errors="replace")
    bench = [l for l in out.splitlines() if l.startswith("BENCH")]
    print("\n".join(bench) if p.returncode == 0 else out)
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
