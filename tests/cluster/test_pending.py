#!/usr/bin/env python3
"""cluster_max_pending: the receiver bounds the bytes of unfinished messages
it holds per link; a sender with the same bound stays within it."""
import clusterlib
from clusterlib import free_port

MiB = 1024 * 1024


def main(cl):
    f = cl.node_file({"b": "127.0.0.1:%d" % free_port()})
    # max_pending is never below max_message, so both are lowered
    small = ["cluster_max_pending = %d" % (8 * MiB), "cluster_max_message = %d" % (8 * MiB)]
    b = cl.start("b", "cl_server", f, extra=small)
    b.must("CLUSTER READY", 15)
    a = cl.start("a", "cl_t_pending", f, keys={"cl_expect": "ok"}, extra=small)
    a.verdict(60)
    a2 = cl.start("a2", "cl_t_pending", f, keys={"cl_expect": "refused"})
    a2.verdict(60)
    if "peer exceeded cluster_max_pending" not in b.text():
        raise AssertionError("b did not log the refusal:\n" + b.text())


clusterlib.run(main)
