#!/usr/bin/env python3
"""A DH login between a service (test_dhlogin.lua) on a real node and a plain
lua5.4 client (dhlogin_client.lua) using client.socket and client.crypt.
Pass: a first login with a wrong challenge hmac is refused with 401, the next
gets the server's "200" answer, both sides print the same shared secret, and
the service reports TEST PASS.

usage: dhlogin_test.py SKIFF_EXE LUACLIB_DIR [--timeout S]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
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
    with tempfile.TemporaryDirectory(prefix="skiff-dhlogin-") as tmp:
        node = Node(args.skiff, write_config(tmp, "test_dhlogin", 4, "plain"))
        try:
            line = node.wait_line(lambda l: l.startswith("DHLOGIN PORT "), deadline)
            if line is None:
                verdict = "the service printed no port"
            else:
                port = line.split()[-1]
                client = subprocess.run(env=harness.lua_client_env(args.luaclib), args=[lua, os.path.join(HERE, "dhlogin_client.lua"), args.luaclib, port],
                    capture_output=True, text=True, timeout=max(5, deadline - time.monotonic()))
                print(client.stdout + client.stderr)
                end = node.wait_line(lambda l: "TEST PASS" in l or "TEST FAIL" in l, deadline)
                csec = re.search(r"CLIENT SECRET (\w+)", client.stdout)
                ssec = node.wait_line(lambda l: l.startswith("SERVER SECRET "), deadline)
                refused = node.wait_line(lambda l: l.startswith("SERVER REFUSED "), deadline)
                if client.returncode != 0 or "CLIENT LOGIN OK" not in client.stdout \
                        or "CLIENT REFUSED OK" not in client.stdout:
                    verdict = "client failed"
                elif refused is None or "challenge hmac does not match" not in refused:
                    verdict = f"server did not refuse the bad hmac: {refused}"
                elif end is None or "TEST PASS" not in end:
                    verdict = f"service: {end}"
                elif not csec or not ssec or ssec.split()[-1] != csec.group(1):
                    verdict = f"secrets differ: {ssec} / {csec and csec.group(1)}"
                else:
                    node.proc.wait(max(1.0, min(10.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired as e:
            verdict = f"timeout: {e}"
        finally:
            node.stop()
        print("\n".join(node.lines()))
        print(f"--- test_dhlogin: {verdict}")
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
