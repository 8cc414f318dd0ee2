#!/usr/bin/env python3
"""Multicast across three nodes: a channel owned by
node 2; two subscribers on every node; publishers on the owner and on the
non-owner nodes (each publisher's messages arrive in order, with the publisher
as source, at every subscriber); unsubscribing (node 1 leaves the channel: the
owner forgets it; other nodes keep their remaining subscriber); deleting the
channel from a non-owner node (the owner and the subscribing node forget it,
later publishes go nowhere, subscribing fails); a PTYPE_MULTICAST message sent
to another node is dropped by the harbor (package pointers never cross); a
subscribing node frozen (SIGSTOP) until declared down joins the channel again
once it is back."""
import signal
import sys
import mnlib

TIMEOUT = 2  # harbor_timeout, seconds


def main(skiff):
    with mnlib.Cluster(skiff, timeout=TIMEOUT, nodes=3) as c:
        extra = ['test_owner = "2"']
        c.start(1, master=True, role="mcast", extra=extra)
        c.start(2, role="mcast", extra=extra)
        c.start(3, role="mcast", extra=extra)
        for step in ("PUBLISH", "UNSUBSCRIBE", "DELETE"):
            for i in (1, 2, 3):
                c.wait(i, r"MN MC %s OK %d" % (step, i), timeout=20)
            print("multicast: %s ok on 3 nodes" % step.lower())
        for i in (1, 2, 3):
            c.wait(i, r"MN MC DONE %d" % i)
            # node i sent PTYPE_MULTICAST to node i % 3 + 1
            c.wait(i, r"harbor: refused a type 2 message from :%02x\w+ to another node: "
                      r"PTYPE_MULTICAST carries a pointer into the sending process" % i)
        print("multicast: PTYPE_MULTICAST refused at the node boundary")
        # a subscribing node frozen past harbor_timeout joins again when back
        c.wait(3, r"MN MC SUB2 READY")
        m2 = c.mark(2)
        c.kill(3, signal.SIGSTOP)
        c.wait(2, r"harbor: node 3 \(\S+\) is down", after=m2, timeout=TIMEOUT + 5)
        c.kill(3, signal.SIGCONT)
        c.wait(3, r"MN MC REJOIN OK", timeout=20)
        c.wait(2, r"MN MC REJOIN PUB DONE", timeout=5)
        print("multicast: a subscribing node rejoined the channel after a freeze")
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
