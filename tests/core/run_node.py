#!/usr/bin/env python3
"""Run one skiff node with a generated config and check what it prints.

usage: run_node.py SKIFF [options]
  --config-line 'key = value'   add a line to the config (repeatable)
  --config-file PATH            use this config file as is (no generated one)
  --expect REGEX                must appear in the combined output (repeatable)
  --reject REGEX                must not appear (repeatable)
  --exit N                      expected exit status (default 0)
  --timeout S                   kill the node after S seconds (fails the test)
  --env K=V                     extra environment for the node
  --logpath                     create a temp dir and set logpath to it; expect a .log file
Exit 0 when every expectation holds, 1 otherwise (with the node's output shown).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--config-line", action="append", default=[])
    ap.add_argument("--config-file")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--logpath", action="store_true")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="skiff-test-") as tmp:
        if a.config_file:
            cfg = a.config_file
        else:
            cfg = os.path.join(tmp, "config")
            lines = list(a.config_line)
            if a.logpath:
                lines.append('logpath = "%s"' % tmp)
            with open(cfg, "w") as f:
                f.write("\n".join(lines) + "\n")
        env = dict(os.environ)
        for kv in a.env:
            k, _, v = kv.partition("=")
            env[k] = v
        try:
            p = subprocess.run([a.skiff, cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=a.timeout, env=env, cwd=tmp)
            out = p.stdout.decode(errors="replace")
            code = p.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace")
            print(out)
            print("FAIL: node did not exit within %ss" % a.timeout)
            return 1
        ok = True
        if code != a.exit:
            print("FAIL: exit status %d, expected %d" % (code, a.exit))
            ok = False
        if not harness.check_output(out, a.expect, a.reject):
            ok = False
        if a.logpath:
            logs = [f for f in os.listdir(tmp) if f.endswith(".log")]
            if not logs:
                print("FAIL: no per-service message log written in logpath")
                ok = False
            else:
                text = open(os.path.join(tmp, logs[0])).read()
                if "open time:" not in text or "close time:" not in text:
                    print("FAIL: message log lacks open/close lines:\n" + text)
                    ok = False
        print(out)
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
