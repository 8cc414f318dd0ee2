#!/usr/bin/env python3
"""A DH login between a service (test_dhlogin.lua) on a real node and a plain
lua5.4 client (dhlogin_client.lua) using client.socket and client.crypt.
Pass: a first login with a wrong challenge hmac is refused with 401, the next
gets the server's "200" answer, both sides print the same shared secret, and
the service reports TEST PASS.

usage: dhlogin_test.py SKIFF_EXE LUACLIB_DIR [--timeout S]
"""
import os
import re
import sys

import luaclient


def steps(client, node):
    line = node.wait_line(lambda l: l.startswith("DHLOGIN PORT "), client.deadline)
    if line is None:
        return "the service printed no port"
    proc = client.run(os.path.join(luaclient.HERE, "dhlogin_client.lua"), line.split()[-1])
    end = node.test_verdict(client.deadline)
    csec = re.search(r"CLIENT SECRET (\w+)", proc.stdout)
    ssec = node.wait_line(lambda l: l.startswith("SERVER SECRET "), client.deadline)
    refused = node.wait_line(lambda l: l.startswith("SERVER REFUSED "), client.deadline)
    if proc.returncode != 0 or "CLIENT LOGIN OK" not in proc.stdout \
            or "CLIENT REFUSED OK" not in proc.stdout:
        return "client failed"
    if refused is None or "challenge hmac does not match" not in refused:
        return f"server did not refuse the bad hmac: {refused}"
    if end != "PASS":
        return f"service: {end}"
    if not csec or not ssec or ssec.split()[-1] != csec.group(1):
        return f"secrets differ: {ssec} / {csec and csec.group(1)}"
    client.wait_exit(node)
    return "PASS"


def main():
    return luaclient.run_node_test("test_dhlogin", steps)


if __name__ == "__main__":
    sys.exit(main())
