#!/usr/bin/env python3
"""The demo cluster under docker compose, end to end.

usage: test_docker.py SOURCE_ROOT

1. Build the node image (deploy/build-image.sh: cached debootstrap base, cached layers; the base
   is made when missing).
   The Prometheus image too (deploy/build-prometheus-image.sh: Debian's package, same base).
2. compose up (master, game1, game2, bots, prometheus); wait until the three nodes are healthy,
   which they are only once joined: harbor ready, harbor link to the matchmaker's node up, known
   to the matchmaker.  Each node holds only the cluster's public key, its own credential and
   console token (0600 inside) and the metrics token, never the signing key or another node's
   secrets, and the health check says no to a node that is still joining or whose health file
   went stale.
   Observability: every published port is bound to 127.0.0.1 only (`docker port`); every
   node's dashboard answers on its port (GET / is the page; json/overview with the node's token
   lists the three nodes, each with its load, so every console answers; no token or another
   node's token: 401; a foreign Origin: 403); /metrics on the published port wants the metrics token; Prometheus
   shows every node's target up and a PromQL query returns a Skiff metric from every node.
3. Bots play for 20 s: messages must cross every node, no bot may see an error.
4. compose stop game2: it exits 0 on SIGTERM; the bots that were in its rooms get "room lost"
   and are re-matched to game1; nobody else sees anything but normal play; the bots' status
   view shows "CHANGE: node game2 down".
5. compose start game2: it becomes healthy again, the matchmaker sees it back
   ("CHANGE: node game2 back") and new players are placed on it.
6. compose down: no container, network or volume of the project is left; the two images the
   test tagged are removed (the debootstrap base and the build-stage cache stay: caches).

Exits 77 only when no Docker engine (or no compose) is reachable.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import free_port  # noqa: E402
from observe import Fail, check_dashboard, check_metrics, check_prometheus  # noqa: E402

NODES = ("master", "game1", "game2")
# the image tags the Docker tests build and remove again (test_demo_compose.py too)
TEST_IMAGES = {"SKIFF_IMAGE": "skiff-demo:test", "SKIFF_PROMETHEUS_IMAGE": "skiff-prometheus:test"}
BOTS = 24
EXTRA_BOTS = 8
TOTAL_DEADLINE = 900  # seconds, image build included


def run(cmd, check=True, timeout=600, env=None, capture=True):
    p = subprocess.run(cmd, env=env, timeout=timeout, text=True,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.STDOUT if capture else None)
    if check and p.returncode != 0:
        raise Fail("%s exited %d:\n%s" % (" ".join(cmd), p.returncode, (p.stdout or "")[-4000:]))
    return p


def compose_command():
    for cmd in (["docker", "compose"], ["docker-compose"]):
        try:
            if subprocess.run(cmd + ["version"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0:
                return cmd
        except (OSError, subprocess.TimeoutExpired):
            pass
    return None


def docker_compose():
    """The compose command, or None (after saying why) when no Docker engine or no compose is
    reachable: the one case in which the Docker tests skip (77)."""
    if shutil.which("docker") is None:
        print("SKIP: no docker client on this machine")
        return None
    p = subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        print("SKIP: no Docker engine is reachable (docker info: %s)" % p.stderr.strip().splitlines()[-1:])
        return None
    compose = compose_command()
    if compose is None:
        print("SKIP: neither 'docker compose' nor 'docker-compose' works here")
    return compose


class Cluster:
    def __init__(self, src, compose, env, project):
        self.src, self.compose, self.env, self.project = src, compose, env, project
        self.file = os.path.join(src, "deploy", "docker-compose.yml")

    def c(self, *args, check=True, timeout=300):
        return run(self.compose + ["-p", self.project, "-f", self.file] + list(args),
                   check=check, timeout=timeout, env=self.env)

    def container(self, service):
        out = self.c("ps", "-q", service).stdout.strip().splitlines()
        return out[-1].strip() if out else None

    def health(self, service):
        cid = self.container(service)
        if not cid:
            return "missing"
        p = run(["docker", "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}", cid],
                check=False)
        return p.stdout.strip()

    def wait_healthy(self, services, timeout):
        end = time.monotonic() + timeout
        while True:
            states = {s: self.health(s) for s in services}
            if all(v == "healthy" for v in states.values()):
                return
            if time.monotonic() > end:
                raise Fail("not healthy within %d s: %s\n%s" % (timeout, states, self.logs_tail()))
            time.sleep(1)

    def logs(self, service):
        cid = self.container(service)
        if not cid:
            return ""
        return run(["docker", "logs", cid], check=False).stdout

    def logs_tail(self):
        return self.c("logs", "--tail", "25", check=False).stdout[-6000:]

    def stats(self, service="bots"):
        out = []
        for line in self.logs(service).splitlines():
            i = line.find("STATS ")
            if i >= 0:
                try:
                    out.append(json.loads(line[i + 6:]))
                except ValueError:
                    pass
        return out

    def wait_stats(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while True:
            st = self.stats()
            if st and pred(st[-1]):
                return st
            if time.monotonic() > end:
                raise Fail("%s: not within %d s; last status %s\n%s" % (
                    what, timeout, json.dumps(st[-1]) if st else None, self.logs_tail()))
            time.sleep(1)

    def leftovers(self):
        label = "label=com.docker.compose.project=" + self.project
        left = []
        for kind in (["ps", "-a", "-q"], ["network", "ls", "-q"], ["volume", "ls", "-q"]):
            ids = run(["docker"] + kind + ["--filter", label], check=False).stdout.split()
            if ids:
                left.append("%s: %s" % (kind[0], ids))
        return left


def assert_no_errors(stats, phase):
    worst = max(s["errors"] for s in stats)
    if worst:
        raise Fail("%s: the bots saw %d errors: %s" % (phase, worst, stats[-1]["last_errors"]))


def log_order(text, first, then, what):
    i, j = text.find(first), text.find(then)
    if i < 0 or j < 0 or j < i:
        raise Fail("%s: expected %r before %r in the log:\n%s" % (what, first, then, text[-3000:]))


def check_node_basics(cl):
    # the credential reaches the node user, with the mode the harbor insists on
    mode = cl.c("exec", "-T", "game1", "stat", "-L", "-c", "%a",
                "/run/secrets/game1_credential").stdout.strip()
    if mode != "600":
        raise Fail("game1's credential in the container has mode %r, expected 600" % mode)
    # and it is all the node holds: no signing key, no other node's credential
    held = sorted(cl.c("exec", "-T", "game1", "ls", "/run/secrets").stdout.split())
    if held != ["cluster_pub", "game1_console_token", "game1_credential", "metrics_token"]:
        raise Fail("game1 holds secrets %r, expected only cluster_pub, game1_credential, "
                   "game1_console_token and metrics_token" % held)
    # the health check says no to a node that is still joining or whose file went stale
    for content in ("joining game1 $(date +%s) no-link-to-node-1", "joined game1 $(( $(date +%s) - 30 ))"):
        p = cl.c("exec", "-T", "game1", "sh", "-c",
                 'echo "%s" >/tmp/h && SKIFF_HEALTH_FILE=/tmp/h skiff-healthcheck' % content, check=False)
        if p.returncode == 0:
            raise Fail("skiff-healthcheck passed a health file %r: %s" % (content, p.stdout))
    # a game node became healthy only after its harbor link to the master node was up
    for g in ("game1", "game2"):
        log_order(cl.logs(g), "harbor link to node 1 up", "NODE %s JOINED" % g, g)


def check_loopback_only(cl, services):
    # every published port: 127.0.0.1 on the host, nothing on other interfaces
    for service in services:
        lines = run(["docker", "port", cl.container(service)]).stdout.split("\n")
        lines = [l.strip() for l in lines if l.strip()]
        if not lines:
            raise Fail("%s publishes no port" % service)
        for line in lines:
            inside, _, host = line.partition(" -> ")
            if not host.startswith("127.0.0.1:"):
                raise Fail("%s publishes %s on %s, expected 127.0.0.1 only:\n%s" % (
                    service, inside, host, "\n".join(lines)))


def check_observability(cl, ports, tokens):
    check_loopback_only(cl, NODES + ("prometheus",))
    for i, name in enumerate(NODES):
        base = "http://127.0.0.1:%d" % ports[name + "_console"]
        other = tokens[NODES[(i + 1) % len(NODES)]]
        state = check_dashboard(name, base, tokens[name], [1, 2, 3], wrong_token=other)
        print("%s dashboard on %s: %s" % (name, base, state))
        check_metrics(name, "http://127.0.0.1:%d/metrics" % ports[name + "_metrics"], tokens["metrics"])
    print("prometheus: " + check_prometheus("http://127.0.0.1:%d" % ports["prometheus"], NODES))


def multi_node(cl, ports, tokens):
    t = time.monotonic()
    cl.c("up", "-d", timeout=600)
    cl.wait_healthy(list(NODES) + ["prometheus"], 120)
    print("nodes healthy %.0f s after compose up" % (time.monotonic() - t))
    check_node_basics(cl)
    check_observability(cl, ports, tokens)
    # bots are all playing, on both game nodes
    cl.wait_stats(lambda s: s["in_room"] == BOTS and s["cluster"] and s["cluster"]["up"] == 3, 90,
                  "all bots in rooms with 3 nodes up")
    t0 = len(cl.stats())
    time.sleep(20)
    st = cl.stats()
    window = st[t0:]
    if len(window) < 15:
        raise Fail("only %d status lines in 20 s" % len(window))
    assert_no_errors(st, "steady play")
    ids = {name: n["harbor"] for name, n in st[-1]["cluster"]["nodes"].items()}
    if ids != {"master": 1, "game1": 2, "game2": 3}:
        raise Fail("harbor ids in the cluster view: %s" % ids)
    for name in ("master", "game1", "game2"):
        seen = [s["cluster"]["nodes"].get(name, {}) for s in window if s["cluster"]]
        remote = max([n.get("remote", 0) for n in seen] or [0])
        msgs = max([n.get("msgs", 0) for n in seen] or [0])
        if remote <= 0 or msgs <= 0:
            raise Fail("node %s: msgs/s %d, cross-node msgs/s %d; expected traffic across it" % (name, msgs, remote))
    before = st[-1]
    on_game2 = before["by_node"].get("game2", 0)
    if on_game2 <= 0 or before["by_node"].get("game1", 0) <= 0:
        raise Fail("bots not spread over both game nodes: %s" % before["by_node"])
    if before["lost"] != 0:
        raise Fail("rooms lost before any node stopped: %s" % before["lost_by_node"])
    print("steady play OK: %s, p50 %.2f ms, p99 %.2f ms, cross-node msg/s %s" % (
        before["by_node"], before["rtt_p50"], before["rtt_p99"],
        {k: v["remote"] for k, v in before["cluster"]["nodes"].items()}))

    # stop one game node: SIGTERM, a clean exit
    cid = cl.container("game2")
    t = time.monotonic()
    cl.c("stop", "-t", "20", "game2")
    stop_s = time.monotonic() - t
    code = run(["docker", "inspect", "-f", "{{.State.ExitCode}}", cid]).stdout.strip()
    if code != "0":
        raise Fail("game2 exited %s on SIGTERM:\n%s" % (code, cl.logs("game2")[-3000:]))
    if "SIGTERM received" not in cl.logs("game2"):
        raise Fail("game2's log does not show the SIGTERM shutdown")
    st = cl.wait_stats(lambda s: s["in_room"] == BOTS and s["by_node"].get("game2", 0) == 0
                       and s["lost"] >= on_game2, 60, "bots re-matched after game2 stopped")
    n = len(st)
    time.sleep(5)
    st = cl.stats()
    after = st[-1]
    assert_no_errors(st, "game2 stopped")
    if set(after["lost_by_node"]) != {"game2"} or after["lost_by_node"]["game2"] != on_game2:
        raise Fail("rooms lost %s; expected exactly the %d bots that were on game2" % (after["lost_by_node"], on_game2))
    if after["rematched"] != on_game2:
        raise Fail("%d re-matched, expected %d" % (after["rematched"], on_game2))
    if after["by_node"].get("game1", 0) != BOTS:
        raise Fail("after game2 stopped, bots by node %s; expected all %d on game1" % (after["by_node"], BOTS))
    if sum(s["samples"] for s in st[n:]) < BOTS:
        raise Fail("play did not go on after game2 stopped")
    nodes = after["cluster"]["nodes"] if after["cluster"] else {}
    if nodes.get("game2", {}).get("up", True) or not nodes.get("game1", {}).get("up"):
        raise Fail("matchmaker view after stopping game2: %s" % nodes)
    if "CHANGE: node game2 down" not in cl.logs("bots"):
        raise Fail("the bots' status view shows no 'CHANGE: node game2 down'")
    print("game2 stopped (exit 0 in %.1f s): %d bots re-matched to game1, no errors" % (stop_s, on_game2))

    # start it again: it rejoins with the same harbor id
    t = time.monotonic()
    cl.c("start", "game2")
    cl.wait_healthy(["game2"], 90)
    cl.wait_stats(lambda s: s["cluster"] and s["cluster"]["nodes"].get("game2", {}).get("up")
                  and any(e["node"] == "game2" and e["what"] == "back" for e in s["cluster"]["events"]),
                  30, "game2 back in the matchmaker's view")
    rejoin_s = time.monotonic() - t
    assert_no_errors(cl.stats(), "game2 restarted")
    if "CHANGE: node game2 back" not in cl.logs("bots"):
        raise Fail("the bots' status view shows no 'CHANGE: node game2 back'")
    # new players land on the rejoined node: a second bots run joins next to the first
    p = cl.c("run", "--rm", "--no-deps", "-e", "DEMO_DURATION=5", "-e", "DEMO_JSON=1",
             "-e", "DEMO_BOTS=%d" % EXTRA_BOTS, "bots", timeout=120)
    extra = [json.loads(l[l.find("STATS ") + 6:]) for l in p.stdout.splitlines() if "STATS " in l]
    if not extra or "DEMO DONE errors=0" not in p.stdout:
        raise Fail("second bots run:\n" + p.stdout[-4000:])
    if extra[-1]["by_node"].get("game2", 0) <= 0:
        raise Fail("no new player was placed on the rejoined game2: %s" % extra[-1]["by_node"])
    assert_no_errors(cl.stats(), "after the second bots run")
    print("game2 rejoined in %.1f s; new players on it: %s" % (rejoin_s, extra[-1]["by_node"]))


def main():
    src = os.path.abspath(sys.argv[1])
    compose = docker_compose()
    if compose is None:
        return 77
    start = time.monotonic()
    env = dict(os.environ, **TEST_IMAGES)
    try:
        status = build_and_run(src, compose, env, start)
    finally:
        run(["docker", "image", "rm"] + list(TEST_IMAGES.values()), check=False)
    print("docker test took %.0f s" % (time.monotonic() - start))
    return status


def build_and_run(src, compose, env, start):
    for script in ("build-image.sh", "build-prometheus-image.sh"):
        b = run([os.path.join(src, "deploy", script), "-q"], env=env, timeout=TOTAL_DEADLINE, check=False)
        if b.returncode != 0:
            print(b.stdout[-6000:])
            print("FAIL: deploy/%s did not build its image" % script)
            return 1
    print("images built in %.0f s" % (time.monotonic() - start))
    if os.getuid() != 0:
        # the key file is bind-mounted as it is: run the nodes as its owner (deploy/README.md)
        env.update(SKIFF_UID=str(os.getuid()), SKIFF_GID=str(os.getgid()))
    tmp = tempfile.mkdtemp(prefix="skiff-docker-test-")
    secrets = os.path.join(tmp, "secrets")
    run([os.path.join(src, "deploy", "make-credentials.sh"), secrets], env=env)
    tokens = {}
    for name in NODES:
        with open(os.path.join(secrets, name + ".console-token")) as f:
            tokens[name] = f.read().strip()
    with open(os.path.join(secrets, "metrics.token")) as f:
        tokens["metrics"] = f.read().strip()
    # eight distinct host ports (free_port may hand out a port twice once it is closed again)
    picked = set()
    while len(picked) < 8:
        picked.add(free_port())
    picked = sorted(picked)
    ports = {"prometheus": picked.pop(), "gate": picked.pop()}
    for name in NODES:
        ports[name + "_console"] = picked.pop()
        ports[name + "_metrics"] = picked.pop()
        env["SKIFF_%s_CONSOLE_PORT" % name.upper()] = str(ports[name + "_console"])
        env["SKIFF_%s_METRICS_PORT" % name.upper()] = str(ports[name + "_metrics"])
    env.update(SKIFF_SECRETS_DIR=secrets, SKIFF_GATE_PORT=str(ports["gate"]), DEMO_BOTS=str(BOTS),
               DEMO_JSON="1", DEMO_DURATION="0", SKIFF_PROMETHEUS_PORT=str(ports["prometheus"]))
    cl = Cluster(src, compose, env, "skiffdeploy%d" % os.getpid())
    status = 0
    try:
        multi_node(cl, ports, tokens)
    except (Fail, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        status = 1
    finally:
        down = cl.c("down", "-v", "--remove-orphans", "-t", "20", check=False, timeout=180)
        left = cl.leftovers()
        if down.returncode != 0 or left:
            print("FAIL: compose down left %s\n%s" % (left, down.stdout[-2000:]))
            status = 1
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
