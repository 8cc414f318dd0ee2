#!/usr/bin/env python3
"""64 MiB request and reply; small messages interleaved with large ones."""
import clusterlib
from clusterlib import free_port


def main(cl):
    f = cl.node_file({"b": "127.0.0.1:%d" % free_port()})
    b = cl.start("b", "cl_server", f)
    b.must("CLUSTER READY", 15)
    a = cl.start("a", "cl_t_large", f)
    a.verdict(150)
    print("\n".join(l for l in a.text().splitlines() if "MiB" in l))


clusterlib.run(main)
