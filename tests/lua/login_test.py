#!/usr/bin/env python3
"""skynet's login example on a real node: t_logind (snax.loginserver),
t_gated (snax.msgserver) and one t_msgagent per user, driven by a plain
lua5.4 client (login_client.lua, client.socket + client.crypt) over TCP.

Pass: the client completes every step (it asserts each one), both sides
print the same DH secret, and the node logged the agent's login, its AFK on
the disconnect, the kick on the second login and the logout.

usage: login_test.py SKIFF_EXE LUACLIB_DIR [--timeout S]
"""
import os
import re
import sys

import luaclient


def steps(client, node):
    ready = node.wait_line(lambda l: "LOGIN READY" in l, client.deadline)
    text = node.text()
    lport = re.search(r"login server listen at : \S+ (\d+)", text)
    gport = re.search(r"Listen on [\d.]+:(\d+)", text)
    if ready is None or not lport or not gport:
        return "the node did not report its ports"
    proc = client.run(os.path.join(luaclient.HERE, "login_client.lua"), lport.group(1), gport.group(1))
    csec = re.search(r"CLIENT SECRET (\w+)", proc.stdout)
    if proc.returncode != 0 or "CLIENT LOGIN FLOW OK" not in proc.stdout:
        return "client failed"
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
        if not node.wait_line(lambda l, rx=rx: re.search(rx, l), client.deadline):
            return f"node log lacks {what} ({rx})"
    return "PASS"


def main():
    return luaclient.run_node_test("test_login", steps)


if __name__ == "__main__":
    sys.exit(main())
