#!/usr/bin/env python3
"""Fault soak: three harbor nodes under numbered traffic (soak_node.lua) while
a controller injects faults at random, then checks what must hold.

usage: soak.py SKIFF [--duration SECONDS] [--seed N] [--timeout HARBOR_TIMEOUT] [--spare 2|3]
               [--bots N]

--spare N: node N is only ever SIGSTOPped, never killed, so one process lives
through the whole run and its RSS is judged over all of it (long runs).

Faults, one at a time, every 3-6 s until `settle` seconds before the end:
  kill   kill -9 node 2 or 3, restart it 0.5-2 s later
  stop   SIGSTOP any node for 0.5-4 s (over harbor_timeout: declared down), SIGCONT
  master kill -9 the master (node 1, standalone) and restart it 1-2 s later
  cut    cut the link between nodes 2 and 3 for 0.5-4 s, then heal it: node 2
         announces the port of a relay this script runs (relay.py; harbor_listen
         is its real port) and only node 3 dials node 2, so cutting the relay is
         a partition of exactly that link, silent as a dropped cable; both
         processes run on, each sees the other down after harbor_timeout, and
         the master still sees both
With --bots N (the CI run uses 20), the nodes also run the demo game
(deploy/demo: matchmaker, login and gate on node 1, rooms on nodes 2 and 3)
and a separate bots process (harbor 0, never faulted) plays N players
through its gate for the whole run.
Checks at the end:
  - every node is up and traffic flows again (rx and ok counters move);
  - no SOAK ANOMALY in any log: no accepted push lost, reordered or duplicated
    (accepted: see soak_node.lua; sent while both ends were up, within one
    sender epoch, with no node-down of either end seen before delivery);
  - no call hung: every SOAK SLOWCALL (a call over harbor_timeout + 1 s) overlaps
    a SIGSTOP of the caller's own node (whose clock jumps over the stop), and
    the last STAT line of every node shows no call waiting over that bound;
  - RSS of every node process that ran from warm-up to the end is flat: the
    median of its last 5 samples is under warm * 1.25 + 16 MiB, where warm is
    the median of its samples 15-20 s after its start (an ASan build gets a
    16 MiB quarantine and that much more room: freed blocks wait there);
  - no crash, sanitizer or assertion text in any log (killed runs included);
  - with bots: the bots process is still running, and in the last seconds
    bots are in rooms again and getting answers (they recover from every fault).
"""
import argparse
import os
import random
import re
import signal
import json
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "deploy", "demo")
sys.path.insert(0, os.path.join(HERE, "..", "multinode"))
import mnlib  # noqa: E402
from relay import Relay  # noqa: E402

BAD_LOG = re.compile(r"AddressSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer|runtime error:|"
                     r"Assertion|Segmentation|SIGSEGV|SIGABRT|core dumped|PANIC")
NODES = 3
SETTLE = 10
WARM = (15, 20)
ASAN_QUARANTINE_MB = 16


def fail(what):
    raise AssertionError(what)


