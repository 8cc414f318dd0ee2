#!/usr/bin/env python3
"""Garbage on every port of one node must not crash it: it keeps serving.

usage: test_bad_ports.py SKIFF

A single node (harbor = 0) with the debug console, the metrics endpoint, a Lua
gate (services/gate.lua + skynet.netpack) and a C gate (services/service_gate.c)
listening on 127.0.0.1.  Each port gets the same hostile shapes:
  random   256 KiB of random bytes (NULs, newlines, length headers), then close
  rst      random bytes, then a reset (SO_LINGER 0) mid-stream
  longline 1 MiB with no newline, then close
  http     absurd and truncated HTTP requests (huge Content-Length, short body)
  header   a length header promising more than is ever sent, then close
  storm    50 connections opened and reset at once
  idle     a connection that connects and never sends (kept open to the end)
After each port the node must still be alive and every port must still work:
console `list` answers, /metrics scrapes, the Lua gate echoes a packet, the C
gate hands a packet to its watchdog.  Then the same on a three-node harbor
cluster's peer port (node 2) and master port (node 1): every node must still
see the three up.  At the end no log
may hold crash, sanitizer or assertion text.
"""
import os
import random
import re
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "obs"))
from obslib import Group, check, scrape, wait_for, Console  # noqa: E402
import harness  # noqa: E402  (obslib puts tests/ on the path)

BAD_LOG = re.compile(r"AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|Assertion|"
                     r"Segmentation|SIGSEGV|SIGABRT|stack traceback:\s*\n\s*\[C\]: in \?|core dumped")


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def send_quietly(s, data):
    """Sends what the node takes; a node that closes or stops reading is fine."""
    try:
        s.sendall(data)
    except (socket.timeout, ConnectionError, OSError):
        pass


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def garbage(port, rng, idle):
    blob = bytes(rng.getrandbits(8) for _ in range(256 * 1024))
    # random
    s = connect(port)
    send_quietly(s, blob)
    s.close()
    # rst
    s = connect(port)
    send_quietly(s, blob[:20000])
    reset(s)
    # longline
    s = connect(port)
    send_quietly(s, b"x" * (1 << 20))
    s.close()
    # http
    for req in (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nab",
                b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab",
                b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 5000,
                b"\r\n\r\n\r\n", b"\x00\x00\x00\x00"):
        s = connect(port)
        send_quietly(s, req)
        s.close()
    # header
    for hdr in (b"\xff\xff", b"\xff\xff\xff\xff", b"\x00\x10abc"):
        s = connect(port)
        send_quietly(s, hdr)
        s.close()
    # storm
    socks = [connect(port) for _ in range(50)]
    for s in socks:
        send_quietly(s, blob[:100])
        reset(s)
    # idle
    idle.append(connect(port))


def lua_gate_echo(port, payload):
    with connect(port, timeout=10) as s:
        s.sendall(struct.pack(">H", len(payload)) + payload)
        data = b""
        while len(data) < 2 + len(payload):
            chunk = s.recv(65536)
            check(chunk, "Lua gate closed before the echo")
            data += chunk
        check(data == struct.pack(">H", len(payload)) + payload, "Lua gate echo: %r" % data[:50])


def c_gate_packet(node, port, word):
    with connect(port, timeout=10) as s:
        s.sendall(struct.pack(">H", len(word)) + word)
        node.wait(r"BADPORTS CDATA %s$" % word.decode(), timeout=10)


def serving(node, ports, n):
    check(node.proc.poll() is None, "node exited: %s" % node.proc.returncode)
    c = Console(node.console)
    lines = c.cmd("list")
    check(any("bad_ports" in l for l in lines), "console list: %r" % lines)
    c.close()
    fams = scrape(node.metrics)
    check("skiff_services" in fams, "metrics scrape")
    lua_gate_echo(ports["luagate"], b"alive %d" % n)
    c_gate_packet(node, ports["cgate"], b"alive%d" % n)


def harbor_serving(nodes):
    for n in nodes:
        check(n.proc.poll() is None, "node %d exited: %s" % (n.id, n.proc.returncode))
    def all_up():
        for n in nodes:
            c = Console(n.console)
            try:
                states = {r["id"]: r["state"] for r in c.json("nodes")["nodes"]}
            finally:
                c.close()
            check(states == {1: "up", 2: "up", 3: "up"}, "node %d sees %r" % (n.id, states))
        return True
    wait_for(all_up, "three nodes up", timeout=30)


def harbor_phase(skiff, rng):
    with Group(skiff) as g:
        nodes = [n.started() for n in g.cluster(3, timeout=2)]
        harbor_serving(nodes)
        with open(nodes[1].conf) as f:
            peer = int(re.search(r'address = "127\.0\.0\.1:(\d+)"', f.read()).group(1))
        idle = []
        for name, port in (("peer", peer), ("master", g.master_port)):
            t0 = time.monotonic()
            garbage(port, rng, idle)
            harbor_serving(nodes)
            print("%-8s port %5d: garbage taken, still serving (%.1fs)" % (name, port, time.monotonic() - t0))
        for s in idle:
            s.close()
        harbor_serving(nodes)
        for n in nodes:
            text = n.text()
            m = BAD_LOG.search(text)
            check(m is None, "node %d crash text: %r" % (n.id, m and text[max(0, m.start() - 300):m.end() + 300]))


def main(skiff):
    rng = random.Random(20261127)
    with Group(skiff) as g:
        node = g.single(extra=[
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'lua_path = lua_path .. ";%s/?.lua"' % harness.TESTS_DIR,
            'start = "bad_ports"',
        ]).started()
        ports = {
            "console": node.console,
            "metrics": node.metrics,
            "luagate": int(node.wait(r"BADPORTS LUAGATE (\d+)").group(1)),
            "cgate": int(node.wait(r"gate: listen on 127\.0\.0\.1:(\d+)").group(1)),
        }
        serving(node, ports, 0)
        idle = []
        for n, (name, port) in enumerate(sorted(ports.items()), 1):
            t0 = time.monotonic()
            garbage(port, rng, idle)
            wait_for(lambda: serving(node, ports, n) or True, "serving after garbage on " + name, timeout=30)
            print("%-8s port %5d: garbage taken, still serving (%.1fs)" % (name, port, time.monotonic() - t0))
        for s in idle:
            s.close()
        serving(node, ports, 99)
        text = node.text()
        m = BAD_LOG.search(text)
        check(m is None, "crash text in the log: %r" % (m and text[max(0, m.start() - 300):m.end() + 300]))
    harbor_phase(skiff, rng)
    print("bad ports: PASS")


if __name__ == "__main__":
    main(sys.argv[1])
