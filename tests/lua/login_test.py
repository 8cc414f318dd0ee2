#!/usr/bin/env python3
"""skynet's login example on a real node: t_logind (snax.loginserver),
t_gated (snax.msgserver) and one t_msgagent per user, driven by a plain
lua5.4 client (login_client.lua, client.socket + client.crypt) over TCP.

Pass: the client completes every step (it asserts each one), both sides
print the same DH secret, and the node logged the agent's login, its AFK on
the disconnect, the kick on the second login and the logout.

usage: login_test.py SKIFF_EXE LUACLIB_DIR [--timeout S]
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
    with tempfile.TemporaryDirectory(prefix="skiff-login-") as tmp:
        node = Node(args.skiff, write_config(tmp, "test_login", 4, "plain"))
        try:
            ready = node.wait_line(lambda l: "LOGIN READY" in l, deadline)
            text = node.text()
            lport = re.search(r"login server listen at : \S+ (\d+)", text)
            gport = re.search(r"Listen on [\d.]+:(\d+)", text)
            if ready is None or not lport or not gport:
                verdict = "the node did not report its ports"
            else:
                client = subprocess.run(env=harness.lua_client_env(args.luaclib), args=[lua, os.path.join(HERE, "login_client.lua"), args.luaclib,
                     lport.group(1), gport.group(1)],
                    capture_output=True, text=True,
                    timeout=max(5, deadline - time.monotonic()))
                print(client.stdout + client.stderr)
                csec = re.search(r"CLIENT SECRET (\w+)", client.stdout)
                if client.returncode != 0 or "CLIENT LOGIN FLOW OK" not in client.stdout:
                    verdict = "client failed"
                else:
                    want = [
                        ("server secret", r"hello@sample is login, secret is " + csec.group(1)),
                        ("agent login", r"hello is login"),
                        ("afk", r"AFK hello"),
                        ("kick", r"hello is logout"),
                        ("login server logout", r"hello@sample is logout"),
                        ("bad password", r"wrong password"),
                        ("failed request", r"the agent refuses boom"),
                        ("stalled login", r"login from \S+ \(fd = \d+\) timed out"),
                    ]
                    for what, rx in want:
                        if not node.wait_line(lambda l, rx=rx: re.search(rx, l), deadline):
                            verdict = f"node log lacks {what} ({rx})"
                            break
        except subprocess.TimeoutExpired as e:
            verdict = f"timeout: {e}"
        finally:
            node.stop()
        print("\n".join(node.lines()))
        print(f"--- test_login: {verdict}")
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
