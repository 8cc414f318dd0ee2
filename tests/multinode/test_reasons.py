#!/usr/bin/env python3
"""Call failure reasons in harbor mode (issue 22), on three named nodes
(harbor_name master, game1, game2) plus a late fourth (game3):
  - node 3 (game2) holds the global name LOBBY; node 2 calls it until node 3 is
    killed (kill -9);
  - the next call by name fails at once (not after harbor_name_timeout) and
    its error says "name LOBBY was on node 3 (game2), which is down"; a call
    by handle says "node 3 (game2) is down";
  - node 2's STATS, nodestatus and metrics count those failures for peer 3 and
    show the labels; logs name the nodes by label;
  - node 4, which never resolved LOBBY2 (also on node 3), asks for it after
    node 3 left: the master answers that it is reserved for node 3, and the
    call fails at once with the same kind of reason."""
import re
import sys
import time
import mnlib

TIMEOUT = 2        # harbor_timeout, seconds
NAME_TIMEOUT = 10  # harbor_name_timeout: what a call by name used to wait


def main(skiff):
    names = {1: "master", 2: "game1", 3: "game2", 4: "game3"}

    def label(nid):
        return ['harbor_name = "%s"' % names[nid], "harbor_name_timeout = %d" % NAME_TIMEOUT]

    with mnlib.Cluster(skiff, timeout=TIMEOUT) as c:
        c.start(1, master=True, extra=label(1))
        c.start(3, extra=label(3) + ['test_register = "LOBBY LOBBY2"'])
        c.start(2, role="reasons", extra=label(2) + ['test_target = "3"', 'test_name = "LOBBY"'])
        c.wait(2, r"MN NAMED LOBBY")
        c.wait(1, r"harbor master: node 3 \(game2\) joined")
        c.wait(3, r"harbor: node 3 \(game2, incarnation")

        m1 = c.mark(1)
        t0 = time.time()
        c.kill(3)
        first = c.wait(2, r"MN FIRST (.*)", timeout=TIMEOUT + 3)
        byname = c.wait(2, r"MN BYNAME (\w+) (\d+) ms (.*)", timeout=TIMEOUT + 3)
        dt = time.time() - t0
        assert byname.group(1) == "FAILED", byname.group(0)
        assert "call failed: name LOBBY was on node 3 (game2), which is down" in byname.group(3), \
            byname.group(0)
        assert int(byname.group(2)) < 500, "a call by name took %s ms to fail" % byname.group(2)
        assert dt < TIMEOUT + 1, "the call by name failed %.2f s after the kill" % dt
        print("kill -9 of game2: %s" % first.group(1))
        print("next call by name failed %.2f s after the kill, in %s ms: %s" %
              (dt, byname.group(2), byname.group(3)))
        byhandle = c.wait(2, r"MN BYHANDLE (\w+) (\d+) ms (.*)")
        assert byhandle.group(1) == "FAILED" and \
            "call failed: node 3 (game2) is down" in byhandle.group(3), byhandle.group(0)
        print("call by handle: %s" % byhandle.group(3))

        self_line = c.wait(2, r"MN SELF (.*)")
        assert self_line.group(1) == "name=game1", self_line.group(0)
        st = c.wait(2, r"MN STATS (peer id=3 .*)").group(1)
        failed = int(re.search(r" calls_failed=(\d+)", st).group(1))
        # the call by name, the call by handle, and the first failure
        assert failed >= 3, "calls_failed for node 3 is %d: %s" % (failed, st)
        assert st.endswith(" name=game2"), st
        print("STATS: %s" % st)
        c.wait(2, r"MN NODESTATUS 2 game1 up")
        ns = c.wait(2, r"MN NODESTATUS 3 game2 (down|unknown) (\d+)")
        assert int(ns.group(2)) == failed, ns.group(0)
        metric = c.wait(2, r'MN METRIC skiff_harbor_calls_failed_total\{peer="3"\} (\d+)')
        assert int(metric.group(1)) == failed, metric.group(0)
        c.wait(2, r'MN METRIC skiff_harbor_peer_info\{.*name="game2".*')
        print("metric: %s" % metric.group(0)[len("MN METRIC "):])

        # logs say the labels
        c.wait(2, r"harbor: node 3 \(game2\) is down")
        c.wait(1, r"harbor master: node 3 \(game2\) left", after=m1)

        # a node that never resolved the name: the master says whose it was
        c.start(4, role="reasons_late", extra=label(4) + ['test_target = "3"', 'test_name = "LOBBY2"'])
        late = c.wait(4, r"MN BYNAME (\w+) (\d+) ms (.*)", timeout=TIMEOUT + 3)
        assert late.group(1) == "FAILED" and \
            "call failed: name LOBBY2 was on node 3 (game2), which is down" in late.group(3), \
            late.group(0)
        assert int(late.group(2)) < 1000, "took %s ms" % late.group(2)
        st4 = c.wait(4, r"MN STATS (peer id=3 .*)").group(1)
        assert " calls_failed=1 " in st4 and st4.endswith(" name=game2"), st4
        print("late node: in %s ms: %s" % (late.group(2), late.group(3)))

        # node 3 comes back: the name resolves again
        c.start(3, extra=label(3) + ['test_register = "LOBBY LOBBY2"'])
        c.wait(4, r"MN RESOLVED OK", timeout=15)
        print("game2 restarted: LOBBY2 resolves again")

    # a bad label is refused at start, naming the key
    with mnlib.Cluster(skiff, nodes=1, extra=['harbor_name = "game 1"']) as c:
        n = c.start(1, master=True, wait_ready=False)
        n.proc.wait(timeout=10)
        assert n.proc.returncode == 1, n.proc.returncode
        assert "config key 'harbor_name' must be 1..31 characters of A-Z a-z 0-9 _ . - " \
            "(got 'game 1')" in n.text(), n.text()
    print("harbor_name = \"game 1\": refused at start")
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
