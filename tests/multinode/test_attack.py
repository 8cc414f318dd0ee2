#!/usr/bin/env python3
"""The attack matrix, against a node's peer port and against the master port:
no handshake at all, a wrong key, an id that is already live, ids 0 and 256, an
id the master never listed (peer port), a replayed recorded handshake, one
flipped byte in a sealed frame, a 16 MiB length header, a handshake sent one
byte per second.  Each must be refused, logged with the attacker's address, and
the nodes must keep serving each other.

Then a hostile node that holds the key (hattack node) joins as node 9 and, on a
link the victim accepted: sends types 6, 4, 5, 9 and 2 (socket, system, harbor,
debug, multicast), messages whose source is node 2's or the victim's own
service, binds names to node 2's handle and to handle 0, claims its id with
another incarnation, and flips a bit of a record length.  Each is refused and
counted; the calls among it get a CallFailed, the forged ones no answer; node 2
calls the victim all along without one failure.

Last, a restarting node's names: node 3 is killed, the hostile node tries to
take its name NODE3 and is refused; node 3 restarts and gets NODE3 back, and
node 2's calls to NODE3 reach it again."""
import re
import subprocess
import sys
import time
import mnlib

TIMEOUT = 2


def run(hattack, c, mode, port, purpose, nid, key=None, extra=()):
    args = [hattack, mode, "127.0.0.1", str(port), key or c.key, purpose, str(nid)] + list(extra)
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=40)
    return p.stdout.decode().strip()


def expect_log(c, nid, after, rx, timeout=TIMEOUT + 3):
    m = c.wait(nid, rx, timeout=timeout, after=after)
    return m.group(0)


def attack_port(hattack, c, victim, port, purpose):
    tag = "harbor master" if purpose == "master" else "harbor"
    addr = r"127\.0\.0\.1:\d+"
    before = r"%s: connection %s refused/closed before authentication: " % (tag, addr)
    cases = []

    def case(name, mode, nid, log_rx, key=None, extra=(), out_rx=r"^EOF \d+"):
        m = c.mark(victim)
        t0 = time.time()
        out = run(hattack, c, mode, port, purpose, nid, key, extra)
        assert re.search(out_rx, out), "%s/%s: helper said %r" % (purpose, name, out)
        line = expect_log(c, victim, m, log_rx)
        cases.append("%-8s %-22s %5.2fs  %s" % (purpose, name, time.time() - t0, line))

    case("no handshake", "idle", 1, before + r"handshake timed out")
    case("wrong key", "hello", 7, before + r".*", key="-")
    live = 2
    if purpose == "master":
        # a key holder that links as a free id and never announces holds it
        # only until harbor_timeout
        case("holds id 9, no announce", "hello", 9,
             r"%s: link to node 9 \(%s\) closed: no NodeAnnounce within harbor_timeout" % (tag, addr))
        case("id already live", "hello", live,
             r"%s: link to node %d \(%s\) closed: node %d is already live" % (tag, live, addr, live))
    else:
        # a peer port takes only the incarnation the master listed for an id
        case("id already live", "hello", live,
             r"%s: link to node %d \(%s\) closed: node %d incarnation \w+ is not listed by the "
             r"master \(it lists another incarnation\)" % (tag, live, addr, live))
        case("id never listed", "hello", 9,
             r"%s: link to node 9 \(%s\) closed: node 9 incarnation \w+ is not listed by the "
             r"master$" % (tag, addr))
    case("id 0", "hello", 0, r"%s: link to node 0 \(%s\) closed: node id 0" % (tag, addr))
    case("id 256", "hello", 256, r"%s: link to node 256 \(%s\) closed: node id 256" % (tag, addr))
    rec = c.dir + "/rec-%s.bin" % purpose
    # id 9 is free: a key holder may link as 9 (this only records the bytes)
    out = run(hattack, c, "record", port, purpose, 9, extra=[rec])
    assert out == "RECORDED", out
    case("replayed handshake", "replay", 9, before + r".*", extra=[rec])
    if purpose == "master":
        # on a peer port id 9 is not listed: the hostile node below flips bits there
        case("flipped byte", "flip", 9,
             r"%s: link to node 9 \(%s\) closed: .*(authenticat|open|decrypt|MAC|forged|tamper)"
             % (tag, addr))
    case("16 MiB length header", "bighdr", 1, before + r".*")
    case("1 byte per second", "slow", 1, before + r"handshake timed out")
    return cases


PAYLOAD = "41" * 48    # what a socket message or a pointer would be read from

STEPS = """
data 6 self+1 name:NODE3 0 %(p)s
data 6 self+1 name:NODE3 7 %(p)s
data 4 self+1 name:NODE3 0 %(p)s
data 5 self+1 name:NODE3 0 52454749535445522058
data 9 self+1 name:NODE3 9 %(p)s
data 2 self+1 name:NODE3 0 %(p)s
data 10 name:NODE2 name:NODE3 11 00
data 10 name:NODE3 name:NODE3 12 00
register EVIL1 name:NODE2
register EVIL0 0
register MINE self+1
relink 12345
wait 1500
flip
wait 300
""" % {"p": PAYLOAD}


