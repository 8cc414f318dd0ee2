"""Helpers for cluster-mode tests: real skiff nodes on 127.0.0.1.

A Cluster owns a temp dir with the key file and per-node configs; nodes are
started with a `start` service from this folder and read their role from
config keys (cl_*).  Every wait has a deadline; stop() kills what is left.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Node:
    def __init__(self, name, exe, config):
        self.name = name
        self.proc = subprocess.Popen([exe, config], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors="replace")
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait(self, regex, timeout, start=0):
        """The match object of the first line from index `start` matching regex."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        seen = start
        with self.cond:
            while True:
                while seen < len(self.lines):
                    m = rx.search(self.lines[seen])
                    seen += 1
                    if m:
                        return m
                if self.proc.poll() is not None and not self.reader.is_alive():
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))

    def must(self, regex, timeout, what=None):
        m = self.wait(regex, timeout)
        if m is None:
            raise AssertionError("node %s: no /%s/ within %ss%s\n--- log ---\n%s" % (
                self.name, regex, timeout, " (%s)" % what if what else "", self.text()))
        return m

    def verdict(self, timeout):
        """Waits for the driver's CLTEST line; raises unless it is a PASS."""
        m = self.must(r"CLTEST (PASS|FAIL)|start service failed", timeout)
        if m.group(1) != "PASS":
            raise AssertionError("node %s failed:\n%s" % (self.name, self.text()))

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self):
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)
            except OSError:
                pass
            self.proc.kill()
        self.proc.wait()
        self.reader.join(2)


class Cluster:
    def __init__(self, exe, tmp):
        self.exe = exe
        self.tmp = tmp
        self.key = os.path.join(tmp, "cluster.key")
        fd = os.open(self.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(32).hex().encode() + b"\n")
        os.close(fd)
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

    def identity(self):
        """Makes the cluster signing key pair (skiff --genkey cluster); returns its dir."""
        ca = os.path.join(self.tmp, "ca")
        if not os.path.exists(ca):
            subprocess.run([self.exe, "--genkey", "cluster", ca], check=True,
                           stderr=subprocess.DEVNULL)
        return ca

    def credential(self, name):
        """Node `name`'s credential (skiff --genkey node --name), issued on first use."""
        ca = self.identity()
        path = os.path.join(ca, name + ".cred")
        if not os.path.exists(path):
            subprocess.run([self.exe, "--genkey", "node", "--name", name, "--signer",
                            os.path.join(ca, "cluster.secret"), path], check=True)
        return path

    def start(self, name, start, cluster_file, keys=None, extra=(), shared_key=True,
              credential=None):
        """credential: the name whose credential the node uses (None: no credential)."""
        self.seq += 1
        cfg = os.path.join(self.tmp, "config%d_%s" % (self.seq, name))
        auth = []
        if shared_key:
            auth.append('cluster_key = "%s"' % self.key)
        if credential:
            auth.append('cluster_pub = "%s/cluster.pub"' % self.identity())
            auth.append('node_credential = "%s"' % self.credential(credential))
        lines = [
            "thread = 2",
            "harbor = 0",
            'cluster = "%s"' % cluster_file,
        ] + auth + [
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'lua_path = lua_path .. ";%s/?.lua"' % HERE,
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
            for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
                if bad in n.text():
                    print("FAIL: %s in the log of %s\n%s" % (bad, n.name, n.text()))
                    sys.exit(1)
    print("PASS")
    sys.exit(0)
