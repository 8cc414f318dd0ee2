# Harbor benchmarks (picked up by tests/bench/run.py): two real nodes on
# 127.0.0.1 with encrypted links; node 2 runs tests/multinode/mn_bench.lua
# against node 1.  Also the raw loopback TCP round trip of two blocking threads
# (tests/bench/tcp_rtt.c) so the harbor figures can be read as a ratio.
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(ROOT, "tests", "multinode"))
import mnlib  # noqa: E402


def _raw_tcp(build, count):
    """Mean raw loopback TCP round trip per size (two blocking threads)."""
    r = {}
    for size in (64, 1024):
        out = subprocess.run([os.path.join(build, "tests", "multinode", "tcp_rtt"), str(count),
                              str(size)], stdout=subprocess.PIPE, timeout=120).stdout.decode()
        r[size] = float(re.search(r"TCP RTT \d+ \d+ rtt/s mean ([\d.]+) us", out).group(1))
    return r


def _harbor(calls, msgs, raw_count):
    def run(build):
        # the floor of this very run: the machine's load changes between runs
        raw = _raw_tcp(build, raw_count)
        with mnlib.Cluster(os.path.join(build, "skiff"), timeout=5, nodes=2) as c:
            c.start(1, master=True)
            n = c.start(2, extra=['start = "mn_bench"', "bench_calls = %d" % calls,
                                  "bench_msgs = %d" % msgs], wait_ready=False)
            c.wait(2, r"HBENCH DONE", timeout=600)
            text = n.text()
        r = {}
        for m in re.finditer(r"HBENCH RTT (\d+) (\d+) calls/s mean ([\d.]+) us p99 ([\d.]+) us", text):
            s = m.group(1)
            r["call %sB calls/s" % s] = float(m.group(2))
            r["call %sB mean us" % s] = float(m.group(3))
            r["call %sB p99 us" % s] = float(m.group(4))
            r["call %sB / raw TCP x" % s] = float(m.group(3)) / raw[int(s)]
            r["raw TCP %sB same run us" % s] = raw[int(s)]
        for m in re.finditer(r"HBENCH ONEWAY (\d+) (\d+) msgs/s", text):
            r["send %sB msgs/s" % m.group(1)] = float(m.group(2))
        if not r:
            raise RuntimeError("no result in output:\n" + text)
        return r
    return run


def _tcp(count):
    def run(build):
        r = {}
        for size in (64, 1024):
            out = subprocess.run([os.path.join(build, "tests", "multinode", "tcp_rtt"), str(count),
                                  str(size)], stdout=subprocess.PIPE, timeout=120).stdout.decode()
            m = re.search(r"TCP RTT \d+ (\d+) rtt/s mean ([\d.]+) us", out)
            r["%dB rtt/s" % size] = float(m.group(1))
            r["%dB mean us" % size] = float(m.group(2))
        return r
    return run


BENCHES = [
    ("harbor 2 nodes", _harbor(20000, 200000, 20000), "*", _harbor(500, 2000, 500)),
    ("raw loopback TCP (2 blocking threads)", _tcp(100000), "*", _tcp(2000)),
]
