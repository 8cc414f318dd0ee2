#!/usr/bin/env python3
"""Global names (docs/decisions.md, "Harbor"), driven by node 3 against
services it spawns on node 2 (harbor_name_timeout = 1.5 s, harbor_name_queue = 50):
  - a named service exits: calls to it fail (not hang), the name is withdrawn on
    every node, then calls to the name wait and fail after harbor_name_timeout;
  - another service (on another node) registers the free name and is reached
    from both nodes; a service of the same node takes over the name of an exited
    one at once;
  - a call to a name never registered fails after harbor_name_timeout;
  - with 50 messages queued for an unknown name the 51st call fails at once;
    when the name appears the 50 waiting calls are delivered, in order;
  - the harbor STATS command lists both links up with traffic counters and a
    heartbeat round trip."""
import sys
import mnlib

TIMEOUT_MS = 1500


def main(skiff):
    extra = ["harbor_name_timeout = %g" % (TIMEOUT_MS / 1000), "harbor_name_queue = 50"]
    with mnlib.Cluster(skiff, nodes=3, extra=extra) as c:
        c.start(1, master=True)
        c.start(2)
        c.start(3, role="names", extra=['test_target = "2"'])
        m = c.wait(3, r"MN NAMES WITHDRAWN (\d+) ms", timeout=20)
        c.wait(2, r"harbor: global name SVC withdrawn \(:02\w+ exited\)")
        print("exit: SVC withdrawn; a call then failed after %s ms" % m.group(1))
        c.wait(3, r"MN NAMES REREGISTERED", timeout=20)
        print("the free name SVC was registered by a service of node 3")
        c.wait(3, r"MN NAMES TAKEOVER", timeout=20)
        print("a new service of node 2 took over SVC2 at once")
        m = c.wait(3, r"MN NAMES TIMEOUT (\d+) ms", timeout=20)
        c.wait(3, r"harbor: no global name NEVER after %d ms" % TIMEOUT_MS)
        print("a call to a name never registered failed after %s ms" % m.group(1))
        c.wait(3, r"MN NAMES QUEUE OK", timeout=20)
        c.wait(3, r"harbor: drop message to LATER from :03\w+: name queue full")
        print("name queue: the 51st call failed at once, 50 delivered in order")
        m = c.wait(3, r"MN STATS (peer id=2 .*)")
        print("STATS: %s" % m.group(1))
        c.wait(3, r"MN NAMES DONE")
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
