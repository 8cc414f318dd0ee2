"""Real database servers for the driver tests, started by the test itself as
plain processes on free ports in a temporary folder, and stopped after.

    with RedisServer(tmp) as r: r.port
    with RedisCluster(tmp, masters=3) as rc: rc.ports
    with MariaDB(tmp) as m: m.port, m.user, m.password

A missing server program is not a skip: `require_program` raises with the
Debian package to install, and the test fails with that line.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import free_port  # noqa: E402


class Missing(Exception):
    pass


def require_program(name, package):
    path = shutil.which(name) or (os.path.join("/usr/sbin", name) if os.path.exists(os.path.join("/usr/sbin", name)) else None)
    if not path:
        raise Missing("%s not found: install the Debian package %s (tools/deps.sh does)" % (name, package))
    return path


def wait_port(port, proc, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("%s exited (%s) before listening on %d" % (what, proc.returncode, port))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("%s did not listen on %d within %ss" % (what, port, timeout))


def stop(proc, grace=10):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_cluster_port():
    """A free port p whose cluster bus port p + 10000 is free and valid too."""
    for _ in range(200):
        p = free_port()
        if p > 55000:
            continue
        try:
            s = socket.socket()
            s.bind(("127.0.0.1", p + 10000))
            s.close()
            return p
        except OSError:
            continue
    raise AssertionError("no free port pair for a Redis Cluster node")


class RedisServer:
    """One redis-server: no persistence, loopback only, `password` if given."""

    def __init__(self, tmp, password=None, extra=(), port=None):
        self.exe = require_program("redis-server", "redis-server")
        self.port = port or free_port()
        self.dir = os.path.join(tmp, "redis-%d" % self.port)
        os.makedirs(self.dir)
        self.password = password
        self.args = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                     "--save", "", "--appendonly", "no", "--daemonize", "no",
                     "--logfile", os.path.join(self.dir, "redis.log")]
        if password:
            self.args += ["--requirepass", password]
        self.args += list(extra)
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc, "redis-server")
        except BaseException:
            stop(self.proc)
            raise
        return self

    def __exit__(self, *exc):
        stop(self.proc)

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return f.read()
        except OSError:
            return ""


class RedisCluster:
    """`masters` redis-server processes in cluster mode, slots spread by
    `redis-cli --cluster create`, no replicas."""

    def __init__(self, tmp, masters=3):
        self.cli = require_program("redis-cli", "redis-tools")
        self.servers = [RedisServer(tmp, port=free_cluster_port(),
                                    extra=["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                        for _ in range(masters)]
        for s in self.servers:
            s.args += ["--cluster-config-file", os.path.join(s.dir, "nodes.conf")]
        self.ports = [s.port for s in self.servers]

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _start(self):
        for s in self.servers:
            s.__enter__()
        cmd = [self.cli, "--cluster", "create"] + ["127.0.0.1:%d" % p for p in self.ports] + \
              ["--cluster-replicas", "0", "--cluster-yes"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise AssertionError("redis-cli --cluster create failed:\n" + r.stdout.decode(errors="replace"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = [self.cli_run(p, "cluster", "info") for p in self.ports]
            if all("cluster_state:ok" in s for s in states):
                return self
            time.sleep(0.1)
        raise AssertionError("redis cluster did not reach cluster_state:ok")

    def cli_run(self, port, *args, timeout=60):
        r = subprocess.run([self.cli, "-p", str(port)] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return r.stdout.decode(errors="replace")

    def node_ids(self):
        """port -> node id"""
        ids = {}
        for line in self.cli_run(self.ports[0], "cluster", "nodes").splitlines():
            f = line.split()
            port = int(f[1].split("@")[0].rsplit(":", 1)[1])
            ids[port] = f[0]
        return ids

    def reshard(self, from_port, to_port, slots):
        ids = self.node_ids()
        r = subprocess.run([self.cli, "--cluster", "reshard", "127.0.0.1:%d" % self.ports[0],
                            "--cluster-from", ids[from_port], "--cluster-to", ids[to_port],
                            "--cluster-slots", str(slots), "--cluster-yes",
                            "--cluster-pipeline", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if r.returncode != 0:
            raise AssertionError("reshard failed:\n" + r.stdout.decode(errors="replace")[-3000:])

    def __exit__(self, *exc):
        for s in self.servers:
            stop(s.proc)


class MariaDB:
    """A mariadbd with its own data folder, on a free TCP port on 127.0.0.1 and
    a socket in the folder.  `users` are created with the given plugins."""

    def __init__(self, tmp):
        self.mariadbd = require_program("mariadbd", "mariadb-server")
        self.install = require_program("mariadb-install-db", "mariadb-server")
        self.client = require_program("mariadb", "mariadb-client")
        self.dir = os.path.join(tmp, "mariadb")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "mysqld.sock")
        self.port = free_port()
        self.proc = None

    def __enter__(self):
        os.makedirs(self.data)
        user = ["--user=root"] if os.geteuid() == 0 else []
        r = subprocess.run([self.install, "--no-defaults", "--datadir=" + self.data,
                            "--auth-root-authentication-method=normal", "--skip-test-db"] + user,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
        if r.returncode != 0:
            raise AssertionError("mariadb-install-db failed:\n" + r.stdout.decode(errors="replace")[-3000:])
        self.errlog = os.path.join(self.dir, "error.log")
        self.proc = subprocess.Popen([self.mariadbd, "--no-defaults", "--datadir=" + self.data,
                                      "--socket=" + self.sock, "--port=%d" % self.port,
                                      "--bind-address=127.0.0.1", "--skip-name-resolve",
                                      "--log-error=" + self.errlog, "--pid-file=" + os.path.join(self.dir, "pid"),
                                      "--max-allowed-packet=64M", "--innodb-buffer-pool-size=16M",
                                      "--skip-log-bin"] + user,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc, "mariadbd", timeout=60)
        except BaseException:
            stop(self.proc)
            raise
        return self

    def sql(self, text, database=None):
        args = [self.client, "--no-defaults", "-S", self.sock, "-uroot", "--batch", "-e", text]
        if database:
            args.insert(-2, database)
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise AssertionError("sql failed: %s\n%s" % (text, r.stdout.decode(errors="replace")))
        return r.stdout.decode(errors="replace")

    def __exit__(self, *exc):
        stop(self.proc, 30)
