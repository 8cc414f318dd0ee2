"""Helpers for cluster-mode tests: real skiff nodes on 127.0.0.1.

A Cluster owns a temp dir with the key file and per-node configs; nodes are
started with a `start` service from this folder and read their role from
config keys (cl_*).  Every wait has a deadline; stop() kills what is left.
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402
from harness import free_port  # noqa: E402,F401  (the cluster tests import it from here)


class Node(harness.Node):
    """A cluster node; wait() returns None on a miss, must() raises."""

    def __init__(self, name, exe, config):
        super().__init__(exe, config, name=name)

    def wait(self, regex, timeout, start=0):
        return self.search(regex, timeout, start)

    def must(self, regex, timeout, what=None):
        return harness.Node.wait(self, regex, timeout, what=what)

    def verdict(self, timeout):
        """Waits for the driver's CLTEST line; raises unless it is a PASS."""
        m = self.must(r"CLTEST (PASS|FAIL)|start service failed", timeout)
        if m.group(1) != "PASS":
            raise AssertionError("node %s failed:\n%s" % (self.name, self.text()))


class Cluster:
    def __init__(self, exe, tmp):
        self.exe = exe
        self.tmp = tmp
        self.key = harness.make_key(os.path.join(tmp, "cluster.key"))
        self.nodes = []
        self.seq = 0

    def node_file(self, entries, options=None):
        """A cluster node file: entries name -> "host:port" or False."""
        self.seq += 1
        path = os.path.join(self.tmp, "clustername%d.lua" % self.seq)
        with open(path, "w") as f:
            for k, v in (options or {}).items():
                f.write("__%s = %s\n" % (k, "true" if v else "false"))
            for k, v in entries.items():
                f.write('%s = %s\n' % (k, '"%s"' % v if v else "false"))
        return path

    def start(self, name, start, cluster_file, keys=None, extra=()):
        self.seq += 1
        cfg = os.path.join(self.tmp, "config%d_%s" % (self.seq, name))
        lines = [
            "thread = 2",
            "harbor = 0",
            'cluster = "%s"' % cluster_file,
            'cluster_key = "%s"' % self.key,
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'lua_path = lua_path .. ";%s/?.lua;%s/?.lua"' % (HERE, harness.TESTS_DIR),
            'start = "%s"' % start,
            'cl_name = "%s"' % name,
        ]
        for k, v in (keys or {}).items():
            lines.append('%s = "%s"' % (k, v))
        lines.extend(extra)
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        n = Node(name, self.exe, cfg)
        self.nodes.append(n)
        return n

    def stop(self):
        for n in self.nodes:
            n.kill()


def run(main):
    """Runs main(cluster) with a temp dir; prints PASS or the failure, exits."""
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="skiff-cluster-") as tmp:
        cl = Cluster(exe, tmp)
        try:
            main(cl)
        except AssertionError as e:
            print("FAIL:", e)
            cl.stop()
            sys.exit(1)
        finally:
            cl.stop()
        for n in cl.nodes:
            bad = harness.sanitizer_report(n.text())
            if bad:
                print("FAIL: %s in the log of %s\n%s" % (bad, n.name, n.text()))
                sys.exit(1)
    print("PASS")
    sys.exit(0)
