#!/usr/bin/env python3
"""The failure matrix (docs/decisions.md, "Harbor"):
  - kill -9 a node with 100 calls pending to it: all fail within harbor_timeout;
  - restart it with the same id: it rejoins (new incarnation);
  - SIGSTOP a node: declared down after harbor_timeout; after SIGCONT it rejoins;
  - kill -9 the master during traffic between two other nodes: the traffic never
    stops; a restarted master rebuilds the name table from the nodes."""
import re
import signal
import sys
import time
import mnlib

TIMEOUT = 2  # harbor_timeout, seconds


def traffic(c, nid, after):
    """(ok, fail) of the last TRAFFIC line after offset `after`."""
    last = None
    for m in re.finditer(r"MN TRAFFIC (\d+) (\d+)", c.nodes[nid].text()[after:]):
        last = m
    return (int(last.group(1)), int(last.group(2))) if last else None


def node_loss(skiff):
    with mnlib.Cluster(skiff, timeout=TIMEOUT) as c:
        c.start(1, master=True)
        c.start(3)
        c.start(4, role="rejoin", extra=['test_target = "3"'])
        c.wait(4, r"MN REJOINED 3")
        c.start(2, role="pend", extra=['test_target = "3"'])
        c.wait(2, r"MN PENDING 100")
        # kill -9 with 100 calls pending
        m4 = c.mark(4)
        c.kill(3)
        m = c.wait(2, r"MN FAILED (\d+) (\d+) ms", timeout=TIMEOUT + 3)
        assert m.group(1) == "100", "only %s of 100 pending calls failed" % m.group(1)
        assert int(m.group(2)) <= TIMEOUT * 1000, "calls failed after %s ms" % m.group(2)
        c.wait(4, r"MN DOWN 3", after=m4)
        print("kill -9: 100 pending calls failed in %s ms" % m.group(2))
        st = c.wait(2, r"MN STATS (peer id=3 .*)")
        assert re.search(r" state=(down|unknown) ", st.group(1)) and " calls_failed=100 " in st.group(1), st.group(1)
        print("STATS after kill -9: %s" % st.group(1))
        # restart with the same id
        m4 = c.mark(4)
        t0 = time.time()
        c.start(3)
        c.wait(4, r"MN REJOINED 3", after=m4, timeout=10)
        print("restart: node 3 rejoined in %.2f s" % (time.time() - t0))
        # SIGSTOP: declared down after harbor_timeout, rejoins after SIGCONT
        m4 = c.mark(4)
        t0 = time.time()
        c.kill(3, signal.SIGSTOP)
        c.wait(4, r"MN DOWN 3", after=m4, timeout=TIMEOUT + 5)
        dt = time.time() - t0
        assert dt >= TIMEOUT * 0.8, "declared down too early (%.2f s)" % dt
        print("SIGSTOP: node 3 declared down after %.2f s" % dt)
        m4 = c.mark(4)
        c.kill(3, signal.SIGCONT)
        c.wait(4, r"MN REJOINED 3", after=m4, timeout=15)
        print("SIGCONT: node 3 rejoined")
        # the good nodes kept serving each other
        c.start(5, role="rejoin", extra=['test_target = "4"'])
        c.wait(5, r"MN REJOINED 4")


def master_loss(skiff):
    with mnlib.Cluster(skiff, timeout=TIMEOUT) as c:
        c.start(1, master=True)
        c.start(3)
        c.start(2, role="traffic", extra=['test_target = "3"'])
        c.wait(2, r"MN TRAFFIC [1-9]\d* 0")
        c.kill(1)
        m2 = c.mark(2)
        c.wait(2, r"master link lost", after=0)
        time.sleep(TIMEOUT + 1)  # longer than harbor_timeout: nothing may time out
        t1 = traffic(c, 2, m2)
        time.sleep(0.6)
        t2 = traffic(c, 2, m2)
        assert t1 and t2 and t2[0] > t1[0], "traffic stopped without the master: %r %r" % (t1, t2)
        assert t2[1] == 0, "calls failed while the master was away: %r" % (t2,)
        print("master down: traffic continued (%d -> %d calls)" % (t1[0], t2[0]))
        # a restarted master learns NODE3 again from node 3's announce
        c.start(1, master=True, role="rejoin", extra=['test_target = "3"'])
        c.wait(1, r"MN REJOINED 3", timeout=15)
        t3 = traffic(c, 2, c.mark(2) - 200)
        time.sleep(0.5)
        t4 = traffic(c, 2, 0)
        assert t4[1] == 0 and t4[0] > t2[0]
        print("master restarted: names re-registered, traffic %d calls, 0 failed" % t4[0])


def graceful_stop(skiff):
    with mnlib.Cluster(skiff, timeout=10) as c:  # long timeout: "down" must come from CLOSE
        c.start(1, master=True)
        c.start(3)
        c.start(2, role="rejoin", extra=['test_target = "3"'])
        c.wait(2, r"MN REJOINED 3")
        m2 = c.mark(2)
        t0 = time.time()
        c.kill(3, signal.SIGTERM)
        assert c.nodes[3].proc.returncode == 0, "SIGTERM exit status %s" % c.nodes[3].proc.returncode
        c.wait(2, r"MN DOWN 3", after=m2, timeout=5)
        dt = time.time() - t0
        closed = c.wait(2, r"link to node 3 \(.*\) closed: (.*)", after=m2)
        assert "node stopping" in closed.group(1), closed.group(0)
        assert "truncated" not in c.nodes[2].text()[m2:], "peer saw a truncated stream"
        print("SIGTERM: node 3 declared down after %.2f s (%s)" % (dt, closed.group(0)))


if __name__ == "__main__":
    graceful_stop(sys.argv[1])
    node_loss(sys.argv[1])
    master_loss(sys.argv[1])
    print("PASS")
