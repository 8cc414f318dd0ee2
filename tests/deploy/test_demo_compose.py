#!/usr/bin/env python3
"""tools/demo.sh --compose, end to end: the demo cluster in containers, run the way the README
tells an operator to.

usage: test_demo_compose.py SOURCE_ROOT

The demo builds the images (no registry), issues the secrets, brings the cluster up and prints
the addresses it reads back from `docker port`.  Checked: every printed address is on
127.0.0.1; each node's dashboard answers there (the page; json/overview with the node's token
lists the three nodes with their load; no token or another node's token: 401; a foreign
Origin: 403), /metrics wants the metrics token, and the printed Prometheus has every node up
and returns a Skiff metric from each.  The bots run for DURATION s; then the demo exits 0 with
no bot error and leaves no container or network of its project.  The images it tagged are
removed at the end.

Exits 77 only when no Docker engine (or no compose) is reachable.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from observe import Fail, check_printed  # noqa: E402
from test_docker import NODES, TEST_IMAGES, Cluster, docker_compose  # noqa: E402

DURATION = 45           # s of play; the checks run meanwhile
START_TIMEOUT = 1200    # s until the addresses are printed (image builds included; one run took 550 s)


def read_until(p, lines, done, timeout, what):
    end = time.monotonic() + timeout
    while not done():
        if p.poll() is not None and not reader_alive(lines):
            raise Fail("the demo exited (%s) before %s" % (p.returncode, what))
        if time.monotonic() > end:
            raise Fail("%s: not within %d s" % (what, timeout))
        time.sleep(0.2)


def reader_alive(lines):
    return lines and lines[-1] is not None


def check(out, secrets):
    tokens = {}
    for name in NODES:
        with open(os.path.join(secrets, name + ".console-token")) as f:
            tokens[name] = f.read().strip()
    with open(os.path.join(secrets, "metrics.token")) as f:
        metrics_token = f.read().strip()
    # every printed address: 127.0.0.1 (compose publishes nothing on other interfaces)
    for addr in re.findall(r"(?:http://)?(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]*\]|0\.0\.0\.0):\d+", out):
        if addr != "127.0.0.1":
            raise Fail("the demo printed an address on %s, expected 127.0.0.1 only" % addr)
    return check_printed(out, NODES, [1, 2, 3], tokens, metrics_token,
                         lambda name: tokens[NODES[(NODES.index(name) + 1) % len(NODES)]])


def main():
    start = time.monotonic()
    src = os.path.abspath(sys.argv[1])
    compose = docker_compose()
    if compose is None:
        return 77
    run_dir = tempfile.mkdtemp(prefix="skiff-compose-demo-test-")
    project = "skiffdemotest%d" % os.getpid()
    env = dict(os.environ, SKIFF_COMPOSE_PROJECT=project, **TEST_IMAGES)
    p = subprocess.Popen([os.path.join(src, "tools", "demo.sh"), "--compose", "--bots", "8",
                          "--duration", str(DURATION), "--run-dir", run_dir],
                         cwd=src, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1)
    lines = []

    def pump():
        for line in p.stdout:
            lines.append(line)
        lines.append(None)
    threading.Thread(target=pump, daemon=True).start()

    def out():
        return "".join(l for l in lines if l is not None)
    status = 0
    try:
        read_until(p, lines, lambda: re.search(r"^demo: gate ", out(), re.M), START_TIMEOUT,
                   "the printed addresses")
        print("addresses printed %.0f s after the start" % (time.monotonic() - start))
        for line in check(out(), os.path.join(run_dir, "secrets")):
            print(line)
        p.wait(timeout=DURATION + 120)
        read_until(p, lines, lambda: lines and lines[-1] is None, 30, "the end of the output")
        text = out()
        if p.returncode != 0:
            raise Fail("the demo exited with status %d" % p.returncode)
        for want in ("DEMO DONE errors=0", "demo: the bots exited with status 0", "demo: stopped"):
            if want not in text:
                raise Fail("no %r in the demo's output" % want)
        views = re.findall(r"^\[\s*\d+s\] nodes 3/3 up \|", text, re.M)
        if len(views) < DURATION // 2:
            raise Fail("only %d status view lines in %d s of play" % (len(views), DURATION))
        print("demo ran %d s of play (%d status lines) and stopped cleanly" % (DURATION, len(views)))
    except (Fail, subprocess.TimeoutExpired) as e:
        print("---- demo output ----\n" + out()[-6000:])
        print("FAIL: %s" % e)
        status = 1
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)   # Ctrl-C: the demo takes the cluster down
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        cl = Cluster(src, compose, env, project)
        left = cl.leftovers()
        if left:
            print("FAIL: the demo left %s" % left)
            cl.c("down", "-v", "--remove-orphans", "-t", "5", check=False, timeout=180)
            status = 1
        subprocess.run(["docker", "image", "rm"] + list(TEST_IMAGES.values()), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)
    print("compose demo test took %.0f s" % (time.monotonic() - start))
    return status


if __name__ == "__main__":
    sys.exit(main())
