#!/usr/bin/env python3
"""The health probes on the metrics port (issue 22): GET /alive and GET /ready.

usage: test_probes.py SKIFF

1. A single node whose start service waits for the test: /alive is 200 and
   /ready 503 ("starting") until it finishes, then /ready is 200.  A local
   `.shutdown` service (a stand-in for the drain service: "lua" state ->
   "running" | "draining") drives /ready: draining -> 503, running -> 200, no
   answer -> 503 within a second or so; without `.shutdown` the node counts as
   running.  A stopped process (SIGSTOP) does not answer /alive; SIGCONT brings
   it back.
2. Three harbor nodes; node 1 runs the master.  Every node is alive and ready.
   Node 1 is killed: nodes 2 and 3 log that the master link is lost, and their
   /alive (and /ready) stay 200 all along the outage.
Probes are plain http.client requests without a token.
"""
import http.client
import os
import signal
import sys
import time

from obslib import Console, Group, Node, check, wait_for


def probe(port, path, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def main(skiff):
    with Group(skiff) as g:
        lines = [l for l in g.base() if not l.startswith("start")]
        n = Node(g, 1, lines + ['start = "obs_slowstart"', "harbor = 0", 'metrics = "127.0.0.1:0"'])
        g.nodes[1] = n
        n.wait(r"OBS SLOW START")
        n.console = int(n.wait(r"Start debug console at 127\.0\.0\.1:(\d+)").group(1))
        port = int(n.wait(r"Start metrics at 127\.0\.0\.1:(\d+)").group(1))
        check(probe(port, "/alive") == (200, "alive\n"), "alive while the start service runs")
        status, body = probe(port, "/ready")
        check(status == 503 and "start service" in body, "not ready before the start service finished: %d %r" % (status, body))
        c = Console(n.console)
        c.cmd('call .slowstart "go"')
        n.wait(r"OBS READY 0")
        wait_for(lambda: probe(port, "/ready")[0] == 200, "ready once the start service finished")

        # the drain service decides while it exists
        c.cmd("start obs_shutdown")
        check(probe(port, "/ready") == (200, "ready\n"), "ready with .shutdown running")
        c.cmd('call .shutdown "set", "draining"')
        status, body = probe(port, "/ready")
        check(status == 503 and body == "draining\n", "draining -> 503: %d %r" % (status, body))
        check(probe(port, "/alive")[0] == 200, "a draining node is alive")
        c.cmd('call .shutdown "set", "silent"')
        t0 = time.monotonic()
        status, body = probe(port, "/ready")
        check(status == 503 and "did not say its state" in body, "silent .shutdown -> 503: %d %r" % (status, body))
        check(time.monotonic() - t0 < 4, "a silent .shutdown costs about a second, not more")
        c.cmd('call .shutdown "set", "running"')
        check(probe(port, "/ready")[0] == 200, "running again -> 200")
        c.close()

        # a process that does not run does not answer
        n.signal(signal.SIGSTOP)
        try:
            probe(port, "/alive", timeout=1)
            check(False, "a stopped node answered /alive")
        except (TimeoutError, OSError):
            pass
        n.signal(signal.SIGCONT)
        wait_for(lambda: probe(port, "/alive")[0] == 200, "alive again after SIGCONT")

    with Group(skiff) as g:
        nodes = g.cluster(3, timeout=2)
        for node in nodes:
            node.started(timeout=30)
        for node in nodes:
            wait_for(lambda: probe(node.metrics, "/ready")[0] == 200, "node %d ready" % node.id)
            check(probe(node.metrics, "/alive")[0] == 200, "node %d alive" % node.id)
        marks = {node.id: node.mark() for node in nodes[1:]}
        nodes[0].kill()  # the master goes with node 1
        seen_lost = set()
        deadline = time.monotonic() + 30
        # probe all along: until both survivors logged the loss, then 3 s more
        # (past harbor_timeout, when a dependence on the master would show)
        until = None
        while until is None or time.monotonic() < until:
            check(time.monotonic() < deadline, "the survivors did not notice the master outage")
            for node in nodes[1:]:
                for path in ("/alive", "/ready"):
                    status, body = probe(node.metrics, path)
                    check(status == 200, "node %d %s during the master outage: %d %r" % (node.id, path, status, body))
                if node.id not in seen_lost and node.search(r"harbor: master link lost", timeout=0.01,
                                                            after=marks[node.id]):
                    seen_lost.add(node.id)
            if until is None and len(seen_lost) == 2:
                until = time.monotonic() + 3
            time.sleep(0.1)
    print("test_probes: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
