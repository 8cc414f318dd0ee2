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
import os
import subprocess
import sys

import luaclient

DEMO = os.path.join(luaclient.HERE, "sproto_demo")
LUALIB = os.path.join(os.path.dirname(os.path.dirname(luaclient.HERE)), "lualib")


def steps(client, node):
    line = node.wait_line(lambda l: l.startswith("SPROTO DEMO PORT "), client.deadline)
    if line is None:
        return "the demo printed no port"
    port = line.split()[-1]
    left = client.left()
    py = subprocess.Popen([sys.executable, os.path.join(DEMO, "sproto_client.py"),
                           port, "py", "from python", "--garbage-first"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lu = client.spawn(os.path.join(DEMO, "sproto_client.lua"), LUALIB, port, "lua", "from lua")
    pyout = py.communicate(timeout=left)[0]
    luout = lu.communicate(timeout=client.left())[0]
    print("--- python client\n" + pyout + "--- lua client\n" + luout)
    end = node.test_verdict(client.deadline)
    if py.returncode != 0 or "CLIENT OK" not in pyout:
        return "python client failed"
    if lu.returncode != 0 or "CLIENT OK" not in luout:
        return "lua client failed"
    if end != "PASS":
        return f"service: {end}"
    if not any("set\tpy\tfrom python" in l for l in node.lines()):
        return "the agent did not log the python client's set"
    client.wait_exit(node)
    return "PASS"


def main():
    return luaclient.run_node_test("test_sproto_demo", steps, [
        f'luaservice = luaservice .. ";{DEMO}/?.lua"',
        f'lua_path = lua_path .. ";{DEMO}/?.lua"',
        'sproto_clients = "2"',
    ])


if __name__ == "__main__":
    sys.exit(main())
