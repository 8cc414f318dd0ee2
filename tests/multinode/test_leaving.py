#!/usr/bin/env python3
"""A draining node tells its peers it is leaving (harbor/harbor_leave.c).

Three real nodes; node 1 runs the master and a debug console and calls
NODE3 every 100 ms.  Node 3 gets SIGTERM; its one shutdown hook sleeps 2 s.
During the drain node 1's console (`json nodes`) shows node 3 "leaving", and
node 1's calls to NODE3 keep working (answered "draining" by node 3).  Node 3
exits 0; node 1 and node 2 log "node 3 (...) left", never "is down", node 1's
console shows it "left", and node 1's next call fails at once saying node 3
left the cluster.

Then a hostile node that holds the key (hattack node, id 9) says node 2 is
leaving, on its peer link to node 1 and on its master link: both refuse it (a
node speaks only for itself), and node 2 stays "up" everywhere.  Its own
NodeLeaving is accepted, relayed by the master to node 2 (which has no link
to it), and its exit is reported as "left".
"""
import os
import re
import signal
import subprocess
import sys
import time

import mnlib

sys.path.insert(0, os.path.join(os.path.dirname(mnlib.HERE), "obs"))
from obslib import Console, wait_for  # noqa: E402

TIMEOUT = 2


def node_state(console, nid):
    for n in console.json("nodes")["nodes"]:
        if n["id"] == nid:
            return n["state"]
    return None


def drain(c, con):
    m1, m2 = c.mark(1), c.mark(2)
    c.wait(1, r"MN LEAVECALL ok 3 running")
    assert node_state(con, 3) == "up"
    c.nodes[3].run.signal(signal.SIGTERM)
    c.wait(3, r"MN LEAVE HOOK begins SIGTERM leaving")
    t_drain = time.monotonic()
    # node 1 sees node 3 leaving, in its console's JSON, while the hook sleeps
    wait_for(lambda: node_state(con, 3) == "leaving", "node 1's console shows node 3 leaving",
             timeout=2)
    t_seen = time.monotonic() - t_drain
    assert t_seen < 2, "node 3 leaving seen only after its hook"
    c.wait(1, r"harbor: node 3 \(\S+\) is leaving \(it drains: SIGTERM\)", after=m1)
    c.wait(2, r"harbor: node 3 \(\S+\) is leaving \(it drains: SIGTERM\)", after=m2)
    # a call made during the drain is served by node 3
    mc = c.mark(1)
    c.wait(1, r"MN LEAVESTATE 3 leaving", after=m1)
    c.wait(1, r"MN LEAVECALL ok 3 draining", after=mc)
    assert c.nodes[3].proc.poll() is None, "node 3 stopped before the call during its drain"
    c.wait(3, r"MN LEAVE HOOK done", timeout=5)
    rc = c.nodes[3].proc.wait(timeout=10)
    assert rc == 0, "node 3 exited with %s" % rc
    # peers report it left, not down
    c.wait(1, r"harbor: node 3 \(\S+\) left \(it drained: SIGTERM; ", after=m1)
    c.wait(2, r"harbor: node 3 \(\S+\) left \(it drained: SIGTERM; ", after=m2)
    c.wait(1, r"harbor master: node 3 \(\S+\) left: it drained \(SIGTERM\)", after=m1)
    for nid in (1, 2):
        text = c.nodes[nid].text()
        assert not re.search(r"node 3 \(\S+\) is down", text), "node %d said node 3 is down" % nid
    wait_for(lambda: node_state(con, 3) == "left", "node 1's console shows node 3 left", timeout=3)
    c.wait(1, r"MN LEAVESTATE 3 left", after=m1)
    # a call after it left fails at once, saying why
    m = c.wait(1, r"MN LEAVECALL fail ([\d.]+)ms (.*)", after=c.mark(1))
    assert float(m.group(1)) < 50, "the call took %s ms to fail" % m.group(1)
    assert re.search(r"node 3 \(\S+\),? (which )?left the cluster \(it drained: SIGTERM\)", m.group(2)), m.group(0)
    print("drain: node 1 saw node 3 leaving %.2fs into its 2 s hook; call during the drain served; "
          "after exit: left, call failed in %s ms: %s" % (t_seen, m.group(1), m.group(2)))


def hostile(c, hattack, con):
    steps = os.path.join(c.dir, "steps-leaving.txt")
    with open(steps, "w") as f:
        f.write("wait 300\nleaving 2\nmleaving 2\nwait 500\nleaving self\nmleaving self\nwait 1500\n")
    m1, m2 = c.mark(1), c.mark(2)
    p = subprocess.Popen([hattack, "node", "127.0.0.1", str(c.master_port), c.key,
                          str(c.nodes[1].port), "9", steps],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        c.wait(1, r"harbor: refused a NodeLeaving from node 9 \(127\.0\.0\.1:\d+\): a node can only "
                  r"say that it itself is leaving \(it named node 2, ", after=m1)
        c.wait(1, r"harbor master: refused NodeLeaving for node 2 \(incarnation 0+\) from node 9 "
                  r"\(127\.0\.0\.1:\d+\): a node can only say that it itself is leaving", after=m1)
        # node 9's own leaving: node 1 heard it on the link, node 2 from the master
        c.wait(1, r"harbor: node 9 \(\S+\) is leaving \(it drains: hattack\)", after=m1)
        c.wait(2, r"harbor: node 9 \(\S+\) is leaving \(it drains: hattack\)", after=m2)
        assert node_state(con, 2) == "up", "a forged NodeLeaving moved node 2"
        for nid in (1, 2):
            assert not re.search(r"node 2 \(\S+\) is leaving", c.nodes[nid].text()), nid
        out = p.communicate(timeout=30)[0].decode()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print(out)
    assert "LINKED" in out, out
    assert "PEER EOF" not in out, "node 1 closed the hostile link instead of refusing the frame"
    c.wait(1, r"harbor: node 9 \(\S+\) left \(it drained: hattack; ", after=m1)
    c.wait(2, r"harbor: node 9 \(\S+\) left \(it drained: hattack; ", after=m2)
    assert c.nodes[2].proc.poll() is None and c.nodes[1].proc.poll() is None
    print("hostile: NodeLeaving for node 2 refused on the peer and master links; node 9's own "
          "accepted, relayed to node 2, and its exit reported as left")


def main(skiff, hattack):
    with mnlib.Cluster(skiff, timeout=TIMEOUT) as c:
        token_file, token = mnlib.harness.make_token(os.path.join(c.dir, "console.token"))
        console = ['console = "127.0.0.1:0"', 'console_token = "%s"' % token_file]
        c.start(1, master=True, role="leavecall", extra=console + ['test_target = "3"'])
        port = int(c.wait(1, r"Start debug console at 127\.0\.0\.1:(\d+)").group(1))
        c.start(2)
        c.start(3, role="leaver")
        c.wait(3, r"MN LEAVER READY")
        con = Console(port, token=token)
        try:
            drain(c, con)
            hostile(c, hattack, con)
        finally:
            con.close()
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
