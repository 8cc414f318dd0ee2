#!/usr/bin/env python3
"""Three named nodes calling each other; reload adds, downs and moves nodes."""
import clusterlib
from clusterlib import free_port


def main(cl):
    p = {n: free_port() for n in ("a", "b", "c", "d", "b2")}
    addr = {n: "127.0.0.1:%d" % v for n, v in p.items()}
    base = {n: addr[n] for n in ("a", "b", "c")}
    fbase = cl.node_file(base, {"nowaiting": False})
    servers = []
    for n in ("b", "c"):
        servers.append(cl.start(n, "cl_server", fbase))
    servers.append(cl.start("d", "cl_server", cl.node_file({"d": addr["d"]})))
    servers.append(cl.start("b", "cl_server", cl.node_file({"b": addr["b2"]}),
                            keys={"cl_tag": "b2"}))
    for s in servers:
        s.must("CLUSTER READY", 15)
    a = cl.start("a", "cl_t_three", fbase,
                 keys={"cl_d": addr["d"], "cl_c": addr["c"], "cl_b2": addr["b2"]})
    a.verdict(60)
    print("\n".join(l for l in a.text().splitlines() if "address change" in l))


clusterlib.run(main)
