#!/usr/bin/env python3
"""A peer that is up but sheds our dials is waited for, within limits.

Node 1 (the master's host) admits one unauthenticated connection per source
address (preauth_per_source = 1), and this test keeps that one slot taken by
an idle TCP connection from 127.0.0.1, reopened as soon as node 1 closes it.
Every dial node 2 makes to node 1's harbor port is then accepted by the
kernel and closed by node 1 at once: node 1 is alive, only "busy", as the
master's host is when a few hundred nodes dial it at the same moment.

1. Node 2 starts while the slot is held; its start service calls node 1
   (service_mgr), so that call waits in the CONNECTING queue.  The slot is
   held for 2.5 x harbor_timeout, then released: node 2 must not fail the
   call at harbor_timeout ("no link to node 1"), and must start once node 1
   takes its dial.
2. Node 3 starts while the slot is held for good: its queued call must fail,
   but only after several harbor_timeouts (the patience is 4 of them), with
   the reason naming node 1."""
import re
import socket
import sys
import threading
import time
import mnlib

TIMEOUT = 2  # harbor_timeout, seconds


class SlotHolder(threading.Thread):
    """Keeps one idle connection open to 127.0.0.1:port, reopening it when node 1 closes it."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.opened = 0

    def run(self):
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=1)
            except OSError:
                time.sleep(0.01)
                continue
            self.opened += 1
            s.settimeout(0.05)
            while not self.stop.is_set():
                try:
                    if s.recv(64) == b"":
                        break  # node 1 closed it (its handshake deadline): take the slot again
                except socket.timeout:
                    continue
                except OSError:
                    break
            s.close()


def hold_slot(c):
    """Starts a SlotHolder on node 1's harbor port once it holds the slot."""
    holder = SlotHolder(c.nodes[1].port)
    holder.start()
    deadline = time.monotonic() + 10
    while holder.opened == 0:
        assert time.monotonic() < deadline, "could not connect to node 1's harbor port"
        time.sleep(0.05)
    time.sleep(0.2)
    return holder


def refusals(c):
    return len(re.findall(r"refused: its source already has 1 connections awaiting "
                          r"authentication", c.nodes[1].text()))


def main(skiff):
    with mnlib.Cluster(skiff, timeout=TIMEOUT, nodes=3) as c:
        c.start(1, master=True, extra=["preauth_per_source = 1"])
        holder = hold_slot(c)

        # 1. held for 2.5 harbor_timeouts, then released
        t0 = time.monotonic()
        c.start(2, wait_ready=False)
        time.sleep(2.5 * TIMEOUT)
        assert refusals(c) > 0, "node 1 shed no dial: the test did not hold its slot\n" + \
            c.nodes[1].text()[-3000:]
        text2 = c.nodes[2].text()
        assert "MN READY 2" not in text2, \
            "node 2 linked to node 1 while its pre-auth slot was held:\n" + text2[-3000:]
        holder.stop.set()
        holder.join(5)
        c.wait(2, r"MN READY 2", timeout=20)
        waited = time.monotonic() - t0
        text2 = c.nodes[2].text()
        bad = [l for l in text2.splitlines() if re.search(r"no link to node 1|init service failed", l)]
        assert not bad, "node 2 gave up on node 1, which was up and only busy:\n" + "\n".join(bad)
        print("node 2 waited %.1f s (harbor_timeout %d s) for a busy node 1, then started; "
              "node 1 refused %d+ dials" % (waited, TIMEOUT, refusals(c)))

        # 2. held for good: the wait ends, later than harbor_timeout
        holder = hold_slot(c)
        t0 = time.monotonic()
        c.start(3, wait_ready=False)
        m = c.wait(3, r"no link to node 1 \(node1\) within harbor_timeout.*", timeout=60)
        gave_up = time.monotonic() - t0
        holder.stop.set()
        assert gave_up >= 2.5 * TIMEOUT, \
            "node 3 gave up on a busy node 1 after %.1f s, as if it were silent" % gave_up
        print("node 3 gave up on a node 1 that shed every dial after %.1f s: %s" %
              (gave_up, m.group(0)))
    print("busy peer: OK")


if __name__ == "__main__":
    main(sys.argv[1])
