#!/usr/bin/env python3
"""The cluster view and the link metrics on a three-node harbor cluster.

usage: test_cluster.py SKIFF

Three real nodes (node 1 runs the master), each with a console and a metrics
endpoint; node 1 calls a service on node 2 and one on node 3 in a loop.
Checks, from every node: the nodes (id, name, address, state, incarnation,
last heartbeat), the global names and where they live, the link traffic of
every node (`cluster`), the per-peer metrics moving while traffic flows, and
skiff-status.  Then node 3 is killed: the others show it down, calls to it
fail and are counted, and skiff-status exits 1.
"""
import re
import subprocess
import sys
import time

from obslib import STATUS_TOOL, Console, Group, check, scrape, value, wait_for


def main(skiff):
    with Group(skiff) as g:
        nodes = g.cluster(3, timeout=2)
        for n in nodes:
            n.started(timeout=30)
        addresses = {}
        for n in nodes:
            m = re.search(r'address = "([^"]+)"', open(n.conf).read())
            addresses[n.id] = m.group(1)

        c = Console(nodes[0].console)
        note = c.json("nodes").get("note")
        check(note is None, "the harbor service must answer the STATUS query: %s" % note)
        c.close()

        # -- nodes, from every node
        incarnations = {}
        for n in nodes:
            c = Console(n.console)

            def all_up():
                view = c.json("nodes")["nodes"]
                return view if len(view) == 3 and all(x["state"] == "up" for x in view) else None
            view = wait_for(all_up, "node %d sees 3 nodes up" % n.id)
            check([x["id"] for x in view] == [n.id] + [i for i in (1, 2, 3) if i != n.id],
                  "this node first, then peers by id: %r" % view)
            for x in view:
                check(x["address"] == addresses[x["id"]], "address of %d: %r" % (x["id"], x))
                check(re.match(r"^[0-9a-f]{16}$", x["incarnation"]), "incarnation: %r" % x)
                check(x["name"], "name: %r" % x)
                incarnations.setdefault(x["id"], set()).add(x["incarnation"])
                if x["id"] != n.id:
                    check(x["last_heartbeat"] is not None and 0 <= x["last_heartbeat"] < 2,
                          "last heartbeat within harbor_timeout: %r" % x)
                else:
                    check(x.get("self"), "self flag: %r" % x)
            text = c.cmd("nodes")
            check(len(text) == 4 and all("\tup\t" in l for l in text[1:]), "text nodes: %r" % text)
            c.close()
        check(all(len(v) == 1 for v in incarnations.values()),
              "every node reports the same incarnation of each node: %r" % incarnations)

        # -- global names and where they live
        c2 = Console(nodes[1].console)
        names = wait_for(lambda: (lambda ns: ns if all(("echo%d" % i) in ns for i in (1, 2, 3)) else None)(
            {x["name"]: x for x in c2.json("names")["names"]}), "names on node 2")
        for i in (1, 2, 3):
            check(names["echo%d" % i]["node"] == i, "echo%d lives on node %d: %r" % (i, i, names))
            check(int(names["echo%d" % i]["handle"][1:], 16) >> 24 == i, "handle of echo%d" % i)
            check(names["skiffcon%d" % i]["node"] == i, "console of node %d registered" % i)
        text = c2.cmd("names")
        check(any(l.startswith("echo3\t:03") and l.endswith("\t3") for l in text), "text names: %r" % text)

        # -- link metrics move while traffic flows
        a = scrape(nodes[0].metrics)
        time.sleep(1.0)
        b = scrape(nodes[0].metrics)
        check(value(b, "skiff_harbor_master_up") == 1, "master link up")
        check(value(b, "skiff_global_names") >= 6, "global names")
        for peer in ("2", "3"):
            check(value(b, "skiff_harbor_peer_up", peer=peer) == 1, "peer %s up" % peer)
            check(value(b, "skiff_harbor_peer_info", peer=peer, state="up") == 1, "peer info")
            for name in ("skiff_harbor_frames_sent_total", "skiff_harbor_sent_bytes_total",
                         "skiff_harbor_frames_received_total", "skiff_harbor_received_bytes_total"):
                va, vb = value(a, name, peer=peer), value(b, name, peer=peer)
                check(vb > va, "%s{peer=%s} moves: %s -> %s" % (name, peer, va, vb))
            check(value(b, "skiff_harbor_calls_failed_total", peer=peer) == 0, "no failed calls yet")
            check(value(b, "skiff_harbor_last_heard_seconds", peer=peer) < 2, "heard recently")
        # node 2 answers node 1; it sends nothing to node 3 but heartbeats
        b2 = scrape(nodes[1].metrics)
        check(value(b2, "skiff_harbor_frames_sent_total", peer="1") > 0, "node 2 answers node 1")

        # -- the whole cluster's links from node 3
        c3 = Console(nodes[2].console)
        cl = c3.json("cluster")
        check(cl["mode"] == "harbor" and cl["node"] == 3 and cl["master"]["state"] == "up", "cluster: %r" % cl)
        by_node = {e["node"]: e for e in cl["links"]}
        check(sorted(by_node) == [1, 2, 3], "links of every node: %r" % cl["links"])
        for nid, e in by_node.items():
            check("error" not in e, "links of node %d: %r" % (nid, e))
            check(sorted(l["peer"] for l in e["links"]) == sorted({1, 2, 3} - {nid}), "peers of %d" % nid)
        from1 = {l["peer"]: l for l in by_node[1]["links"]}
        check(from1[2]["frames_sent"] > 0 and from1[3]["bytes_sent"] > 0, "node 1's traffic seen from 3")
        text = c3.cmd("cluster")
        check("[links of node 1]" in text and "[links of node 2]" in text, "text cluster: %r" % text)

        r = subprocess.run([sys.executable, STATUS_TOOL, "127.0.0.1:%d" % nodes[1].console],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "skiff-status on a healthy cluster: %d %s %s" % (r.returncode, r.stdout, r.stderr))
        for i in (1, 2, 3):
            check(addresses[i] in r.stdout, "skiff-status shows node %d: %s" % (i, r.stdout))
        check("Links of node 3" in r.stdout and "echo2" in r.stdout, r.stdout)
        c3.close()

        # -- node 3 dies
        nodes[2].kill()
        c1 = Console(nodes[0].console)

        def three_down():
            view = {x["id"]: x for x in c1.json("nodes")["nodes"]}
            check(3 in view, "a node that died stays in the view: %r" % view)
            return view if view[3]["state"] == "down" else None
        view = wait_for(three_down, "node 1 sees node 3 down", timeout=10)
        check(view[2]["state"] == "up", "node 2 still up")
        wait_for(lambda: value(scrape(nodes[0].metrics), "skiff_harbor_calls_failed_total", peer="3") > 0,
                 "calls to node 3 fail and are counted", timeout=10)
        m = scrape(nodes[0].metrics)
        check(value(m, "skiff_harbor_peer_up", peer="3") == 0, "peer 3 down in metrics")
        check(value(m, "skiff_harbor_peer_up", peer="2") == 1, "peer 2 up in metrics")
        cl = c1.json("cluster")
        e3 = [e for e in cl["links"] if e["node"] == 3][0]
        check("error" in e3, "node 3's links are unknown once it is down: %r" % e3)
        r = subprocess.run([sys.executable, STATUS_TOOL, "127.0.0.1:%d" % nodes[0].console],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "down" in r.stdout, "skiff-status with a node down: %d %s" % (r.returncode, r.stdout))
        c1.close()
        c2.close()
    print("test_cluster: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
