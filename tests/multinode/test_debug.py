#!/usr/bin/env python3
"""PTYPE_DEBUG across nodes (it runs code in the receiving service: debug RUN).
By default a debug call to another node fails at once at the sender, with one
log line naming harbor_remote_debug, and plain calls keep working.  With
harbor_remote_debug = true on both nodes the same call is answered.  A value
other than true/false stops the node with a line naming the key."""
import sys
import mnlib


def run(skiff, extra):
    with mnlib.Cluster(skiff, nodes=2, extra=extra) as c:
        c.start(1, master=True)
        c.start(2, role="debugcall", extra=['test_target = "1"'])
        m = c.wait(2, r"MN DEBUG (OK|FAILED) (\d+) ms echo 1")
        return m.group(1), int(m.group(2)), c.nodes[2].text()


def main(skiff):
    verdict, ms, log = run(skiff, [])
    assert verdict == "FAILED" and ms < 500, (verdict, ms)
    assert ("harbor: refused a type 9 message from :02" in log and
            "PTYPE_DEBUG crosses nodes only with harbor_remote_debug = true" in log), log
    print("default: the debug call failed at the sender after %d ms" % ms)
    verdict, ms, log = run(skiff, ["harbor_remote_debug = true"])
    assert verdict == "OK", verdict
    print("harbor_remote_debug = true: the debug call was answered")
    with mnlib.Cluster(skiff, nodes=1, extra=['harbor_remote_debug = "yes"']) as c:
        n = c.start(1, master=True, wait_ready=False)
        n.proc.wait(timeout=10)
        assert n.proc.returncode == 1, n.proc.returncode
        assert "config key 'harbor_remote_debug' must be true or false (got 'yes')" in n.text(), n.text()
    print("harbor_remote_debug = \"yes\": refused at start")
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
