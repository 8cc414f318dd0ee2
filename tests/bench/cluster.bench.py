# Cluster-mode benchmarks for tests/bench/run.py: two nodes on 127.0.0.1 over a
# secure link.  One sequential caller measures the cluster.call round trip;
# then cluster.send one way (throughput counted until the last one is in).
import os
import re
import subprocess
import sys
import tempfile

_CL = os.path.join(ROOT, "tests", "cluster")


def _raw_tcp_us(build, count):
    """Mean raw loopback TCP round trip (64 B, two blocking threads), measured
    right before the nodes start so the ratio compares like with like."""
    out = subprocess.run([os.path.join(build, "tests", "multinode", "tcp_rtt"), str(count), "64"],
                         stdout=subprocess.PIPE, timeout=120).stdout.decode()
    return float(re.search(r"mean ([\d.]+) us", out).group(1))


def _cluster_bench(calls, sends, raw_count):
    def run(build):
        sys.path.insert(0, _CL)
        import clusterlib
        exe = os.path.join(build, "skiff")
        raw = _raw_tcp_us(build, raw_count)
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
        call = float(m1.group(1))
        return {"call us/call": call, "send msgs/s": float(m2.group(1)),
                "raw TCP 64B same run us": raw, "call / raw TCP x": call / raw}
    return run


BENCHES = [
    ("cluster 2 nodes", _cluster_bench(20000, 500000, 20000), "*", _cluster_bench(500, 2000, 500)),
]
