# Cluster-mode benchmarks for tests/bench/run.py: two nodes on 127.0.0.1 over a
# secure link.  One sequential caller measures the cluster.call round trip;
# then cluster.send one way (throughput counted until the last one is in).
import os
import re
import subprocess
import sys
import tempfile

_CL = os.path.join(ROOT, "tests", "cluster")


def _cluster_bench(calls, sends):
    def run(build):
        sys.path.insert(0, _CL)
        import clusterlib
        exe = os.path.join(build, "skiff")
        with tempfile.TemporaryDirectory(prefix="skiff-bench-cluster-") as tmp:
            cl = clusterlib.Cluster(exe, tmp)
            try:
                f = cl.node_file({"b": "127.0.0.1:%d" % clusterlib.free_port()})
                b = cl.start("b", "cl_server", f)
                b.must("CLUSTER READY", 15)
                a = cl.start("a", "cl_bench", f, keys={"cl_calls": calls, "cl_sends": sends})
                m1 = a.must(r"CLBENCH call \d+ ([\d.]+) us/call", 300)
                m2 = a.must(r"CLBENCH send \d+ (\d+) msgs/s", 300)
            finally:
                cl.stop()
        return {"us/call": float(m1.group(1)), "msgs/s": float(m2.group(1))}
    return run


BENCHES = [
    ("cluster.call round trip, 2 nodes (us/call)", _cluster_bench(20000, 200000), "us/call",
     _cluster_bench(500, 2000)),
    ("cluster.send one way, 2 nodes (msgs/s)", _cluster_bench(2000, 500000), "msgs/s",
     _cluster_bench(500, 2000)),
]
