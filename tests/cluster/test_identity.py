#!/usr/bin/env python3
"""Cluster mode with per-node credentials (name credentials, no shared key):
node a calls node b; then a node file that lists node c's address under the
name "b" makes the call fail ("peer proves to be node [c], not [b]") instead of
reaching c; a node whose credential names "c" cannot open as "b"; and a
harbor id credential is refused in cluster mode."""
import os
import subprocess

import clusterlib
from clusterlib import free_port


def main(cl):
    addr_b, addr_c = "127.0.0.1:%d" % free_port(), "127.0.0.1:%d" % free_port()
    b = cl.start("b", "cl_server", cl.node_file({"b": addr_b}), shared_key=False, credential="b")
    c = cl.start("c", "cl_server", cl.node_file({"c": addr_c}), shared_key=False, credential="c")
    b.must("CLUSTER READY", 15)
    c.must("CLUSTER READY", 15)
    a = cl.start("a", "cl_t_ping", cl.node_file({"b": addr_b}), shared_key=False, credential="a")
    a.verdict(60)
    print("a -> b with credentials: ok")
    a2 = cl.start("a", "cl_t_impostor", cl.node_file({"b": addr_c}), shared_key=False,
                  credential="a")
    a2.verdict(60)
    a2.must(r"peer proves to be node \[c\], not \[b\]", 5)
    print("a -> [b] answered by c: refused")
    # c's credential names "c": it cannot act as "b" (cluster.open("b") on c)
    c2 = cl.start("c", "cl_server", cl.node_file({"b": "127.0.0.1:%d" % free_port()}),
                  shared_key=False, credential="c", keys={"cl_name": "b"})
    c2.must(r"this node's credential is for \[c\]; it cannot act as \[b\]", 15)
    print("c cannot open as b: refused")
    ca = cl.identity()
    idcred = os.path.join(ca, "id4.cred")
    subprocess.run([cl.exe, "--genkey", "node", "--id", "4", "--signer",
                    os.path.join(ca, "cluster.secret"), idcred], check=True)
    d = cl.start("d", "cl_server", cl.node_file({"d": "127.0.0.1:%d" % free_port()}),
                 shared_key=False, credential="d", extra=['node_credential = "%s"' % idcred])
    d.must(r"cluster: node_credential: \S+id4\.cred is for harbor node id 4; cluster mode "
           r"needs a name credential", 15)
    print("an id credential in cluster mode: refused")


clusterlib.run(main)
