#!/usr/bin/env python3
"""30,000 idle unauthenticated connections (two flood clients of 15,000, from
2 and from 62 loopback source addresses) against a cluster node's port for
15 s, while another node calls it without pause with cluster_timeout = 3 s:
every call succeeds, the link stays up, and the flooded node's log stays
short (refusals and evictions are counted, "N more like this")."""
import json
import os
import re
import subprocess
import sys
import time

import clusterlib
from clusterlib import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
FLOOD = os.path.join(HERE, "..", "multinode", "flood_client.py")
SECONDS = 15


def steady(node):
    found = re.findall(r"CLSTEADY (\d+) (\d+)", node.text())
    assert found, "node a reports no calls"
    return int(found[-1][0]), int(found[-1][1])


def main(cl):
    port = free_port()
    f = cl.node_file({"b": "127.0.0.1:%d" % port})
    extra = ["cluster_timeout = 3"]
    b = cl.start("b", "cl_server", f, extra=extra)
    b.must("CLUSTER READY", 15)
    a = cl.start("a", "cl_t_steady", f, extra=extra)
    a.must(r"CLSTEADY [1-9]\d* 0", 15)
    before = len(b.lines())
    ok0, _ = steady(a)
    fl = [subprocess.Popen([sys.executable, FLOOD, "127.0.0.1", str(port), str(first), str(n),
                            "15000", str(SECONDS)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
          for first, n in ((2, 2), (4, 62))]
    samples = []
    t0 = time.time()
    while time.time() - t0 < SECONDS:
        time.sleep(2)
        samples.append(steady(a))
        assert b.proc.poll() is None, "node b died"
    res = []
    for p in fl:
        out = p.communicate(timeout=SECONDS + 30)[0].decode()
        assert p.returncode == 0, "flood client: " + out
        res.append(json.loads(out.strip().splitlines()[-1]))
    ok1, fail1 = steady(a)
    assert fail1 == 0, "calls failed during the flood:\n" + a.text()[-3000:]
    oks = [s[0] for s in samples]
    assert all(y > x for x, y in zip(oks, oks[1:])), "calls stalled during the flood: %s" % oks
    held = sum(r["peak"] for r in res)
    assert held >= 30000, "the flood held only %d connections: %s" % (held, res)
    log = b.lines()[before:]
    counts = [int(x) for l in log for x in re.findall(r": (\d+) more like this", l)]
    assert counts and sum(counts) > 1000, "no counted refusals:\n" + "\n".join(log[-40:])
    assert any("refused: its source already has" in l for l in log), "no per-source refusal"
    assert len(log) < 200, "node b wrote %d log lines during the flood" % len(log)
    dropped = [l for l in a.text().splitlines() + log if re.search(r"cluster: link (node|inbound .* from) .*closed", l)]
    assert not dropped, "a link closed during the flood:\n" + "\n".join(dropped)
    print("cluster flood: %d connections held at the peak, %d opened in %d s; node b logged %d "
          "lines (%d events counted in summaries); node a made %d calls meanwhile, 0 failed" %
          (held, sum(r["opened"] for r in res), SECONDS, len(log), sum(counts), ok1 - ok0))


if __name__ == "__main__":
    clusterlib.run(main)
