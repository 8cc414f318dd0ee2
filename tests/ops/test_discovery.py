#!/usr/bin/env python3
"""Cluster-mode members found in DNS (services/cluster_discovery.lua), with the
Kubernetes ConfigMap's own lobby.conf and lobby_main.lua (deploy/k8s/config/).

A small DNS server plays the headless Service: lobby-<n>.lobby.test -> 127.0.0.<n+2>
for the members that exist.  Nodes lobby-0 and lobby-1 start (each listening on
its own loopback address, the same port, as pods do): each finds both, and
calls the other's "@lobby".  lobby-2 appears in DNS and starts: lobby-0 logs
the change (one cluster.reload) and reaches it.  lobby-1 leaves DNS and stops:
lobby-0 logs it gone.  The DNS names are resolved by the node itself, never on
a worker thread (skynet.dns).
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from localdns import LocalDns  # noqa: E402


def main(src, skiff):
    skiff = os.path.abspath(skiff)
    conf = os.path.join(src, "deploy", "k8s", "config", "lobby.conf")
    dns = LocalDns()
    port = harness.free_port()
    nodes = {}
    with tempfile.TemporaryDirectory(prefix="skiff-disc-") as d:
        harness.make_key(os.path.join(d, "cluster.key"))

        def start(i):
            dns.set("lobby-%d.lobby.test" % i, "127.0.0.%d" % (i + 2))
            env = dict(os.environ, POD_NAME="lobby-%d" % i, POD_NAMESPACE="test",
                       SKIFF_SERVICE="lobby", SKIFF_LOBBY_LISTEN="127.0.0.%d:%d" % (i + 2, port),
                       SKIFF_DISCOVERY="lobby-%d.lobby.test", SKIFF_DISCOVERY_DNS="127.0.0.1:%d" % dns.port,
                       SKIFF_DISCOVERY_INTERVAL="0.3", SKIFF_LOBBY_PING="0.3",
                       SKIFF_CLUSTER_KEY=os.path.join(d, "cluster.key"),
                       SKIFF_METRICS="127.0.0.1:%d" % harness.free_port())
            n = harness.Node(skiff, conf, cwd=d, env=env, name="lobby-%d" % i,
                             log=os.path.join(d, "lobby-%d.log" % i))
            nodes[i] = n
            n.wait(r"lobby: lobby-%d up" % i)
            return n

        try:
            a = start(0)
            b = start(1)
            for me, other in ((a, "lobby-1"), (b, "lobby-0")):
                me.wait(r"cluster discovery: members lobby-0,lobby-1 ")
                me.wait(r"lobby: %s answered %s" % (other, me.name))
            mark = a.mark()
            start(2)
            a.wait(r"cluster discovery: members lobby-0,lobby-1,lobby-2 \(\+lobby-2 -\)$", after=mark)
            a.wait(r"lobby: lobby-2 answered lobby-0", after=mark)
            mark = a.mark()
            dns.set("lobby-1.lobby.test", None)
            b.signal(15)
            assert b.proc.wait(timeout=20) == 0, b.text()[-3000:]
            a.wait(r"cluster discovery: members lobby-0,lobby-2 \(\+ -lobby-1\)$", after=mark)
            changes = [ln for ln in a.lines() if "cluster discovery: members" in ln]
            # one line per change: lobby-0 came (itself), lobby-1 came (maybe in the same
            # round), lobby-2 came, lobby-1 went
            assert 3 <= len(changes) <= 4, "one line per change, got:\n" + "\n".join(changes)
        except BaseException:
            for n in nodes.values():
                print("---- %s ----\n%s" % (n.name, n.text()[-4000:]))
            raise
        finally:
            for n in nodes.values():
                n.kill()
            dns.close()
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