def node(hattack, c, victim, steps, nid=9):
    path = c.dir + "/steps-%d.txt" % victim
    with open(path, "w") as f:
        f.write(steps)
    p = subprocess.run([hattack, "node", "127.0.0.1", str(c.master_port), c.key,
                        str(c.nodes[victim].port), str(nid), path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.stdout.decode()


def hostile_node(hattack, c):
    """Node 9 (holds the key, listed by the master) attacks node 3."""
    m3, m1 = c.mark(3), c.mark(1)
    out = node(hattack, c, 3, STEPS)
    print(out)
    assert "LINKED" in out, out
    # requests of a type that never crosses nodes get a CallFailed ...
    assert re.search(r"^CALLFAILED 0x03\w+ 0x09000001 7 PTYPE_SOCKET carries a pointer", out, re.M), out
    assert re.search(r"^CALLFAILED 0x03\w+ 0x09000001 9 PTYPE_DEBUG crosses nodes only with "
                     r"harbor_remote_debug = true", out, re.M), out
    # ... forged sources get nothing, and nothing else came back
    assert not re.search(r"^(CALLFAILED|DATA) .* 1[12] ", out, re.M), out
    assert not re.search(r"^DATA ", out, re.M), out
    # names: another node's handle and handle 0 refused, its own accepted
    assert re.search(r"^WITHDRAW EVIL1 0x02\w+$", out, re.M), out
    assert re.search(r"^ANSWER MINE 0x09000001 1$", out, re.M), out
    assert not re.search(r"^ANSWER EVIL", out, re.M), out
    # its id with an incarnation the master did not list: refused
    assert re.search(r"^RELINK peer closed the link: node 9 incarnation 0000000000003039 is not "
                     r"listed by the master \(it lists another incarnation\)", out, re.M), out
    # a flipped length bit closes the link on the header, not 1 MiB later
    fm = re.search(r"^FLIP closed after (\d+) ms", out, re.M)
    assert fm and int(fm.group(1)) < TIMEOUT * 1000, out
    c.wait(3, r"harbor: link to node 9 \(127\.0\.0\.1:\d+\) closed: record \d+: header failed "
              r"authentication", after=m3)
    # the victim counted every refused frame and logged the first (rate limited)
    c.wait(3, r"harbor: refused a message from node 9 \(127\.0\.0\.1:\d+\): PTYPE_SOCKET carries a "
              r"pointer into the sending process \(type 6, :09000001 -> :03\w+; 1 refused in all",
           after=m3)
    c.wait(3, r"MN WATCH refused=8 ", after=m3)
    # the master logged the bad binding; no node knows EVIL0/EVIL1, all knew MINE
    c.wait(1, r"harbor master: refused name EVIL1 -> :02\w+ from node 9 \(127\.0\.0\.1:\d+\): a "
              r"node can bind a name only to its own services", after=m1)
    c.wait(3, r"MN WATCH refused=8 names EVIL1:00000000 EVIL0:00000000 MINE:09000001", after=m3)
    print("hostile node: 8 frames refused, bad names refused, relink refused, flip reset the link "
          "in %s ms" % fm.group(1))


def squat(hattack, c):
    """A restarting node's names stay its own."""
    m1 = c.mark(1)
    c.kill(3)
    c.wait(1, r"harbor master: node 3 \(\S+\) left", after=m1)
    out = node(hattack, c, 2, "register NODE3 self+5\nwait 500\n")
    print(out)
    assert re.search(r"^WITHDRAW NODE3 0x09000005$", out, re.M), out
    assert not re.search(r"^ANSWER NODE3 0x09", out, re.M), out
    c.wait(1, r"harbor master: refused name NODE3 -> :09000005 from node 9 .*: the name belongs to "
              r"node 3, which is down", after=m1)
    m2 = c.mark(2)
    c.start(3, role="victim", extra=['test_watch = "9"'])
    # node 2's calls to NODE3 reach the new node 3 again
    c.wait(2, r"MN TRAFFIC \d+ \d+", after=m2)
    ok0 = int(c.wait(2, r"MN TRAFFIC (\d+) \d+", after=c.mark(2)).group(1))
    c.wait(2, r"MN TRAFFIC (%s) \d+" % "|".join(str(ok0 + k) for k in range(5, 400)), timeout=10,
           after=c.mark(2))
    print("node 3 got NODE3 back after its restart; node 9 could not squat it")


def main(skiff, hattack):
    with mnlib.Cluster(skiff, timeout=TIMEOUT) as c:
        c.start(1, master=True)
        c.start(3, role="victim", extra=['test_watch = "9"'])
        c.start(2, role="traffic", extra=['test_target = "3"'])
        c.wait(2, r"MN TRAFFIC [1-9]\d* 0")
        cases = attack_port(hattack, c, 3, c.nodes[3].port, "peer")
        cases += attack_port(hattack, c, 1, c.master_port, "master")
        for line in cases:
            print(line)
        hostile_node(hattack, c)
        # the good nodes kept serving each other all along
        m = c.mark(2)
        c.wait(2, r"MN TRAFFIC [1-9]\d* 0", after=m)
        assert not re.search(r"MN TRAFFIC \d+ [1-9]", c.nodes[2].text()), "a call failed"
        assert not re.search(r"node 3 \(\S+\) is down", c.nodes[2].text())
        assert c.nodes[3].proc.poll() is None, "node 3 died"
        squat(hattack, c)
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