class Soak:
    def __init__(self, c, rng, timeout, spare=None, bots=0, asan=False):
        self.spare = spare
        self.asan = asan
        self.bots = bots
        self.bots_proc = None
        self.bots_log = None
        self.gate_port = mnlib.free_port() if bots else None
        self.c = c
        self.rng = rng
        self.timeout = timeout
        self.stops = {n: [] for n in range(1, NODES + 1)}  # wall windows
        self.runs = []  # [nid, pid, start, end or None, samples[(t, kib)], log]
        self.relay = None  # in front of node 2's harbor port (the "cut" fault)
        self.log = []

    def start(self, nid):
        extra = ['luaservice = luaservice .. ";%s/?.lua"' % HERE, 'start = "soak_node"',
                 "soak_nodes = %d" % NODES]
        if self.bots:
            extra += ['luaservice = luaservice .. ";%s/service/?.lua"' % DEMO,
                      'lua_path = lua_path .. ";%s/lualib/?.lua"' % DEMO,
                      'demo_node = "%s"' % ("master" if nid == 1 else "game%d" % (nid - 1)),
                      'demo_roles = "%s"' % ("match,login,gate" if nid == 1 else "game"),
                      'demo_gate = "127.0.0.1:%d"' % self.gate_port,
                      'demo_health_file = "%s/demo%d.health"' % (self.c.dir, nid),
                      'demo_secret = "soak"', "demo_rooms = 2", "demo_room_cap = 16"]
        if nid == 2:
            if self.relay is None:
                self.relay = Relay(self.c.node(2).port)
            extra += ['harbor_listen = "%s"' % self.c.node(2).address,
                      'address = "127.0.0.1:%d"' % self.relay.port]
        n = self.c.start(nid, master=(nid == 1), extra=extra, wait_ready=False)
        self.c.wait(nid, r"SOAK READY %d" % nid, timeout=20)
        self.runs.append([nid, n.proc.pid, time.time(), None, [], n.log])

    def start_bots(self):
        cfg = os.path.join(self.c.dir, "bots.conf")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "thread = 2", "harbor = 0", 'start = "demo_bots"',
                'luaservice = luaservice .. ";%s/service/?.lua"' % DEMO,
                'lua_path = lua_path .. ";%s/lualib/?.lua"' % DEMO,
                'demo_connect = "127.0.0.1:%d"' % self.gate_port,
                "demo_bots = %d" % self.bots, "demo_per_bot = 10", 'demo_json = "1"',
                'demo_secret = "soak"']) + "\n")
        self.bots_log = os.path.join(self.c.dir, "bots.log")
        with open(self.bots_log, "w") as out:
            self.bots_proc = subprocess.Popen([self.c.skiff, cfg], stdout=out, stderr=subprocess.STDOUT,
                                              cwd=self.c.dir)

    def stop_bots(self):
        if self.bots_proc and self.bots_proc.poll() is None:
            self.bots_proc.kill()
            self.bots_proc.wait()

    def bots_stats(self):
        """(elapsed s, in_room, samples) of every STATS line the bots printed."""
        rows = []
        with open(self.bots_log, errors="replace") as f:
            for line in f:
                i = line.find("STATS ")
                if i >= 0:
                    try:
                        st = json.loads(line[i + 6:])
                    except ValueError:
                        continue
                    rows.append((st.get("t", 0), st.get("in_room", 0), st.get("samples", 0)))
        return rows

    def run_of(self, nid):
        return [r for r in self.runs if r[0] == nid and r[3] is None][-1]

    def sample(self):
        for r in self.runs:
            if r[3] is not None:
                continue
            try:
                with open("/proc/%d/status" % r[1]) as f:
                    m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
                if m:
                    r[4].append((time.time(), int(m.group(1))))
            except OSError:
                pass

    def sleep(self, s):
        end = time.time() + s
        while time.time() < end:
            self.sample()
            time.sleep(min(1.0, max(0.0, end - time.time())))

    def kill(self, nid):
        n = self.c.nodes[nid]
        n.proc.send_signal(signal.SIGKILL)
        n.proc.wait(10)
        self.run_of(nid)[3] = time.time()

    def fault(self):
        kind = self.rng.choices(["kill", "stop", "master", "cut"], [0.3, 0.3, 0.15, 0.25])[0]
        t = time.time()
        if kind == "kill":
            nid = self.rng.choice([n for n in (2, 3) if n != self.spare])
            self.kill(nid)
            self.sleep(self.rng.uniform(0.5, 2))
            self.start(nid)
            what = "kill -9 node %d, restarted" % nid
        elif kind == "master":
            self.kill(1)
            self.sleep(self.rng.uniform(1, 2))
            self.start(1)
            what = "kill -9 master (node 1), restarted"
        elif kind == "cut":
            d = self.rng.uniform(0.5, 4)
            self.relay.cut()
            self.sleep(d)
            self.relay.heal()
            what = "cut the link between nodes 2 and 3 for %.1fs" % d
        else:
            nid = self.rng.randint(1, NODES)
            d = self.rng.uniform(0.5, 4)
            p = self.c.nodes[nid].proc
            p.send_signal(signal.SIGSTOP)
            t0 = time.time()
            self.sleep(d)
            p.send_signal(signal.SIGCONT)
            self.stops[nid].append((t0, time.time()))
            what = "SIGSTOP node %d for %.1fs" % (nid, d)
        self.log.append("%7.1fs  %s" % (t - self.t_start, what))
        print(self.log[-1], flush=True)

    def soak(self, duration):
        self.t_start = time.time()
        for nid in range(1, NODES + 1):
            self.start(nid)
        if self.bots:
            self.start_bots()
        end = self.t_start + duration
        while time.time() < end - SETTLE:
            self.sleep(self.rng.uniform(3, 6))
            if time.time() < end - SETTLE:
                self.fault()
        self.sleep(max(0, end - time.time()))

    def stat(self, nid, text):
        ms = re.findall(r"SOAK STAT %d rx (\d+) anomalies (\d+) ok (\d+) fail (\d+) oldest ([\d.]+)" % nid, text)
        return [tuple(float(x) for x in m) for m in ms]

    def check(self):
        bound = self.timeout + 1
        problems = []
        # traffic flows again everywhere
        before = {nid: self.stat(nid, self.c.nodes[nid].text())[-1] for nid in self.c.nodes}
        self.sleep(4)
        for nid, n in self.c.nodes.items():
            if n.proc.poll() is not None:
                problems.append("node %d exited (%s)" % (nid, n.proc.returncode))
                continue
            last = self.stat(nid, n.text())[-1]
            if not (last[0] > before[nid][0] and last[2] > before[nid][2]):
                problems.append("node %d: traffic stopped: %r -> %r" % (nid, before[nid], last))
            if last[4] > bound:
                problems.append("node %d: a call has waited %.1fs" % (nid, last[4]))
        # every run's log
        counts = {"anomaly": 0, "slow": 0, "slow_own_stop": 0}
        for nid, pid, start, stop, samples, log in self.runs:
            with open(log, errors="replace") as f:
                text = f.read()
            for m in re.finditer(r"SOAK ANOMALY .*", text):
                counts["anomaly"] += 1
                problems.append("node %d: %s" % (nid, m.group(0)))
            for m in re.finditer(r"SOAK SLOWCALL (\d+) ([\d.]+) ([\d.]+)", text):
                dt, wall = float(m.group(2)), float(m.group(3))
                counts["slow"] += 1
                own = any(a < wall + dt + 0.5 and b > wall - 0.5 for a, b in self.stops[nid])
                if own:
                    counts["slow_own_stop"] += 1
                else:
                    problems.append("node %d: call to node %s took %.2fs (bound %.1fs)" % (nid, m.group(1), dt, bound))
            m = BAD_LOG.search(text)
            if m:
                problems.append("node %d log %s: %r" % (nid, os.path.basename(log),
                                                         text[max(0, m.start() - 300):m.end() + 300]))
        # the demo's bots: alive, and playing again at the end
        if self.bots:
            text = open(self.bots_log, errors="replace").read()
            if self.bots_proc.poll() is not None:
                problems.append("the bots process exited (%s): %s" % (self.bots_proc.returncode, text[-2000:]))
            rows = self.bots_stats()
            tail = rows[-5:]
            if not rows:
                problems.append("the bots printed no status: %s" % text[-2000:])
            elif not any(r[1] > 0 and r[2] > 0 for r in tail):
                problems.append("bots not playing at the end (in_room, samples): %r" % [(r[1], r[2]) for r in tail])
            else:
                print("bots: %d status lines; at the end %d of %d bots in rooms" % (len(rows), tail[-1][1], self.bots))
            m = BAD_LOG.search(text)
            if m:
                problems.append("bots log: %r" % text[max(0, m.start() - 300):m.end() + 300])
        # RSS
        rss = []
        for nid, pid, start, stop, samples, log in self.runs:
            if stop is not None:
                continue
            warm = [k for t, k in samples if WARM[0] <= t - start <= WARM[1]]
            if not warm or samples[-1][0] - start < WARM[1] + 20:
                continue
            w = statistics.median(warm)
            e = statistics.median([k for _, k in samples[-5:]])
            rss.append("node %d pid %d: %d KiB at warm-up, %d KiB at the end (%.0fs later)"
                       % (nid, pid, w, e, samples[-1][0] - start - WARM[1]))
            allowed = w * 1.25 + 16 * 1024 + (ASAN_QUARANTINE_MB * 1024 if self.asan else 0)
            if e > allowed:
                problems.append("node %d RSS grew: " % nid + rss[-1])
        totals = [self.stat(r[0], open(r[5], errors="replace").read()) for r in self.runs]
        rx = sum(int(s[-1][0]) for s in totals if s)
        ok = sum(int(s[-1][2]) for s in totals if s)
        bad = sum(int(s[-1][3]) for s in totals if s)
        print("faults: %d, node runs: %d, pushes received: %d, calls ok: %d, failed: %d, "
              "slow calls: %d (all during the caller's own SIGSTOP: %d)"
              % (len(self.log), len(self.runs), rx, ok, bad, counts["slow"], counts["slow_own_stop"]))
        for line in rss:
            print("RSS " + line)
        if not rss:
            problems.append("no node ran long enough to judge its RSS")
        if problems:
            fail("soak: %d problems:\n  " % len(problems) + "\n  ".join(problems[:40]))


def sanitized(skiff):
    """True for an ASan build: its allocator keeps freed memory in a quarantine
    (256 MiB by default) and never gives small blocks back, so RSS says little."""
    with open(skiff, "rb") as f:
        return b"libasan.so" in f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=2)
    ap.add_argument("--spare", type=int, choices=[2, 3], default=None)
    ap.add_argument("--bots", type=int, default=0, help="demo bots playing through the faults")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    asan = sanitized(a.skiff)
    if asan:
        # a small quarantine, so memory is still judged (with that much more allowed)
        os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                            "quarantine_size_mb=%d" % ASAN_QUARANTINE_MB]))
    print("soak: %.0fs, seed %d, harbor_timeout %s" % (a.duration, seed, a.timeout), flush=True)
    with mnlib.Cluster(a.skiff, timeout=a.timeout, nodes=NODES) as c:
        s = Soak(c, random.Random(seed), a.timeout, a.spare, a.bots, asan)
        try:
            s.soak(a.duration)
            s.check()
        except AssertionError:
            print("seed %d; faults:\n" % seed + "\n".join(s.log))
            raise
        finally:
            s.stop_bots()
            if s.relay:
                s.relay.close()
    print("soak: PASS")


if __name__ == "__main__":
    main()
