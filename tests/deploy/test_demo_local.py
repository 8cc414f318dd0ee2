#!/usr/bin/env python3
"""Drive the README's first command (tools/demo.sh) for 10 s, then stop it as Ctrl-C would.

usage: test_demo_local.py SOURCE_ROOT BUILD_ROOT multi|single

multi:  three node processes (master, game1, game2) + bots; needs the harbor. Asserts that every
        node carried cross-node traffic, every bot stayed in a room with no error, and that
        SIGINT to the demo's process group stops every process cleanly (exit 0, no process
        left).  Exits 77 when the tree has no harbor yet.
single: the same demo with every role in one node (harbor 0): both logical game nodes host
        players and every node counts traffic.
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


def main():
    src, build, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "multi" and not os.path.exists(os.path.join(src, "services", "cslave.lua")):
        print("SKIP: this tree has no harbor yet (services/cslave.lua is missing); "
              "the three-process demo needs it")
        return 77
    run_dir = tempfile.mkdtemp(prefix="skiff-demo-test-")
    env = dict(os.environ, SKIFF_BUILD=build, DEMO_JSON="1")
    cmd = [os.path.join(src, "tools", "demo.sh"), "--bots", str(BOTS), "--run-dir", run_dir,
           "--" + mode]
    p = subprocess.Popen(cmd, cwd=src, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1)
    out_lines = []
    stats = []
    pids = {}
    first = None
    lines = queue.Queue()

    def pump():
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 120
    try:
        while True:
            now = time.monotonic()
            if now > deadline:
                fail("the demo showed no status within 120 s", "".join(out_lines))
            if first is not None and now - first >= RUN_SECONDS:
                break
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
                if first is None:
                    first = time.monotonic()
                    for f in os.listdir(run_dir):
                        if f.endswith(".pid"):
                            with open(os.path.join(run_dir, f)) as fh:
                                pids[f[:-4]] = int(fh.read().strip())
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
    out = "".join(out_lines)
    if p.returncode != 0:
        fail("the demo exited with status %d after SIGINT" % p.returncode, out)
    if "every node exited cleanly" not in out:
        fail("the demo did not report a clean stop", out)
    left = [n for n, pid in pids.items() if alive(pid)]
    if left:
        fail("processes still running after the demo stopped: %s" % left, out)
    expected_nodes = {"master", "bots", "game1", "game2"} if mode == "multi" else {"solo", "bots"}
    if not expected_nodes <= set(pids):
        fail("expected processes %s, saw pid files for %s" % (sorted(expected_nodes), sorted(pids)), out)

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
    for g in ("game1", "game2"):
        if last["by_node"].get(g, 0) <= 0 or nodes[g]["players"] <= 0:
            fail("no players on %s: bots %s, cluster %s" % (g, last["by_node"], nodes[g]), out)
    print("OK: %s demo, %d bots, %d status lines, p50 %.2f ms, p99 %.2f ms, nodes %s" % (
        mode, BOTS, len(stats), last["rtt_p50"], last["rtt_p99"],
        {k: (v["players"], v["msgs"], v["remote"]) for k, v in nodes.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
