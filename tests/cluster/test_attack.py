#!/usr/bin/env python3
"""Hostile peers against the cluster port: no handshake, garbage, wrong key,
replay, flipped byte, a flipped bit in a sealed record's length (closed on the
header at once, not after harbor_timeout), huge length, oversized pre-auth
record, slow handshake.
Each connection is closed (and logged with the peer address); the node keeps
serving a legitimate node afterwards."""
import os
import re
import socket
import struct
import subprocess
import sys
import time

import clusterlib
from clusterlib import free_port

TIMEOUT = 2


def closed_within(sock, seconds, drip=None):
    """True if the node closes sock within `seconds` (dripping bytes meanwhile)."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        if drip is not None:
            try:
                sock.send(drip)
            except OSError:
                return True
        try:
            data = sock.recv(65536)
            if not data:
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def main(cl):
    attack = os.path.join(os.path.dirname(sys.argv[1]), "tests", "cluster", "cluster_attack")
    if len(sys.argv) > 2:
        attack = sys.argv[2]
    port = free_port()
    f = cl.node_file({"b": "127.0.0.1:%d" % port})
    extra = ["cluster_timeout = %d" % TIMEOUT]
    b = cl.start("b", "cl_server", f, extra=extra)
    b.must("CLUSTER READY", 15)

    def conn():
        return socket.create_connection(("127.0.0.1", port), timeout=5)

    cases = []
    # no handshake at all: closed at the handshake deadline
    s = conn()
    t0 = time.monotonic()
    cases.append(("no handshake", closed_within(s, TIMEOUT + 3), time.monotonic() - t0))
    # garbage
    s = conn()
    s.sendall(os.urandom(64))
    cases.append(("garbage", closed_within(s, 2), 0))
    # huge length in the record header
    s = conn()
    s.sendall(struct.pack(">IB", 0xFFFFFFF0, 1) + b"x" * 16)
    cases.append(("huge length", closed_within(s, 2), 0))
    # a pre-authentication record over the limit
    s = conn()
    s.sendall(struct.pack(">IB", 4096, 1) + b"\0" * 4096)
    cases.append(("oversized hello", closed_within(s, 2), 0))
    # slow handshake: one byte of a plausible HELLO every 0.2 s
    s = conn()
    s.sendall(struct.pack(">IB", 200, 1))
    t0 = time.monotonic()
    cases.append(("slow handshake", closed_within(s, TIMEOUT + 3, drip=b"\x08"),
                  time.monotonic() - t0))
    for mode in ("good", "wrongkey", "replay", "flip", "lenflip"):
        p = subprocess.run([attack, mode, "127.0.0.1", str(port), cl.key],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=30)
        ok = p.returncode == 0
        if mode == "lenflip":
            m = re.search(r"closed by the node after (\d+) ms", p.stdout)
            ok = ok and m is not None and int(m.group(1)) < TIMEOUT * 1000 // 2
            ok = ok and "header failed authentication" in b.text()
        cases.append((mode, ok, p.stdout.strip()))
    bad = [c for c in cases if not c[1]]
    for c in cases:
        print("%-16s %s %s" % (c[0], "ok" if c[1] else "FAILED", c[2]))
    if bad:
        raise AssertionError("attacks not handled: %s\n%s" % (bad, b.text()))
    # authenticated links log "link inbound ... closed", the others (rate-limited,
    # preauth.c) "connection ... refused/closed before authentication"
    closes = [l for l in b.text().splitlines()
              if "cluster: link inbound 127.0.0.1:" in l or "cluster: connection 127.0.0.1:" in l]
    if len(closes) < 9:
        raise AssertionError("expected a logged close per attack, got:\n" + "\n".join(closes))
    # the node still works for a real peer
    a = cl.start("a", "cl_t_ping", f, extra=extra)
    a.verdict(30)
    if b.proc.poll() is not None:
        raise AssertionError("node b died")


clusterlib.run(main)
