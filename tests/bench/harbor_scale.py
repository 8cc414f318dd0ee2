#!/usr/bin/env python3
"""The cost of a harbor mesh as it grows (issue 21).  Not part of any suite:

    python3 tests/bench/harbor_scale.py [--build build] [--timeout 5] [--set K=V] N [N ...]

For each N, starts N real nodes on 127.0.0.1 (node 1 hosts the master), each
with thread = 1 and worker_spin = 0, every node running the `scale` role of
tests/multinode/mn_node.lua: it waits until it has a link to every other node,
then calls every node by global name at once.  Printed per N:
  join        seconds from the first start until every node has its N-1 links
  all-to-all  seconds from the last node's full mesh until every node had all
              N answers (the slowest node's own call phase in brackets)
  idle CPU    per node, % of one core, mean and max, from utime+stime in
              /proc/<pid>/stat over 10 s once the mesh is quiet; and what the
              harbor services alone did meanwhile (profile = true): messages
              dispatched per second and callback CPU µs per second, mean over
              nodes (node 1's master included)
  false downs "node N (label) is down", "master link lost" and "harbor
              master: node N left" lines logged while no node was stopped
and a detail line: how long starting the N processes took, when half and 90 %
of the nodes had their mesh, the CPU all nodes used until the last mesh (node
1, which hosts the master and is dialed by all, apart), and RSS per idle node.
--set KEY=VALUE adds a config line to every node (to try a setting at scale).
A node that exits at start (a port picked free was taken meanwhile) ends the
run with its log.
Figures are printed, never asserted (the machine is shared; see
docs/performance.md for how to read them)."""
import argparse
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "multinode"))
import mnlib  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS   # utime, stime


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def count(c, rx):
    pat = re.compile(rx, re.M)
    return sum(len(pat.findall(n.text())) for n in c.nodes.values())


def wait_all(c, rx, timeout):
    """Waits until every node logged rx; returns {id: match}."""
    pat = re.compile(rx, re.M)
    found = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(c.nodes):
        for nid, n in c.nodes.items():
            if nid not in found:
                m = pat.search(n.text())
                if m:
                    found[nid] = (m, time.monotonic())
                elif n.proc.poll() is not None:
                    raise RuntimeError("node %d exited:\n%s" % (nid, n.text()[-3000:]))
        if time.monotonic() > deadline:
            missing = sorted(set(c.nodes) - set(found))
            errors = [line for nid in missing for line in c.nodes[nid].text().splitlines()
                      if " ERROR " in line]
            raise RuntimeError("no /%s/ from nodes %s within %d s; their first errors:\n%s\n"
                               "node %d's log ends:\n%s" %
                               (rx, missing[:20], timeout, "\n".join(errors[:10]), missing[0],
                                c.nodes[missing[0]].text()[-3000:]))
        time.sleep(0.2)
    return found


def quiet_ports(count):
    """count distinct free ports below the kernel's ephemeral range: N nodes
    dial N*(N-1)/2 links, and a listen port picked inside that range can be
    taken by one of those dials before its node binds it."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    ports, p = [], max(1024, low - 20000)
    while len(ports) < count and p < low:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            ports.append(p)
        except OSError:
            pass
        finally:
            s.close()
        p += 1
    if len(ports) < count:
        sys.exit("not enough free ports below %d" % low)
    return ports


def run(skiff, n, timeout, settings):
    extra = ["thread = 1", "worker_spin = 0", "profile = true"] + settings
    with mnlib.Cluster(skiff, timeout=timeout, nodes=n, extra=extra) as c:
        ports = quiet_ports(n + 1)
        c.master_port = ports[0]
        for nid in range(1, n + 1):
            c.node(nid).port = ports[nid]
        t0 = time.monotonic()
        c.start(1, master=True, role="scale", wait_ready=False)
        for nid in range(2, n + 1):
            c.start(nid, role="scale", wait_ready=False)
        t_started = time.monotonic()
        mesh = wait_all(c, r"MN MESH (\d+) ms", 120 + n)
        t_mesh = max(t for _, t in mesh.values())
        join_cpus = {nid: cpu_seconds(node.proc.pid) for nid, node in c.nodes.items()}
        join_cpu = sum(join_cpus.values())
        others = sorted(v for k, v in join_cpus.items() if k != 1)
        joined = sorted(t - t0 for _, t in mesh.values())
        done = wait_all(c, r"MN ALLTOALL (\d+) ms (\d+) failed", 120 + n)
        t_done = max(t for _, t in done.values())
        failed = sum(int(m.group(2)) for m, _ in done.values())
        slowest = max(int(m.group(1)) for m, _ in done.values())
        time.sleep(3)
        pids = {nid: node.proc.pid for nid, node in c.nodes.items()}
        before = {nid: cpu_seconds(pid) for nid, pid in pids.items()}
        w0 = time.monotonic()
        time.sleep(10)
        after = {nid: cpu_seconds(pid) for nid, pid in pids.items()}
        wall = time.monotonic() - w0
        usage = sorted(100 * (after[k] - before[k]) / wall for k in pids)
        rss = sorted(rss_kib(pid) for pid in pids.values())
        idle = wait_all(c, r"MN HARBOR IDLE ([\d.]+) msgs/s (\d+) us/s", 60)
        hmsgs = sum(float(m.group(1)) for m, _ in idle.values()) / n
        hcpu = sum(float(m.group(2)) for m, _ in idle.values()) / n
        # a node declared down, or a lost master link; not the duplicate links
        # closed during the join ("already live", "superseded")
        down_rx = r"\) is down \(|master link lost|harbor master: node \d+ .* left"
        downs = count(c, down_rx)
        shown = 0
        for nid, node in sorted(c.nodes.items()):
            for line in node.text().splitlines():
                if shown < 5 and re.search(down_rx, line):
                    print("  false down on node %d: %s" % (nid, line[:200]))
                    shown += 1
        print("N=%d join %.2f s; all-to-all %.2f s (slowest node %d ms, %d calls failed); "
              "idle CPU per node mean %.2f%% max %.2f%% (all nodes %.1f%% of one core); "
              "harbor alone %.1f msgs/s, %.0f us/s per node; false downs %d" %
              (n, t_mesh - t0, t_done - t_mesh, slowest, failed, sum(usage) / len(usage),
               usage[-1], sum(usage), hmsgs, hcpu, downs))
        print("  join detail: all started after %.2f s; half the nodes had their mesh at %.2f s, "
              "90%% at %.2f s; CPU used by all nodes until the last mesh %.1f s (%.0f%% of %d cores; node 1, the master's host, %.1f s, "
              "the others %.2f s median, %.2f s max); "
              "RSS per idle node mean %.1f MiB, max %.1f MiB" %
              (t_started - t0, joined[len(joined) // 2], joined[len(joined) * 9 // 10], join_cpu,
               100 * join_cpu / ((t_mesh - t0) * os.cpu_count()), os.cpu_count(),
               join_cpus[1], others[len(others) // 2], others[-1], sum(rss) / len(rss) / 1024, rss[-1] / 1024))
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--timeout", type=float, default=5, help="harbor_timeout, seconds")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="one more config line for every node (repeatable)")
    ap.add_argument("n", type=int, nargs="+")
    a = ap.parse_args()
    for n in a.n:
        if n < 2 or n > 255:
            sys.exit("N must be 2..255")
        run(os.path.join(a.build, "skiff"), n, a.timeout,
            ["%s = %s" % tuple(kv.split("=", 1)) for kv in a.set])


if __name__ == "__main__":
    main()
