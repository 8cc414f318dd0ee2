#!/usr/bin/env python3
"""The gates' memory caps and back-pressure (issue 16, finding 7), on a real node.

usage: test_gate_caps.py SKIFF

One node runs lua/gatecaps.lua: the C gate (L headers; gate_max_buffer = 48 MiB
from the config, send_limit = 4 MiB as an open parameter) and the Lua gate
(send_limit 4 MiB in its open conf).  While a legitimate client keeps pinging
both gates (every answer within 2 s):
 1. 80 clients each announce a 16 MiB - 1 packet on the C gate and send 4 MiB
    of it (320 MiB if all were kept): the gate closes the biggest holders past
    48 MiB with a log line, the node's RSS grows by far less than 320 MiB.
 2. a client asks the C gate's watchdog for an endless push and never reads:
    closed past send_limit, the push stops, RSS stays bounded.
 3. the same on the Lua gate.
 4. a client sends requests to the Lua gate and does not read its answers for
    a while: the gate pauses reading it (log), nothing is closed, and once it
    reads it gets every answer (nothing lost) and the gate resumes it (log).
"""
import os
import re
import socket
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

MiB = 1 << 20


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def start_node(skiff, tmp):
    cfg = harness.write_config(os.path.join(tmp, "config"), [
        "thread = 2", "harbor = 0", 'start = "gatecaps"',
        'luaservice = luaservice .. ";%s/lua/?.lua"' % HERE,
        'lua_path = lua_path .. ";%s/?.lua"' % harness.TESTS_DIR,
        "gate_max_buffer = %d" % (48 * MiB),
    ])
    return harness.Node(skiff, cfg, cwd=tmp, log=os.path.join(tmp, "node.log"), name="gatecaps")


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        check(chunk, "closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


class Pinger(threading.Thread):
    """The legitimate client: one ping on each gate every 100 ms, each answered within 2 s."""

    def __init__(self, cport, lport):
        super().__init__(daemon=True)
        self.cport, self.lport = cport, lport
        self.stop = threading.Event()
        self.count = 0
        self.error = None

    def run(self):
        try:
            c = socket.create_connection(("127.0.0.1", self.cport), timeout=2)
            lg = socket.create_connection(("127.0.0.1", self.lport), timeout=2)
            while not self.stop.is_set():
                word = b"ping%d" % self.count
                c.sendall(struct.pack(">I", len(word)) + word)
                check(recv_exact(c, 4 + len(word)) == struct.pack(">I", len(word)) + word, "C gate echo")
                lg.sendall(struct.pack(">H", len(word)) + word)
                check(recv_exact(lg, 2 + len(word)) == struct.pack(">H", len(word)) + word, "Lua gate echo")
                self.count += 1
                time.sleep(0.1)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e


def slow_reader(port):
    """A connection whose receive buffer is small, so the queue builds on the node's side."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.settimeout(20)
    s.connect(("127.0.0.1", port))
    return s


def main(skiff):
    asan = harness.is_sanitized(skiff)
    with tempfile.TemporaryDirectory(prefix="skiff-gatecaps-") as tmp:
        node = start_node(skiff, tmp)
        try:
            lport = int(node.wait(r"GATECAPS READY (\d+)").group(1))
            cport = int(node.wait(r"gate: listen on 127\.0\.0\.1:(\d+)").group(1))
            time.sleep(0.3)
            base = rss_mib(node.proc.pid)
            pinger = Pinger(cport, lport)
            pinger.start()

            # 1. unfinished 16 MiB packets on 80 connections
            body = b"u" * (4 * MiB)
            socks, errors = [], []

            def hog(i):
                s = socket.create_connection(("127.0.0.1", cport), timeout=20)
                socks.append(s)
                try:
                    s.sendall(struct.pack(">I", 16 * MiB - 1) + body)
                except OSError as e:
                    errors.append(e)  # the gate closed this one: expected for most

            threads = [threading.Thread(target=hog, args=(i,)) for i in range(80)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            time.sleep(1.0)
            peak = rss_mib(node.proc.pid)
            closed = len(re.findall(r"over max_buffer 50331648; it held the most", node.text()))
            print("80 unfinished 16 MiB packets: RSS %.0f -> %.0f MiB, %d connections closed by the cap"
                  % (base, peak, closed))
            check(closed >= 40, "the gate closed the biggest holders: %d" % closed)
            if not asan:
                check(peak - base < 120, "RSS grew by %.0f MiB (320 MiB were sent)" % (peak - base))
            check(pinger.error is None and pinger.is_alive(), "pings during the flood: %r" % pinger.error)
            for s in socks:
                s.close()

            # 2. the C gate: a client that never reads an endless push
            s = slow_reader(cport)
            s.sendall(struct.pack(">I", 5) + b"flood")
            node.wait(r"gate: connection \d+ \(\S+\) closed: \d+ KiB queued for a client that does not read, "
                      r"over send_limit \(4194304 bytes\)")
            n = int(node.wait(r"GATECAPS flood c stopped after (\d+)").group(1))
            check(n < 512, "the C gate push stopped when the client was closed (%d chunks)" % n)
            s.close()

            # 3. the Lua gate: the same
            s = slow_reader(lport)
            s.sendall(struct.pack(">H", 5) + b"flood")
            node.wait(r"gate: fd \d+ closed: \d+ KiB queued for a client that does not read, over send_limit \(4194304 bytes\)")
            n = int(node.wait(r"GATECAPS flood lua stopped after (\d+)").group(1))
            check(n < 512, "the Lua gate push stopped when the client was closed (%d chunks)" % n)
            s.close()
            after = rss_mib(node.proc.pid)
            print("after two endless pushes to non-readers: RSS %.0f MiB (each would have queued 128 MiB)" % after)
            if not asan:
                check(after - base < 150, "RSS grew by %.0f MiB" % (after - base))

            # 4. the Lua gate pauses a client that does not read its answers, then resumes it
            mark = node.mark()
            s = slow_reader(lport)
            requests = 24
            for _ in range(requests):
                s.sendall(struct.pack(">H", 5) + b"reply")
                time.sleep(0.02)
            m = node.wait(r"gate: fd (\d+) paused: \d+ KiB queued for a client that does not read", after=mark)
            fd = m.group(1)
            time.sleep(0.5)
            check(not re.search(r"gate: fd %s closed" % fd, node.text()[mark:]), "a paused client is not closed")
            got = 0
            want = requests * 256 * 1024
            while got < want:
                chunk = s.recv(1 << 20)
                check(chunk, "the paused client was closed after %d of %d bytes" % (got, want))
                got += len(chunk)
            check(got == want, "every answer arrived: %d of %d bytes" % (got, want))
            node.wait(r"gate: fd %s resumed: its send queue drained" % fd, after=mark)
            s.close()

            pinger.stop.set()
            pinger.join(5)
            check(pinger.error is None, "pings: %r" % pinger.error)
            check(pinger.count > 10, "pings answered throughout: %d" % pinger.count)
            check(node.proc.poll() is None, "node still running")
            check(harness.sanitizer_report(node.text()) is None, "sanitizer report in the log")
            check(not re.search(r"Segmentation|SOCKTEST FAIL", node.text()), "crash text in the log")
        except Exception:
            print(node.text()[-6000:])
            raise
        finally:
            node.kill()
    print("test_gate_caps: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1])))
