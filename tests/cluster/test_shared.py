#!/usr/bin/env python3
"""Cluster-wide shared data in cluster mode: three named nodes a, b, c run
tests/multinode/mn_shared.lua (three busy readers each, sharedata and
sharetable):
  - an update on a, then one on b, reach every reader of every node, whole;
  - c is killed and a updates at once, b deletes a name: a and b get both;
  - c is restarted: its readers' first version is the latest, the deleted
    name is absent there; no reader anywhere saw a mix of two versions."""
import os
import time

import clusterlib
import harness
from clusterlib import free_port

MULTINODE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "multinode")
NAMES = ("a", "b", "c")


def main(cl):
    addr = {n: "127.0.0.1:%d" % free_port() for n in NAMES}
    nodes_file = cl.node_file(addr)
    extra = ['luaservice = luaservice .. ";%s/?.lua"' % MULTINODE,
             'test_cmddir = "%s"' % cl.tmp, "cluster_timeout = 2"]
    node = {}

    def start(n):
        node[n] = cl.start(n, "mn_shared", nodes_file, extra=extra)
        node[n].must(r"MN READY %s" % n, 20)

    def command(n, line):
        with open(os.path.join(cl.tmp, "cmd" + n), "a") as f:
            f.write(line + "\n")

    def seen(names, ver, after):
        for n in names:
            for r in (1, 2, 3):
                for what in ("SHARED", "SHARETABLE"):
                    rx = r"MN %s SEEN node=%s reader=%d ver=%d\b" % (what, n, r, ver)
                    harness.Node.wait(node[n], rx, 20, after.get(n, 0))

    def probe(n):
        m = node[n].mark()
        command(n, "probe")
        return harness.Node.wait(node[n], r"MN SHARED PROBE node=%s (\w+)" % n, 15, m).group(1)

    for n in NAMES:
        start(n)
    command("a", "update 1")
    seen(NAMES, 1, {})
    print("version 1, made on a, seen by every reader of a, b and c")
    command("b", "update 2")
    seen(NAMES, 2, {})
    print("version 2, made on b, seen everywhere")
    command("a", "new")
    deadline = time.time() + 10
    while probe("c") != "present":
        assert time.time() < deadline, "the name made on a never reached c"
        time.sleep(0.1)

    node["c"].proc.kill()
    node["c"].proc.wait()
    command("a", "update 3")
    seen(("a", "b"), 3, {})
    command("b", "delete")
    node["b"].must(r"MN SHARED DELETED node=b", 10)
    print("c killed; version 3 (a) and a deletion (b) made meanwhile")

    os.remove(os.path.join(cl.tmp, "cmdc"))
    start("c")
    seen(("c",), 3, {})
    stale = [l for l in node["c"].text().splitlines() if "SEEN" in l and "ver=3" not in l]
    assert not stale, "c handed out an old version after its restart:\n" + "\n".join(stale)
    assert probe("c") == "absent", "the deletion made while c was down did not reach it"
    print("c restarted: its readers' first version is 3, the deleted name is gone")
    for n in NAMES:
        mix = [l for l in node[n].text().splitlines() if "SHARED MIX" in l]
        assert not mix, "%s: a reader saw a mix:\n%s" % (n, "\n".join(mix))
    print("no reader saw a mix of two versions; held sharetables stayed whole")


clusterlib.run(main)
