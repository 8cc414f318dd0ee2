#!/usr/bin/env python3
"""kill -9 and SIGSTOP of a node with calls pending: all fail within the
timeout; the node comes back: traffic resumes without a reload."""
import signal

import clusterlib
from clusterlib import free_port

TIMEOUT = 2


def main(cl):
    f = cl.node_file({"b": "127.0.0.1:%d" % free_port()})
    extra = ["cluster_timeout = %d" % TIMEOUT]
    b = cl.start("b", "cl_server", f, extra=extra)
    b.must("CLUSTER READY", 15)
    a = cl.start("a", "cl_t_fail", f, extra=extra)
    a.must("CLTEST STEP kill", 20)
    b.proc.kill()
    b.proc.wait()
    a.must("CLTEST STEP backkill|CLTEST FAIL", 20)
    b = cl.start("b", "cl_server", f, extra=extra)
    b.must("CLUSTER READY", 15)
    a.must("CLTEST STEP stop|CLTEST FAIL", 30)
    b.signal(signal.SIGSTOP)
    a.must("CLTEST STEP backstop|CLTEST FAIL", 20)
    b.signal(signal.SIGCONT)
    a.verdict(60)
    print("\n".join(l for l in a.text().splitlines() if "round" in l))


clusterlib.run(main)
