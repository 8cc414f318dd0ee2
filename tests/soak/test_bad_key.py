#!/usr/bin/env python3
"""A harbor node (harbor = 1, its own master) refuses every bad cluster key
file with one message naming the file and why, and never joins with it:
missing key, missing file, world-readable, not a key, all zeros, a directory,
a FIFO (which used to block start-up for ever), a socket; and every bad
credential setting: cluster_pub without node_credential, a credential for
another id, one of another cluster, a world-readable one, a malformed one, a
FIFO.
(keyfile_test.c covers the parser in memory; cluster_config the cluster-mode
service; this is the harbor node end to end.)

usage: test_bad_key.py SKIFF
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "obs"))
from obslib import check, free_port  # noqa: E402


def write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, data)
    os.close(fd)
    os.chmod(path, mode)


def run_node(skiff, tmp, key_line, timeout=20):
    port = free_port()
    conf = os.path.join(tmp, "node.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "thread = 2", "harbor = 1",
            'address = "127.0.0.1:%d"' % free_port(),
            'master = "127.0.0.1:%d"' % port,
            'standalone = "127.0.0.1:%d"' % port,
            "harbor_timeout = 2",
        ] + ([key_line] if key_line else [])) + "\n")
    p = subprocess.Popen([skiff, conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise AssertionError("node with a bad key kept running:\n" + out.decode(errors="replace")[-3000:])
    return p.returncode, out.decode(errors="replace")


def main(skiff):
    skiff = os.path.abspath(skiff)
    with tempfile.TemporaryDirectory(prefix="skiff-badkey-") as tmp:
        import socket as socketmod
        fifo = os.path.join(tmp, "fifo.key")
        os.mkfifo(fifo, 0o600)
        sockpath = os.path.join(tmp, "sock.key")
        sock = socketmod.socket(socketmod.AF_UNIX)
        sock.bind(sockpath)
        ca, other = os.path.join(tmp, "ca"), os.path.join(tmp, "other")
        for d in (ca, other):
            subprocess.run([skiff, "--genkey", "cluster", d], check=True, stderr=subprocess.DEVNULL)
        pub = os.path.join(ca, "cluster.pub")

        def cred(d, nid):
            path = os.path.join(d, "n%d.cred" % nid)
            subprocess.run([skiff, "--genkey", "node", "--id", str(nid), "--signer",
                            os.path.join(d, "cluster.secret"), path], check=True)
            return path
        c1, c2, c1_other = cred(ca, 1), cred(ca, 2), cred(other, 1)
        loose_cred = os.path.join(tmp, "loose.cred")
        write(loose_cred, open(c1, "rb").read(), 0o644)
        broken_cred = os.path.join(tmp, "broken.cred")
        write(broken_cred, open(c1, "rb").read().replace(b"cert 534b", b"cert 999b"), 0o600)
        cfifo = os.path.join(tmp, "fifo.cred")
        os.mkfifo(cfifo, 0o600)

        def creds(p, c):
            return 'cluster_pub = "%s"\nnode_credential = "%s"' % (p, c)
        loose = os.path.join(tmp, "loose.key")
        write(loose, b"ab" * 32 + b"\n", 0o644)
        notkey = os.path.join(tmp, "notkey.key")
        write(notkey, b"not a key\n", 0o600)
        zeros = os.path.join(tmp, "zeros.key")
        write(zeros, b"00" * 32 + b"\n", 0o600)
        adir = os.path.join(tmp, "dir.key")
        os.mkdir(adir, 0o700)
        missing = os.path.join(tmp, "missing.key")
        cases = [
            ("no cluster_key", None,
             r"config key 'cluster_pub' and 'node_credential' .* or 'cluster_key' .* is required"),
            ("missing file", missing, r"cluster key file %s: No such file" % missing),
            ("world-readable", loose, r"cluster key file %s: group or others may access it" % loose),
            ("not a key", notkey, r"cluster key file %s: malformed" % notkey),
            ("all zeros", zeros, r"all zeros"),
            ("a directory", adir, r"cluster key file %s: is a directory, not a regular file" % adir),
            ("a FIFO", fifo, r"cluster key file %s: is a FIFO, not a regular file" % fifo),
            ("a socket", sockpath, r"cluster key file %s: is a socket, not a regular file" % sockpath),
        ]
        cases = [(n, 'cluster_key = "%s"' % p if p else None, rx) for n, p, rx in cases]
        cases += [
            ("pub alone", 'cluster_pub = "%s"' % pub,
             r"config keys 'cluster_pub' and 'node_credential' go together; only 'cluster_pub'"),
            ("cred of id 2", creds(pub, c2),
             r"node_credential: %s is for node id 2, this node is harbor 1" % c2),
            ("other cluster", creds(pub, c1_other),
             r"node credential file %s: certificate is not signed by this cluster's key" % c1_other),
            ("loose cred", creds(pub, loose_cred),
             r"node credential file %s: group or others may access it \(mode 0644\)" % loose_cred),
            ("broken cred", creds(pub, broken_cred),
             r"node credential file %s: not a version 1 Skiff node certificate" % broken_cred),
            ("FIFO cred", creds(pub, cfifo),
             r"node credential file %s: is a FIFO, not a regular file" % cfifo),
            ("FIFO pub", creds(fifo, c1),
             r"cluster public key file %s: is a FIFO, not a regular file" % fifo),
            ("cred as pub", creds(c1, c1),
             r"cluster public key file %s: malformed \(line 1 must be" % c1),
        ]
        import re
        for name, key_line, rx in cases:
            t0 = time.monotonic()
            rc, out = run_node(skiff, tmp, key_line)
            check(rc != 0, "%s: exit code %d" % (name, rc))
            check(re.search(rx, out), "%s: no /%s/ in:\n%s" % (name, rx, out[-3000:]))
            check(not re.search(r"Segmentation|Aborted|core dumped|Sanitizer", out), name + ": crash text")
            print("%-15s exit %d in %.1fs: %s" % (name, rc, time.monotonic() - t0, re.search(rx, out).group(0)))
    print("bad key: PASS")


if __name__ == "__main__":
    main(sys.argv[1])
