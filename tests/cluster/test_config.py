#!/usr/bin/env python3
"""The cluster key is required and checked: a missing path, a world-readable
file and a malformed file are each refused with a message naming the file."""
import os

import clusterlib
from clusterlib import free_port


def main(cl):
    f = cl.node_file({"b": "127.0.0.1:%d" % free_port()})
    loose = os.path.join(cl.tmp, "loose.key")
    with open(loose, "w") as fh:
        fh.write("ab" * 32 + "\n")
    os.chmod(loose, 0o644)
    bad = os.path.join(cl.tmp, "bad.key")
    fd = os.open(bad, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a key\n")
    os.close(fd)
    missing = os.path.join(cl.tmp, "missing.key")
    for path in (loose, bad, missing):
        cl.key = path
        n = cl.start("b", "cl_server", f)
        n.must(r"cluster: .*%s" % path.replace(".", r"\."), 15, "a message naming the key file")
        n.must(r"start service failed", 15)
        if "CLUSTER READY" in n.text():
            raise AssertionError("node listened with a bad key:\n" + n.text())
        n.kill()


clusterlib.run(main)
