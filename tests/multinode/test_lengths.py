#!/usr/bin/env python3
"""A man in the middle flips one bit of a record length on a live link.

Node 3 calls NODE2 continuously; its link to node 2 runs through a relay here
that parses the record stream from node 3 (handshake records: 5-byte header;
sealed records: length, type and an 8-byte header tag) and, on demand, flips
bit 20 of the next sealed record's length (+1 MiB).  Without an authenticated
length node 2 would wait for a megabyte that never comes while node 3's later
records, swallowed as that body, kept the link looking alive, and the calls
hung.  Here node 2 must close the link on that header at once (well within
harbor_timeout), the calls in flight fail rather than hang, node 3 links again
through the relay and its calls succeed again.  Done twice."""
import re
import socket
import sys
import threading
import time
import mnlib

TIMEOUT = 2


def shut_both(*socks):
    """Ends both directions of each socket (one side of the proxy is done)."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FlipRelay:
    """Forwards every connection to target_port; flip() corrupts the length of
    the next sealed record from the dialer (the link initiator)."""

    def __init__(self, target_port):
        self.target = target_port
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.lock = threading.Lock()
        self.want_flip = False
        self.flipped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def flip(self):
        with self.lock:
            self.want_flip = True

    def _accept(self):
        while True:
            try:
                a, _ = self.ls.accept()
            except OSError:
                return
            try:
                b = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                a.close()
                continue
            threading.Thread(target=self._up, args=(a, b), daemon=True).start()
            threading.Thread(target=self._copy, args=(b, a), daemon=True).start()

    def _copy(self, src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass
        shut_both(src, dst)

    def _up(self, src, dst):
        """Initiator -> responder, parsed record by record."""
        records = 0      # records whose header was seen
        hdr = bytearray()
        body_left = 0
        try:
            while True:
                d = bytearray(src.recv(65536))
                if not d:
                    break
                i = 0
                while i < len(d):
                    if body_left:
                        k = min(body_left, len(d) - i)
                        body_left -= k
                        i += k
                        continue
                    hlen = 5 if records < 2 else 13   # HELLO and AUTH are in clear
                    k = min(hlen - len(hdr), len(d) - i)
                    if not hdr:
                        start = i
                    hdr += d[i:i + k]
                    i += k
                    if len(hdr) < hlen:
                        continue
                    body_left = int.from_bytes(hdr[:4], "big")
                    if records >= 2:
                        with self.lock:
                            if self.want_flip and start + 1 < len(d) and start >= 0:
                                d[start + 1] ^= 0x10
                                self.want_flip = False
                                self.flipped += 1
                    records += 1
                    hdr = bytearray()
                    start = -1
                dst.sendall(bytes(d))
        except OSError:
            pass
        shut_both(src, dst)


def main(skiff):
    with mnlib.Cluster(skiff, timeout=TIMEOUT, nodes=3) as c:
        c.start(1, master=True)
        relay = FlipRelay(c.node(2).port)
        c.start(2, extra=['harbor_listen = "%s"' % c.node(2).address,
                          'address = "127.0.0.1:%d"' % relay.port])
        c.start(3, role="traffic", extra=['test_target = "2"'])
        c.wait(3, r"MN TRAFFIC [1-9]\d* 0")
        for round_ in (1, 2):
            m2, m3 = c.mark(2), c.mark(3)
            t0 = time.time()
            relay.flip()
            c.wait(2, r"harbor: link to node 3 \(127\.0\.0\.1:\d+\) closed: record \d+: header "
                      r"failed authentication", after=m2, timeout=TIMEOUT)
            reset = time.time() - t0
            assert relay.flipped == round_, relay.flipped
            # node 3 learns of it (its link ends) and dials again through the relay
            c.wait(3, r"harbor: node 2 \(\S+\) is down", after=m3, timeout=TIMEOUT + 1)
            m3b = c.mark(3)
            last = int(re.findall(r"MN TRAFFIC (\d+) \d+", c.nodes[3].text())[-1])
            c.wait(3, r"MN TRAFFIC (%s) \d+" % "|".join(str(last + k) for k in range(10, 2000)),
                   after=m3b, timeout=10)
            print("round %d: node 2 reset the link %.0f ms after the flip; calls resumed"
                  % (round_, reset * 1000))
        # calls failed only around the two resets, and none hung: the traffic
        # loop kept reporting, and every failure was reported as a failure
        fails = int(re.findall(r"MN TRAFFIC \d+ (\d+)", c.nodes[3].text())[-1])
        print("calls failed around the resets: %d" % fails)
        assert c.nodes[2].proc.poll() is None and c.nodes[3].proc.poll() is None
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
