#!/usr/bin/env python3
"""Graceful drain (skynet.shutdown, services/shutdownd.lua) on real nodes.

Two harbor nodes: node 1 (master) holds the global SINK; node 2 runs a C gate
and a Lua gate and registers shutdown hooks.  Run "hooks": SIGTERM to node 2:
`.shutdown` says "draining", both gates refuse new connections while clients
already connected still get answers, the "save" hook (released by one of those
clients) calls SINK on node 1, the "slow" hook is cut at shutdown_timeout with
its log line, the raising hook is logged, node 2 exits 0, and node 1 hears of
it at once (sealed CLOSE), not after harbor_timeout.  Run "console": a single
node drained with the console's `shutdown` command, default timeout, exit 0.
"""
import os
import re
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def packet(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def recv_packet(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise AssertionError("connection closed while reading a packet")
            buf += chunk
        return buf
    (n,) = struct.unpack(">H", exact(2))
    return exact(n).decode()


def ask(sock, msg):
    sock.sendall(packet(msg))
    return recv_packet(sock)


def client(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def wait_refused(port, timeout=10):
    """Waits until a connect to port is refused; the time it took."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except ConnectionRefusedError:
            return time.monotonic() - t0
        s.close()
        time.sleep(0.05)
    raise AssertionError("port %d still accepts connections after %ss of draining" % (port, timeout))


def base_config(d, name, extra):
    return harness.write_config(os.path.join(d, name + ".conf"), [
        "thread = 2",
        'start = "drain_node"',
        'luaservice = luaservice .. ";%s/?.lua"' % HERE,
    ] + extra)


def run_hooks(skiff):
    with tempfile.TemporaryDirectory(prefix="skiff-drain-") as d:
        key = harness.make_key(os.path.join(d, "cluster.key"))
        master = harness.free_port()
        harbor_timeout = 30   # a peer that waited for it would be seen
        common = ['cluster_key = "%s"' % key, 'master = "127.0.0.1:%d"' % master,
                  "harbor_timeout = %d" % harbor_timeout]
        c1 = base_config(d, "node1", common + [
            "harbor = 1", 'address = "127.0.0.1:%d"' % harness.free_port(),
            'standalone = "127.0.0.1:%d"' % master, 'test_role = "keeper"'])
        cport, lport = harness.free_port(), harness.free_port()
        c2 = base_config(d, "node2", common + [
            "harbor = 2", 'address = "127.0.0.1:%d"' % harness.free_port(),
            'test_role = "drainer"', "test_cgate = %d" % cport, "test_lgate = %d" % lport,
            "test_slow = true", "test_raise = true", "shutdown_timeout = 3"])
        n1 = harness.Node(skiff, c1, cwd=d, log=os.path.join(d, "node1.log"), name="node1")
        n2 = None
        try:
            n1.wait(r"DRAIN READY 1")
            n2 = harness.Node(skiff, c2, cwd=d, log=os.path.join(d, "node2.log"), name="node2")
            n2.wait(r"DRAIN STATE running")
            n2.wait(r"DRAIN READY 2")
            # one client on each gate, connected before the drain
            cc, lc = client(cport), client(lport)
            assert ask(cc, "ping") == "pong running"
            assert ask(lc, "ping") == "pong running"

            n2.signal(15)
            n2.wait(r"SIGTERM received, draining")
            n2.wait(r"shutdown: draining \(SIGTERM\): 2 gate\(s\) closed, 3 hook\(s\) to run, "
                    r"shutdown_timeout 3s")
            n2.wait(r"DRAIN HOOK save begins SIGTERM draining")
            n2.wait(r"DRAIN HOOK slow begins")
            n2.wait(r"shutdown: hook 'raise' of :\w+ raised: .*hook raised on purpose")
            # gates refuse newcomers while draining ...
            wait_refused(cport)
            wait_refused(lport)
            # ... and the clients already in still get answers
            assert ask(cc, "ping") == "pong draining"
            assert ask(lc, "ping") == "pong draining"
            assert ask(lc, "release") == "released"
            # the save hook calls another node
            n1.wait(r"DRAIN SAVED players from 2")
            n2.wait(r"DRAIN HOOK save done true")
            # the slow hook is cut at shutdown_timeout, one line for it
            n2.wait(r"shutdown: hook 'slow' of :\w+ still running after shutdown_timeout 3s; "
                    r"stopping without it", timeout=10)
            n2.wait(r"shutdown: drained in [\d.]+s \(2 of 3 hooks finished\); stopping")
            rc = n2.proc.wait(timeout=15)
            t_exit = time.monotonic()
            assert rc == 0, "node 2 exited with %s" % rc
            text = n2.text()
            assert text.count("still running after shutdown_timeout") == 1, text
            assert "hook 'save' of" not in "".join(
                ln for ln in text.splitlines() if "still running" in ln), "the save hook finished"
            # node 1 hears of the leave at once, not after harbor_timeout, and
            # reports it as a node that left (it said it was leaving), not down
            n1.wait(r"harbor: node 2 \(\S+\) is leaving \(it drains: SIGTERM\)")
            n1.wait(r"harbor: node 2 \(\S+\) left \(it drained: SIGTERM; ", timeout=harbor_timeout / 3)
            assert not re.search(r"node 2 \(\S+\) is down", n1.text()), "node 1 said node 2 is down"
            assert time.monotonic() - t_exit < harbor_timeout / 3
            for line in text.splitlines():
                assert "lua call" not in line and "traceback" not in line.lower() \
                    or "hook raised on purpose" in text, line
            if os.environ.get("OPS_DUMP"):
                print(text)
            cc.close()
            lc.close()
        except BaseException:
            for n in (n1, n2):
                if n:
                    print("---- %s ----\n%s" % (n.name, n.text()[-6000:]))
            raise
        finally:
            for n in (n1, n2):
                if n:
                    n.kill()


def run_console(skiff):
    with tempfile.TemporaryDirectory(prefix="skiff-drain-") as d:
        tok_path, token = harness.make_token(os.path.join(d, "console.token"))
        cport = harness.free_port()
        cfg = base_config(d, "single", [
            'test_role = "keeper"', 'console = "127.0.0.1:%d"' % cport,
            'console_token = "%s"' % tok_path])
        n = harness.Node(skiff, cfg, cwd=d, name="single")
        try:
            n.wait(r"DRAIN READY 0")
            n.wait(r"Start debug console")
            s = socket.create_connection(("127.0.0.1", cport), timeout=10)
            s.sendall(("auth %s\nshutdown rolling upgrade\n" % token).encode())
            n.wait(r"shutdown: draining \(rolling upgrade\): 0 gate\(s\) closed, 0 hook\(s\) to run, "
                   r"shutdown_timeout 10s")
            n.wait(r"shutdown: drained in [\d.]+s \(0 of 0 hooks finished\); stopping")
            rc = n.proc.wait(timeout=15)
            assert rc == 0, "exit status %s" % rc
            s.close()
        except BaseException:
            print(n.text()[-6000:])
            raise
        finally:
            n.kill()


def main(skiff, which):
    {"hooks": run_hooks, "console": run_console}[which](skiff)
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
