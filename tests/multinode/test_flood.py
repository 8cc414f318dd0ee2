#!/usr/bin/env python3
"""100,000 messages of mixed sizes (1 B .. 1 MiB) between two services on two
nodes, 50,000 each way at the same time: all must arrive, in order, intact."""
import sys
import mnlib

PER_SIDE = 50000


def main(skiff):
    with mnlib.Cluster(skiff, timeout=5, nodes=2) as c:
        extra = ["test_flood = %d" % PER_SIDE]
        # node 1 waits (queryname) for NODE2, then both flood each other at once
        c.start(1, master=True, role="flood", extra=extra + ['test_target = "2"'])
        c.start(2, role="flood", extra=extra + ['test_target = "1"'])
        r = []
        for a, b in ((1, 2), (2, 1)):
            m = c.wait(a, r"MN FLOOD RECV (OK \d+ (\d+) ms|BAD .*)", timeout=90)
            assert m.group(1).startswith("OK"), "node %d: %s" % (a, m.group(0))
            r.append("node %d received %d messages from node %d in %s ms" % (a, PER_SIDE, b, m.group(2)))
        for line in r:
            print(line)
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
