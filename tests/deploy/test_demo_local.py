#!/usr/bin/env python3
"""Drive the README's first command (tools/demo.sh) for 10 s, then stop it as Ctrl-C would.

usage: test_demo_local.py SOURCE_ROOT BUILD_ROOT multi|single

multi:  three node processes (master, game1, game2) linked by the harbor + a bots process.
        Asserts that every node carried cross-node traffic, every bot stayed in a room with no
        error, the status view showed nodes, players, msg/s and round trips, and that SIGINT
        to the demo's process group stops every process cleanly (exit 0, no process left).
        Before that, game2 is killed with SIGKILL: exactly its bots are re-matched to game1 with
        no error, the view shows "CHANGE: node game2 down"; demo.sh starts it again and the
        view shows it back.
single: the same demo with every role in one node (harbor 0): both logical game nodes host
        players and every node counts traffic.
Both: the addresses the demo prints answer: every node's dashboard (the page; json/overview
with the token lists the cluster's nodes with their load; no token or a wrong one: 401), its
/metrics with the metrics token, and the Prometheus it started has every node's target up and
returns a Skiff metric from each (Debian package prometheus; without it the test fails).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import queue
import shutil
import re

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from observe import Fail, check_printed  # noqa: E402

BOTS = 20
RUN_SECONDS = 10


def fail(msg, out=None):
    if out:
        print("---- demo output ----")
        print(out[-6000:])
    print("FAIL: " + msg)
    sys.exit(1)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive for our purpose
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def crash_and_rejoin(run_dir, steady, stats, out_lines, read_until, read_pids):
    """game2 is killed (SIGKILL, a crash): its bots get "room lost" and are re-matched to game1,
    nobody sees an error, the view shows it down; demo.sh starts it again and the view shows it
    back.  Returns a summary line."""
    before = steady[-1]
    on_game2 = before["by_node"].get("game2", 0)
    if on_game2 <= 0:
        fail("no bots on game2 before the crash: %s" % before["by_node"], "".join(out_lines))
    with open(os.path.join(run_dir, "game2.pid")) as fh:
        pid = int(fh.read().strip())
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    n0 = len(stats)

    def rematched():
        s = stats[-1]
        return (len(stats) > n0 and s["in_room"] == BOTS and s["by_node"].get("game2", 0) == 0
                and s["lost"] >= on_game2 and s["cluster"] and not s["cluster"]["nodes"]["game2"]["up"])
    read_until(rematched, 20, "game2's bots re-matched and game2 shown down")
    t_rematch = time.monotonic() - t0

    def back():
        s = stats[-1]
        return (s["cluster"] and s["cluster"]["nodes"]["game2"]["up"]
                and any(e["node"] == "game2" and e["what"] == "back" for e in s["cluster"]["events"])
                and any("CHANGE: node game2 back" in l for l in out_lines))
    read_until(back, 30, "game2 started again and back in the matchmaker's view")
    t_back = time.monotonic() - t0
    read_pids()
    out = "".join(out_lines)
    for want in ("CHANGE: node game2 down", "node game2 (pid %d) exited" % pid, "node game2 started again"):
        if want not in out:
            fail("no %r in the demo's output" % want, out)
    after = stats[-1]
    if max(s["errors"] for s in stats) != 0:
        fail("bots saw errors around the crash: %s" % after["last_errors"], out)
    if after["lost_by_node"] != {"game2": on_game2} or after["rematched"] != on_game2:
        fail("lost %s, re-matched %d; expected exactly the %d bots of game2" % (
            after["lost_by_node"], after["rematched"], on_game2), out)
    if after["in_room"] != BOTS:
        fail("%d of %d bots in a room after the crash" % (after["in_room"], BOTS), out)
    return ("game2 killed: %d bots re-matched in %.1f s, no errors; game2 back after %.1f s" % (
        on_game2, t_rematch, t_back))


def check_addresses(out, run_dir, mode):
    """What the demo printed before the bots started: each node's dashboard, /metrics and the
    Prometheus address.  Returns a summary line."""
    names = ["master", "game1", "game2"] if mode == "multi" else ["solo"]
    ids = [1, 2, 3] if mode == "multi" else [0]
    with open(os.path.join(run_dir, "console.token")) as f:
        token = f.read().strip()
    with open(os.path.join(run_dir, "metrics.token")) as f:
        metrics_token = f.read().strip()
    summary = check_printed(out, names, ids, {n: token for n in names}, metrics_token,
                            lambda name: "0" * len(token))
    return "; ".join(summary)


def main():
    src, build, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode not in ("multi", "single"):
        fail("mode must be multi or single, not %r" % mode)
    run_dir = tempfile.mkdtemp(prefix="skiff-demo-test-")
    env = dict(os.environ, SKIFF_BUILD=build, DEMO_JSON="1")
    cmd = [os.path.join(src, "tools", "demo.sh"), "--bots", str(BOTS), "--run-dir", run_dir,
           "--" + mode]
    # SIGINT as a terminal leaves it to a foreground job: not ignored, whatever we inherited (a
    # non-interactive shell starts background jobs with SIGINT ignored, and bash cannot trap a
    # signal that was ignored when it started)
    p = subprocess.Popen(cmd, cwd=src, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    out_lines = []
    stats = []
    pids = {}
    lines = queue.Queue()

    def pump():
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    def read_pids():
        for f in os.listdir(run_dir):
            if f.endswith(".pid"):
                try:
                    with open(os.path.join(run_dir, f)) as fh:
                        pids.setdefault(f[:-4], set()).add(int(fh.read().strip()))
                except (OSError, ValueError):
                    pass

    def read_until(done, timeout, what):
        """Reads the demo's output until done() is true; fails after timeout s."""
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                fail("%s: not within %d s" % (what, timeout), "".join(out_lines))
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                p.wait()
                fail("the demo exited early with status %s" % p.returncode, "".join(out_lines))
            out_lines.append(line)
            if line.startswith("STATS "):
                stats.append(json.loads(line[6:]))

    threading.Thread(target=pump, daemon=True).start()
    failover = None
    try:
        read_until(lambda: stats, 120, "the first status line")
        read_pids()
        try:
            observed = check_addresses("".join(out_lines), run_dir, mode)
        except Fail as e:
            fail(str(e), "".join(out_lines))
        first = time.monotonic()
        read_until(lambda: time.monotonic() - first >= RUN_SECONDS, RUN_SECONDS + 5, "steady play")
        steady = list(stats)
        if mode == "multi":
            failover = crash_and_rejoin(run_dir, steady, stats, out_lines, read_until, read_pids)
        read_pids()
        # Ctrl-C: SIGINT to the whole foreground process group
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            fail("the demo did not stop within 60 s of SIGINT", "".join(out_lines))
        while True:
            line = lines.get(timeout=10)
            if line is None:
                break
            out_lines.append(line)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        # the nodes run in sessions of their own: a demo.sh that did not stop them leaves their
        # pid files; stop what they name (the checks below still fail the test)
        for f in os.listdir(run_dir):
            if f.endswith(".pid"):
                try:
                    with open(os.path.join(run_dir, f)) as fh:
                        pid = int(fh.read().strip())
                    if alive(pid):
                        os.kill(pid, signal.SIGKILL)
                except (OSError, ValueError):
                    pass
    out = "".join(out_lines)
    if p.returncode != 0:
        fail("the demo exited with status %d after SIGINT" % p.returncode, out)
    if "every node exited cleanly" not in out:
        fail("the demo did not report a clean stop", out)
    left = [n for n, ps in pids.items() for pid in ps if alive(pid)]
    if left:
        fail("processes still running after the demo stopped: %s" % left, out)
    expected_nodes = {"master", "bots", "game1", "game2"} if mode == "multi" else {"solo", "bots"}
    expected_nodes.add("prometheus")
    if not expected_nodes <= set(pids):
        fail("expected processes %s, saw pid files for %s" % (sorted(expected_nodes), sorted(pids)), out)
    if any(f.endswith(".pid") for f in os.listdir(run_dir)):
        fail("pid files left in %s: %s" % (run_dir, os.listdir(run_dir)), out)

    stats = steady
    if len(stats) < RUN_SECONDS - 2:
        fail("only %d status lines in %d s" % (len(stats), RUN_SECONDS), out)
    last = stats[-1]
    errors = max(s["errors"] for s in stats)
    if errors:
        fail("the bots saw %d errors: %s" % (errors, last["last_errors"]), out)
    if last["in_room"] != BOTS:
        fail("%d of %d bots in a room at the end" % (last["in_room"], BOTS), out)
    if sum(s["samples"] for s in stats) < BOTS * 5:
        fail("too few round trips measured", out)
    cl = last["cluster"]
    if not cl:
        fail("no cluster view from the gate", out)
    nodes = cl["nodes"]
    want = {"master", "game1", "game2"} if mode == "multi" else {"solo", "game1", "game2"}
    if set(nodes) != want:
        fail("cluster nodes %s, expected %s" % (sorted(nodes), sorted(want)), out)
    for name, n in nodes.items():
        if not n["up"]:
            fail("node %s is down" % name, out)
        seen = [s["cluster"]["nodes"].get(name, {}) for s in stats if s["cluster"]]
        busiest = max([x.get("msgs", 0) for x in seen] or [0])
        if busiest <= 0:
            fail("node %s never handled a message" % name, out)
        if mode == "multi":
            remote = max([x.get("remote", 0) for x in seen] or [0])
            if remote <= 0:
                fail("node %s received no cross-node message" % name, out)
    if mode == "multi":
        ids = {name: n["harbor"] for name, n in nodes.items()}
        if ids != {"master": 1, "game1": 2, "game2": 3}:
            fail("harbor ids in the cluster view: %s" % ids, out)
    # the human view: one line a second with nodes up, players per node, msg/s and round trips
    view = re.compile(r"^\[\s*\d+s\] nodes 3/3 up \| players game1=\d+ game2=\d+ \(gate \S+=\d+\) \| "
                      r"\d+ msg/s, \d+ cross-node \| rtt p50 [\d.]+ ms p99 [\d.]+ ms \| bots \d+/%d in rooms, "
                      r"0 errors, 0 re-matched$" % BOTS, re.M)
    if len(view.findall(out)) < RUN_SECONDS - 3:
        fail("fewer than %d status view lines like '[  5s] nodes 3/3 up | players game1=..'" % (RUN_SECONDS - 3), out)
    for g in ("game1", "game2"):
        if last["by_node"].get(g, 0) <= 0 or nodes[g]["players"] <= 0:
            fail("no players on %s: bots %s, cluster %s" % (g, last["by_node"], nodes[g]), out)
    print("OK: %s demo, %d bots, %d status lines, p50 %.2f ms, p99 %.2f ms, nodes %s" % (
        mode, BOTS, len(stats), last["rtt_p50"], last["rtt_p99"],
        {k: (v["players"], v["msgs"], v["remote"]) for k, v in nodes.items()}))
    if failover:
        print("OK: " + failover)
    print("OK: " + observed)
    shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
