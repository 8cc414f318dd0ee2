#!/usr/bin/env python3
"""Per-node identity with real skiff processes.

1. `skiff --genkey cluster DIR` and `skiff --genkey node ...` make the files
   with the right modes, never overwrite, and refuse bad arguments.
2. Three harbor nodes with credentials only (no shared key) serve calls
   (names, calls both ways: the `basic` role) and keep a traffic loop going.
3. A compromised node 2 (hcred, holding node 2's credential and secret)
   claiming id 3, or a free id 4, is refused by the master and by the peers;
   so are a credential of another cluster and node 2's certificate without its
   secret.  A valid credential for id 4 is accepted (the tool works).
4. A real node started as harbor 5 with node 2's credential, or with a
   credential of another cluster, stops at start-up with one clear line.
The traffic between the good nodes never fails during any of it.
"""
import os
import re
import stat
import subprocess
import sys
import time
import mnlib


def genkey(skiff, *args):
    p = subprocess.run([skiff, "--genkey"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode(errors="replace")


def check_genkey(skiff, tmp):
    ca = os.path.join(tmp, "gk")
    rc, out = genkey(skiff, "cluster", ca)
    assert rc == 0, out
    sec, pub = os.path.join(ca, "cluster.secret"), os.path.join(ca, "cluster.pub")
    assert stat.S_IMODE(os.stat(sec).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(pub).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(ca).st_mode) == 0o700
    assert open(pub).read().startswith("skiff cluster public v1\n")
    assert open(sec).read().startswith("skiff cluster secret v1\n")
    rc, out = genkey(skiff, "cluster", ca)
    assert rc == 1 and "File exists" in out, out
    cred = os.path.join(tmp, "n7.cred")
    rc, out = genkey(skiff, "node", "--id", "7", "--signer", sec, cred)
    assert rc == 0, out
    assert stat.S_IMODE(os.stat(cred).st_mode) == 0o600
    lines = open(cred).read().split("\n")
    assert lines[0] == "skiff node credential v1" and lines[1].startswith("secret ") \
        and lines[2].startswith("cert 534b4331"), lines
    rc, out = genkey(skiff, "node", "--id", "7", "--signer", sec, cred)
    assert rc == 1 and "File exists" in out, out
    rc, out = genkey(skiff, "node", "--name", "game1", "--days", "30", "--signer", sec,
                     os.path.join(tmp, "g1.cred"))
    assert rc == 0, out
    bad = [
        (["node", "--id", "7", "--name", "x", "--signer", sec, os.path.join(tmp, "b1")],
         "exactly one of --id N and --name NAME"),
        (["node", "--id", "256", "--signer", sec, os.path.join(tmp, "b2")],
         "--id must be a harbor id from 1 to 255"),
        (["node", "--id", "0", "--signer", sec, os.path.join(tmp, "b3")],
         "--id must be a harbor id from 1 to 255"),
        (["node", "--id", "3", os.path.join(tmp, "b4")], "--signer with the cluster secret"),
        (["node", "--id", "3", "--signer", pub, os.path.join(tmp, "b5")],
         "cluster secret key file %s: group or others may access it" % pub),
        (["node", "--name", "has space", "--signer", sec, os.path.join(tmp, "b6")],
         "either an id (1..) or a name"),
    ]
    for args, msg in bad:
        rc, out = genkey(skiff, *args)
        assert rc == 1 and msg in out, (args, out)
        assert not os.path.exists(args[-1]), args
    print("genkey verbs: ok")


def hcred(tool, mode, port, purpose, nid, pub, cred):
    p = subprocess.run([tool, mode, "127.0.0.1", str(port), purpose, str(nid), pub, cred],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=40)
    return p.stdout.decode(errors="replace").strip()


def main(skiff, tool):
    skiff = os.path.abspath(skiff)
    with mnlib.Cluster(skiff, timeout=2, identity=True, shared_key=False,
                       extra=["harbor_max_message = 2097152"]) as c:
        check_genkey(skiff, c.dir)
        other = os.path.join(c.dir, "other-ca")
        subprocess.run([skiff, "--genkey", "cluster", other], check=True, stderr=subprocess.DEVNULL)
        pub = os.path.join(c.ca, "cluster.pub")

        # 2. a working harbor on credentials alone
        c.start(1, master=True, role="basic")
        c.wait(1, r"MN READY 1")
        c.start(2, role="basic")
        c.start(3, role="basic")
        for i in (1, 2, 3):
            c.wait(i, r"MN BASIC OK %d" % i, timeout=30)
        c.start(4 + 0, role="traffic", extra=['test_target = "3"'])
        c.wait(4, r"MN TRAFFIC [1-9]\d* 0")
        print("3 nodes (+1 traffic node) with credentials only: ok")

        # 3. the attacks, against the master port and both peers' ports
        victims = [("master", 1, c.master_port), ("peer", 1, c.nodes[1].port),
                   ("peer", 3, c.nodes[3].port)]
        attacks = [
            ("cred of 2 claims 3", "hello", 3, c.cred(2),
             r"handshake failed: peer claims node id 3 but its credential is for node id 2"),
            ("cred of 2 claims 5", "hello", 5, c.cred(2),
             r"handshake failed: peer claims node id 5 but its credential is for node id 2"),
            ("other cluster's 5", "hello", 5, c.cred(5, ca=other),
             r"handshake failed: peer's node credential refused: certificate is not signed "
             r"by this cluster's key"),
            ("stolen cert of 2", "stolen", 2, c.cred(2),
             r"handshake failed: peer does not hold the secret key of the node credential"),
        ]
        for purpose, vid, port in victims:
            for name, mode, nid, cred, rx in attacks:
                m = c.mark(vid)
                t0 = time.time()
                out = hcred(tool, mode, port, purpose, nid, pub, cred)
                assert out.startswith("EOF"), "%s on %s:%d: %r" % (name, purpose, port, out)
                assert "peer closed the link" not in out, out
                line = c.wait(vid, rx, timeout=5, after=m).group(0)
                print("%-6s node %d  %-20s %5.2fs refused: %s" % (purpose, vid, name,
                                                                time.time() - t0, line))
        # the tool is not refused for nothing: a valid credential gets in
        out = hcred(tool, "hello", c.master_port, "master", 6, pub, c.cred(6))
        assert out == "ACCEPTED", out
        print("master  valid credential for id 6 accepted")

        # 4. real nodes with a credential that does not fit stop at start-up
        for nid, cred, rx in [
                (5, c.cred(2), r"harbor: node_credential: \S+node2\.cred is for node id 2, "
                               r"this node is harbor 5"),
                (5, c.cred(5, ca=other), r"node_credential: node credential file \S+: "
                                         r"certificate is not signed by this cluster's key")]:
            n = c.start(nid, role="idle", extra=['node_credential = "%s"' % cred],
                        wait_ready=False)
            n.proc.wait(timeout=15)
            assert n.proc.returncode != 0, n.proc.returncode
            assert re.search(rx, n.text()), n.text()[-2000:]
            print("node 5 with %s: refused at start-up" % os.path.basename(cred))

        # the good nodes kept serving each other all along
        m = c.mark(4)
        c.wait(4, r"MN TRAFFIC [1-9]\d* 0", after=m)
        text = c.nodes[4].text()
        assert not re.search(r"MN TRAFFIC \d+ [1-9]", text), "a call failed"
        assert not re.search(r"node 3 \(\S+\) is down", text)
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
