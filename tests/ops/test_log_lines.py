#!/usr/bin/env python3
"""Log lines a newcomer reads.

"noise": a node whose master is down, and one whose master's name does not
resolve, retry with backoff; each logs one "cannot reach" line naming the real
reason (the DNS one never says "refused"), then one "still cannot reach ... N
failed attempts" line per period, not a line per attempt; once the master
starts, one "reached ... again after N failed attempts" line and the node joins.

"listen": a port already in use stops a harbor node, the master and a C gate
with "cannot listen on HOST:PORT ...: Address already in use" (the OS reason).
"""
import os
import re
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def conf(d, name, lines):
    return harness.write_config(os.path.join(d, name + ".conf"), [
        "thread = 2", 'cluster_key = "cluster.key"', 'start = "drain_node"',
        'test_role = "keeper"', 'luaservice = luaservice .. ";%s/?.lua"' % HERE] + lines)


def node(skiff, d, name, lines):
    return harness.Node(skiff, conf(d, name, lines), cwd=d, name=name,
                        log=os.path.join(d, name + ".log"))


def run_noise(skiff):
    with tempfile.TemporaryDirectory(prefix="skiff-noise-") as d:
        harness.make_key(os.path.join(d, "cluster.key"))
        mport = harness.free_port()
        n2 = node(skiff, d, "n2", ["harbor = 2", 'address = "127.0.0.1:%d"' % harness.free_port(),
                                   'master = "127.0.0.1:%d"' % mport])
        n3 = node(skiff, d, "n3", ["harbor = 3", 'address = "127.0.0.1:%d"' % harness.free_port(),
                                   'master = "nosuchhost.invalid:%d"' % mport])
        n1 = None
        try:
            maddr = re.escape("127.0.0.1:%d" % mport)
            n2.wait(r"harbor: cannot reach %s: socket error: Connection refused \(retrying" % maddr)
            daddr = re.escape("nosuchhost.invalid:%d" % mport)
            n3.wait(r"harbor: cannot reach %s: socket error: .*\(retrying" % daddr)
            # one periodic line after the period, counting the attempts in between
            m2 = n2.wait(r"harbor: still cannot reach %s: socket error: Connection refused "
                         r"\((\d+) failed attempts in the last \d+ s" % maddr, timeout=25)
            m3 = n3.wait(r"harbor: still cannot reach %s: .*\((\d+) failed attempts" % daddr, timeout=25)
            assert int(m2.group(1)) >= 2 and int(m3.group(1)) >= 2, (m2.group(0), m3.group(0))
            for n, addr in ((n2, "127.0.0.1:%d" % mport), (n3, "nosuchhost.invalid:%d" % mport)):
                lines = [ln for ln in n.lines() if addr in ln and "listening on" not in ln]
                assert len(lines) <= 3, "%s: %d lines about %s:\n%s" % (n.name, len(lines), addr,
                                                                       "\n".join(lines))
            dns = [ln for ln in n3.lines() if "nosuchhost" in ln]
            assert not any("refused" in ln.lower() for ln in dns), "\n".join(dns)
            # the master comes up: one line, and node 2 joins
            n1 = node(skiff, d, "n1", ["harbor = 1", 'address = "127.0.0.1:%d"' % harness.free_port(),
                                       'master = "127.0.0.1:%d"' % mport,
                                       'standalone = "127.0.0.1:%d"' % mport])
            n1.wait(r"DRAIN READY 1")
            n2.wait(r"harbor: reached %s again after (\d+) failed attempts in [\d.]+ s" % maddr,
                    timeout=20)
            n2.wait(r"DRAIN READY 2")
        except BaseException:
            for n in (n1, n2, n3):
                if n:
                    print("---- %s ----\n%s" % (n.name, n.text()[-4000:]))
            raise
        finally:
            for n in (n1, n2, n3):
                if n:
                    n.kill()


def run_listen(skiff):
    with tempfile.TemporaryDirectory(prefix="skiff-listen-") as d:
        harness.make_key(os.path.join(d, "cluster.key"))
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        bport = busy.getsockname()[1]
        baddr = re.escape("127.0.0.1:%d" % bport)
        cases = [
            ("harbor", ["harbor = 2", 'address = "127.0.0.1:%d"' % bport,
                        'master = "127.0.0.1:%d"' % harness.free_port()],
             r"harbor: cannot listen on %s \(address\): Address already in use" % baddr),
            ("master", ["harbor = 1", 'address = "127.0.0.1:%d"' % harness.free_port(),
                        'master = "127.0.0.1:%d"' % bport, 'standalone = "127.0.0.1:%d"' % bport],
             r"harbor master: cannot listen on %s: Address already in use" % baddr),
            ("gate", ['test_role = "drainer"', "test_cgate = %d" % bport,
                      "test_lgate = %d" % harness.free_port()],
             r"gate: cannot listen on %s: Address already in use" % baddr),
        ]
        try:
            for name, lines, rx in cases:
                n = node(skiff, d, name, lines)
                try:
                    n.wait(rx)
                finally:
                    n.kill()
        finally:
            busy.close()


def main(skiff, which):
    {"noise": run_noise, "listen": run_listen}[which](skiff)
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
