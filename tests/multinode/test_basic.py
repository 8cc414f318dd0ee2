#!/usr/bin/env python3
"""Three nodes: global names by name and by handle from every node to every
other, queryname blocking until a name appears, uniqueservice(true) giving one
service, DATACENTER across nodes, a message over harbor_max_message failing at
the sender, a bad harbor_listen refused (a good one is used by the soak's relay)."""
import sys
import mnlib


def main(skiff):
    with mnlib.Cluster(skiff, nodes=3, extra=["harbor_max_message = 2097152"]) as c:
        c.start(1, master=True, role="basic")
        # node 1 blocks in queryname("NODE2") until node 2 exists
        c.wait(1, r"MN READY 1")
        c.start(2, role="basic")
        c.start(3, role="basic")
        uniq = set()
        for i in (1, 2, 3):
            c.wait(i, r"MN CALLS OK %d" % i)
            c.wait(i, r"MN MAXMSG OK %d" % i)
            c.wait(i, r"harbor: message of 31457\d\d bytes to :\w+ from :\w+ is over harbor_max_message")
            m = c.wait(i, r"MN UNIQUE (:\w+) (\d+)")
            uniq.add((m.group(1), m.group(2)))
            c.wait(i, r"MN DATACENTER OK %d" % i)
            c.wait(i, r"MN BASIC OK %d" % i)
        assert len(uniq) == 1, "uniqueservice(true) gave several services: %r" % uniq
        assert list(uniq)[0][1] == "1", "the unique service must live on the master node"
        # a bad harbor_listen stops that node with one line naming the key
        n4 = c.start(4, role="basic", extra=['harbor_listen = "no-port"'], wait_ready=False)
        n4.proc.wait(timeout=10)
        assert n4.proc.returncode == 1, "exit status %s" % n4.proc.returncode
        assert "config key 'harbor_listen' must be host:port (got 'no-port')" in n4.text(), n4.text()
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
