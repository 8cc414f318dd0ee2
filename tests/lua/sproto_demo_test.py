#!/usr/bin/env python3
"""skynet's sproto example (gate + watchdog + agent speaking sproto over a
2-byte length-prefixed socket) on a real node, with two clients: one in
Python that codes the sproto wire format itself (sproto_client.py), and one in
a stock lua5.4 using client.socket and luaclib/sproto.so (sproto_client.lua).
The Python client first sends malformed packets, which its agent must drop.
Pass: both clients finish handshake, set, get (their own value back), a
server heartbeat and quit, and the node's test service sees both agents
closed (TEST PASS).

usage: sproto_demo_test.py SKIFF_EXE LUACLIB_DIR [--timeout S]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "sproto_demo")
LUALIB = os.path.join(os.path.dirname(os.path.dirname(HERE)), "lualib")
sys.path.insert(0, HERE)
from run_test import Node, write_config  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("luaclib")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    lua = shutil.which("lua5.4")
    if lua is None:
        print("FAIL: lua5.4 not found (Debian package lua5.4)")
        return 1
    verdict = "PASS"
    with tempfile.TemporaryDirectory(prefix="skiff-sproto-demo-") as tmp:
        cfg = write_config(tmp, "test_sproto_demo", 4, "plain")
        with open(cfg, "a") as f:
            f.write(f'luaservice = luaservice .. ";{DEMO}/?.lua"\n')
            f.write(f'lua_path = lua_path .. ";{DEMO}/?.lua"\n')
            f.write('sproto_clients = "2"\n')
        node = Node(args.skiff, cfg)
        try:
            line = node.wait_line(lambda l: l.startswith("SPROTO DEMO PORT "), deadline)
            if line is None:
                verdict = "the demo printed no port"
            else:
                port = line.split()[-1]
                left = max(5, deadline - time.monotonic())
                py = subprocess.Popen([sys.executable, os.path.join(DEMO, "sproto_client.py"),
                                       port, "py", "from python", "--garbage-first"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                lu = subprocess.Popen(env=harness.lua_client_env(args.luaclib), args=[lua, os.path.join(DEMO, "sproto_client.lua"), args.luaclib,
                                       LUALIB, port, "lua", "from lua"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                pyout = py.communicate(timeout=left)[0]
                luout = lu.communicate(timeout=max(5, deadline - time.monotonic()))[0]
                print("--- python client\n" + pyout + "--- lua client\n" + luout)
                end = node.wait_line(lambda l: "TEST PASS" in l or "TEST FAIL" in l, deadline)
                if py.returncode != 0 or "CLIENT OK" not in pyout:
                    verdict = "python client failed"
                elif lu.returncode != 0 or "CLIENT OK" not in luout:
                    verdict = "lua client failed"
                elif end is None or "TEST PASS" not in end:
                    verdict = f"service: {end}"
                elif not any("set\tpy\tfrom python" in l for l in node.lines()):
                    verdict = "the agent did not log the python client's set"
                else:
                    node.proc.wait(max(1.0, min(10.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired as e:
            verdict = f"timeout: {e}"
        finally:
            node.stop()
        print("\n".join(node.lines()))
        print(f"--- test_sproto_demo: {verdict}")
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
