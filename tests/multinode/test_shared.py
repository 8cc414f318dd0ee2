#!/usr/bin/env python3
"""Cluster-wide shared data over a harbor of three real nodes (mn_shared.lua):
  - an update made on one node (sharedata and sharetable) reaches the readers
    of every node, while three readers per node read all the time; no reader
    ever sees a mix of two versions, and a sharetable held from before an
    update stays whole at its old version;
  - an update made on another node supersedes it everywhere;
  - two nodes update at the same moment: all three end with the same one;
  - node 3 is killed and, at once, node 1 updates: nodes 1 and 2 get it;
    node 3 is restarted and its readers' first version is the new one;
  - a name created then deleted while node 3 is down is absent on node 3
    when it comes back (deletions travel too)."""
import os
import signal
import sys
import time
import mnlib

START = ['start = "mn_shared"']


def command(c, nid, line):
    with open(os.path.join(c.dir, "cmd%d" % nid), "a") as f:
        f.write(line + "\n")


def seen_everywhere(c, nodes, ver, after):
    for n in nodes:
        for r in (1, 2, 3):
            c.wait(n, r"MN SHARED SEEN node=%d reader=%d ver=%d\b" % (n, r, ver), timeout=20,
                   after=after.get(n, 0))
            c.wait(n, r"MN SHARETABLE SEEN node=%d reader=%d ver=%d\b" % (n, r, ver), timeout=20,
                   after=after.get(n, 0))


def probe(c, nid):
    m = c.mark(nid)
    command(c, nid, "probe")
    return c.wait(nid, r"MN SHARED PROBE node=%d (\w+)" % nid, after=m).group(1)


def which(c, nid):
    m = c.mark(nid)
    command(c, nid, "which")
    r = c.wait(nid, r"MN SHARED WHICH node=%d version=(\S+) ver=(\S+)" % nid, after=m)
    return r.group(1), r.group(2)


def marks(c, nodes):
    return {n: c.mark(n) for n in nodes}


def main(skiff):
    with mnlib.Cluster(skiff, nodes=3, extra=START) as c:
        c.start(1, master=True)
        c.start(2)
        c.start(3)

        m = marks(c, (1, 2, 3))
        command(c, 1, "update 1")
        seen_everywhere(c, (1, 2, 3), 1, m)
        print("version 1, made on node 1, seen by every reader of the three nodes")

        m = marks(c, (1, 2, 3))
        command(c, 2, "update 2")
        seen_everywhere(c, (1, 2, 3), 2, m)
        print("version 2, made on node 2, seen everywhere")

        # two nodes update at the same moment: every node ends with the same one
        command(c, 1, "update 10")
        command(c, 3, "update 11")
        c.wait(1, r"MN SHARED UPDATED node=1 ver=10")
        c.wait(3, r"MN SHARED UPDATED node=3 ver=11")
        deadline = time.time() + 10
        while True:
            held = [which(c, n) for n in (1, 2, 3)]
            if len(set(held)) == 1 and held[0][1] in ("10", "11"):
                break
            assert time.time() < deadline, "concurrent updates did not converge: %s" % held
            time.sleep(0.2)
        print("concurrent updates on nodes 1 and 3: every node keeps %s (version %s)"
              % (held[0][1], held[0][0]))

        command(c, 1, "new")
        c.wait(1, r"MN SHARED NEW node=1")
        deadline = time.time() + 10
        while probe(c, 3) != "present":
            assert time.time() < deadline, "the name made on node 1 never reached node 3"
            time.sleep(0.1)

        # node 3 dies; node 1 updates at once (before anyone saw it go)
        c.kill(3, signal.SIGKILL)
        m = marks(c, (1, 2))
        command(c, 1, "update 3")
        c.wait(1, r"MN SHARED UPDATED node=1 ver=3", after=m[1])
        seen_everywhere(c, (1, 2), 3, m)
        command(c, 2, "delete")
        c.wait(2, r"MN SHARED DELETED node=2")
        print("node 3 killed; version 3 (node 1) and a deletion (node 2) made meanwhile")

        os.remove(os.path.join(c.dir, "cmd3"))
        c.start(3)
        seen_everywhere(c, (3,), 3, {})
        text = c.nodes[3].text()
        stale = [l for l in text.splitlines() if "SEEN" in l and "ver=3" not in l]
        assert not stale, "node 3 handed out an old version after its restart:\n" + "\n".join(stale)
        assert probe(c, 3) == "absent", "the deletion made while node 3 was down did not reach it"
        print("node 3 restarted: its readers' first version is 3, the deleted name is gone")

        for n in (1, 2, 3):
            mix = [l for l in c.nodes[n].text().splitlines() if "SHARED MIX" in l]
            assert not mix, "node %d: a reader saw a mix:\n%s" % (n, "\n".join(mix))
        print("no reader saw a mix of two versions; held sharetables stayed whole")
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
