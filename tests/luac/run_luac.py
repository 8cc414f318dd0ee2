#!/usr/bin/env python3
"""Run one tests/luac service on a real skiff node and judge its log.

usage: run_luac.py SKIFF SERVICE [ARGS...] [--expect RX]... [--reject RX]...
                   [--config 'key = value']... [--timeout S] [--no-pass] [--timeout-ok]

The node runs with 2 workers, harbor 0, `start` = SERVICE ARGS and this
folder on luaservice / lua_path. Pass = a "LUAC PASS" line, no "LUAC FAIL",
every --expect regex found, no --reject regex found, exit before the timeout.
Prints the log and "1 passed, 0 failed" or "0 passed, 1 failed".
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("service", nargs="+")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--no-pass", action="store_true",
                    help="the service is not a luac_t test: no LUAC PASS line expected")
    ap.add_argument("--timeout-ok", action="store_true",
                    help="a node still running at the timeout is expected (it is killed)")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="skiff-luac-") as tmp:
        cfg = os.path.join(tmp, "config")
        lines = [
            "thread = 2",
            "harbor = 0",
            'start = "%s"' % " ".join(a.service),
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'lua_path = lua_path .. ";%s/?.lua;%s/?.lua"' % (HERE, harness.TESTS_DIR),
            'luac_dir = "%s"' % HERE,
            'luac_tmp = "%s"' % tmp,
        ] + a.config
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        problems = []
        try:
            p = subprocess.run([a.skiff, cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=a.timeout, cwd=tmp)
            out = p.stdout.decode(errors="replace")
            if p.returncode != 0:
                problems.append("exit status %d" % p.returncode)
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace")
            if not a.timeout_ok:
                problems.append("node still running after %ss" % a.timeout)
        print(out)
        if not a.no_pass and not re.search(r"LUAC PASS", out):
            problems.append("no LUAC PASS line")
        problems += harness.output_problems(out, a.expect, [r"LUAC FAIL"] + a.reject)
        for why in problems:
            print("FAIL: " + why)
        print("%d passed, %d failed" % (0 if problems else 1, 1 if problems else 0))
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
