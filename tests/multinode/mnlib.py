"""Start real skiff nodes of a harbor cluster on 127.0.0.1 and watch their logs.

    with Cluster(skiff) as c:
        c.start(1, master=True, role="basic")
        c.wait(1, r"MN READY 1")
        ...
Ports are picked free at run time; every node shares one key file made with
`skiff --genkey`.  Every wait has a timeout; every node is killed at the end.
"""
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402
from harness import free_port  # noqa: E402,F401  (soak and the tests use mnlib.free_port)


class Node:
    """Node `id` of the cluster: its port stays across restarts; each run is a
    harness.Node logging to its own file (nodeN.runK.log)."""

    def __init__(self, cluster, nid):
        self.c = cluster
        self.id = nid
        self.port = free_port()
        self.run = None
        self.runs = 0

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    @property
    def proc(self):
        return self.run.proc if self.run else None

    @property
    def log(self):
        return self.run.log if self.run else None

    def text(self):
        return self.run.text()


class Cluster:
    def __init__(self, skiff, timeout=2, nodes=3, extra=()):
        self.skiff = os.path.abspath(skiff)
        self.tmp = tempfile.TemporaryDirectory(prefix="skiff-mn-")
        self.dir = self.tmp.name
        self.key = os.path.join(self.dir, "cluster.key")
        subprocess.run([self.skiff, "--genkey", self.key], check=True)
        self.master_port = free_port()
        self.timeout = timeout
        self.nnodes = nodes
        self.extra = list(extra)
        self.nodes = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for n in self.nodes.values():
            if n.run:
                n.run.kill()
        if exc[0] is not None:
            self.dump()
        self.tmp.cleanup()

    def dump(self):
        for n in self.nodes.values():
            if n.log and os.path.exists(n.log):
                print("---- node %d log (%s) ----" % (n.id, n.log))
                print(n.text()[-6000:])

    def node(self, nid):
        if nid not in self.nodes:
            self.nodes[nid] = Node(self, nid)
        return self.nodes[nid]

    def config(self, n, master, role, extra):
        lines = [
            "thread = 2",
            "harbor = %d" % n.id,
            'address = "%s"' % n.address,
            'master = "127.0.0.1:%d"' % self.master_port,
            'cluster_key = "%s"' % self.key,
            "harbor_timeout = %s" % self.timeout,
            'start = "mn_node"',
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'test_role = "%s"' % role,
            "test_nodes = %d" % self.nnodes,
        ]
        if master:
            lines.append('standalone = "127.0.0.1:%d"' % self.master_port)
        lines += self.extra + list(extra)
        path = os.path.join(self.dir, "node%d.conf" % n.id)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, nid, master=False, role="idle", extra=(), wait_ready=True):
        n = self.node(nid)
        cfg = self.config(n, master, role, extra)
        n.runs += 1
        n.run = harness.Node(self.skiff, cfg, cwd=self.dir, name=str(nid),
                             log=os.path.join(self.dir, "node%d.run%d.log" % (nid, n.runs)))
        if wait_ready:
            self.wait(nid, r"MN READY %d" % nid)
        return n

    def wait(self, nid, rx, timeout=15, after=0):
        """Waits until regex rx appears in node nid's current log (from offset
        `after`); returns the match."""
        return self.nodes[nid].run.wait(rx, timeout, after)

    def mark(self, nid):
        return self.nodes[nid].run.mark()

    def kill(self, nid, sig=signal.SIGKILL):
        n = self.nodes[nid]
        n.proc.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            n.proc.wait(timeout=10)
