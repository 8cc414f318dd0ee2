#!/usr/bin/env python3
"""The attack matrix, against a node's peer port and against the master port:
no handshake at all, a wrong key, an id that is already live, ids 0 and 256, a
replayed recorded handshake, one flipped byte in a sealed frame, a 16 MiB length
header, a handshake sent one byte per second.  Each must be refused, logged
with the attacker's address, and the nodes must keep serving each other."""
import re
import subprocess
import sys
import time
import mnlib

TIMEOUT = 2


def run(hattack, c, mode, port, purpose, nid, key=None, extra=()):
    args = [hattack, mode, "127.0.0.1", str(port), key or c.key, purpose, str(nid)] + list(extra)
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=40)
    return p.stdout.decode().strip()


def expect_log(c, nid, after, rx, timeout=TIMEOUT + 3):
    m = c.wait(nid, rx, timeout=timeout, after=after)
    return m.group(0)


def attack_port(hattack, c, victim, port, purpose):
    tag = "harbor master" if purpose == "master" else "harbor"
    addr = r"127\.0\.0\.1:\d+"
    before = r"%s: connection %s refused/closed before authentication: " % (tag, addr)
    cases = []

    def case(name, mode, nid, log_rx, key=None, extra=(), out_rx=r"^EOF \d+"):
        m = c.mark(victim)
        t0 = time.time()
        out = run(hattack, c, mode, port, purpose, nid, key, extra)
        assert re.search(out_rx, out), "%s/%s: helper said %r" % (purpose, name, out)
        line = expect_log(c, victim, m, log_rx)
        cases.append("%-8s %-22s %5.2fs  %s" % (purpose, name, time.time() - t0, line))

    case("no handshake", "idle", 1, before + r"handshake timed out")
    case("wrong key", "hello", 7, before + r".*", key="-")
    live = 2
    case("id already live", "hello", live,
         r"%s: link to node %d \(%s\) closed: node %d is already live" % (tag, live, addr, live))
    case("id 0", "hello", 0, r"%s: link to node 0 \(%s\) closed: node id 0" % (tag, addr))
    case("id 256", "hello", 256, r"%s: link to node 256 \(%s\) closed: node id 256" % (tag, addr))
    rec = c.dir + "/rec-%s.bin" % purpose
    # id 9 is free: a key holder may link as 9 (this only records the bytes)
    out = run(hattack, c, "record", port, purpose, 9, extra=[rec])
    assert out == "RECORDED", out
    case("replayed handshake", "replay", 9, before + r".*", extra=[rec])
    case("flipped byte", "flip", 9,
         r"%s: link to node 9 \(%s\) closed: .*(authenticat|open|decrypt|MAC|forged|tamper)" % (tag, addr))
    case("16 MiB length header", "bighdr", 1, before + r".*")
    case("1 byte per second", "slow", 1, before + r"handshake timed out")
    return cases


def main(skiff, hattack):
    with mnlib.Cluster(skiff, timeout=TIMEOUT) as c:
        c.start(1, master=True)
        c.start(3)
        c.start(2, role="traffic", extra=['test_target = "3"'])
        c.wait(2, r"MN TRAFFIC [1-9]\d* 0")
        cases = attack_port(hattack, c, 3, c.nodes[3].port, "peer")
        cases += attack_port(hattack, c, 1, c.master_port, "master")
        for line in cases:
            print(line)
        # the good nodes kept serving each other all along
        m = c.mark(2)
        c.wait(2, r"MN TRAFFIC [1-9]\d* 0", after=m)
        assert not re.search(r"MN TRAFFIC \d+ [1-9]", c.nodes[2].text()), "a call failed"
        assert "node 3 is down" not in c.nodes[2].text()
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
