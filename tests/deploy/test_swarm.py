#!/usr/bin/env python3
"""The demo cluster on Docker Swarm (deploy/docker-stack.yml), against the local engine.

usage: test_swarm.py SOURCE_ROOT BUILD_ROOT

1. `docker swarm init` when the engine is not in a swarm yet (and `docker swarm leave
   --force` at the end, only then); build the node image (deploy/build-image.sh, tag
   skiff-swarm-test:latest, cached base and layers); a shared cluster key made with this
   build's skiff.
2. `docker stack deploy --resolve-image never` of the stack: master (harbor 1) and two game
   tasks, whose harbor ids come from their slots (slot 1 -> node 2, slot 2 -> node 3); wait
   until all three tasks are healthy (joined) and the master has seen nodes 2 and 3 join.
3. Kill game slot 2's container with SIGKILL: the master declares node 3 down; Swarm starts a
   new task in slot 2, which rejoins as node 3 (same id, new incarnation) and is healthy again.
4. `docker stack rm`: no container, service, network or secret of the stack is left; a swarm
   this test made is left again, with the docker_gwbridge network it brought.

Exits 77 with a line saying why only when no Docker engine is reachable.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import free_port  # noqa: E402

IMAGE = "skiff-swarm-test:latest"


class Fail(Exception):
    pass


def run(cmd, check=True, timeout=300, env=None):
    p = subprocess.run(cmd, env=env, timeout=timeout, text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if check and p.returncode != 0:
        raise Fail("%s exited %d:\n%s" % (" ".join(cmd), p.returncode, p.stdout[-4000:]))
    return p


def wait_for(what, pred, timeout):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Fail("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(1)


class Stack:
    def __init__(self, name):
        self.name = name

    def tasks(self):
        """{slot name (master.1, game.2): (container id, status)} of running containers."""
        out = run(["docker", "ps", "--filter", "label=com.docker.stack.namespace=" + self.name,
                   "--format", '{{.ID}}\t{{.Label "com.docker.swarm.task.name"}}\t{{.Status}}']).stdout
        r = {}
        for line in out.splitlines():
            cid, task, status = line.split("\t")
            m = re.match(r"%s_(\w+)\.(\d+)\." % re.escape(self.name), task)
            if m:
                r["%s.%s" % (m.group(1), m.group(2))] = (cid, status)
        return r

    def healthy(self, want):
        t = self.tasks()
        return all(k in t and "(healthy)" in t[k][1] for k in want) and t

    def logs(self, cid):
        return run(["docker", "logs", cid], check=False).stdout


def main(src, build):
    p = subprocess.run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60) \
        if _has_docker() else None
    if p is None or p.returncode != 0:
        print("SKIP: no Docker engine reachable (%s)" % (p.stdout.strip() if p else "no docker command"))
        return 77
    joined_here = False
    networks_before = set(run(["docker", "network", "ls", "--format", "{{.Name}}"]).stdout.split())
    if p.stdout.strip() != "active":
        run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], timeout=120)
        joined_here = True
    name = "skiffst%d" % (os.getpid() % 100000)
    stack = Stack(name)
    try:
        t0 = time.monotonic()
        run([os.path.join(src, "deploy", "build-image.sh"), "-q"], env=dict(os.environ, SKIFF_IMAGE=IMAGE),
            timeout=1500)
        print("image built in %.0f s" % (time.monotonic() - t0), flush=True)
        with tempfile.TemporaryDirectory(prefix="skiff-swarm-") as d:
            run([os.path.join(build, "skiff"), "--genkey", os.path.join(d, "cluster.key")])
            env = dict(os.environ, SKIFF_IMAGE=IMAGE, SKIFF_SECRETS_DIR=d, SKIFF_GATE_PORT=str(free_port()))
            run(["docker", "stack", "deploy", "--resolve-image", "never", "-c",
                 os.path.join(src, "deploy", "docker-stack.yml"), name], env=env, timeout=120)
        want = ["master.1", "game.1", "game.2"]
        tasks = wait_for("master.1, game.1, game.2 healthy", lambda: stack.healthy(want), 240)
        print("stack healthy in %.0f s" % (time.monotonic() - t0), flush=True)
        master = tasks["master.1"][0]
        wait_for("node 2 and 3 joined", lambda: re.search(r"node 2 \(\S+\) joined", stack.logs(master))
                 and re.search(r"node 3 \(\S+\) joined", stack.logs(master)), 60)
        for slot, nid in (("game.1", 2), ("game.2", 3)):
            log = stack.logs(tasks[slot][0])
            if not re.search(r"harbor: node %d \([^,]+, incarnation" % nid, log):
                raise Fail("%s is not harbor node %d:\n%s" % (slot, nid, log[-3000:]))
        # a crash: the process dies, Swarm reschedules slot 2
        victim = tasks["game.2"][0]
        run(["docker", "kill", "--signal", "KILL", victim])
        t1 = time.monotonic()
        wait_for("master sees node 3 down", lambda: re.search(r"node 3 (\(\S+\) )?(left|is down)", stack.logs(master)), 30)

        def back():
            t = stack.healthy(want)
            return t if t and t["game.2"][0] != victim else None
        tasks = wait_for("a new game.2 task healthy", back, 180)
        log = stack.logs(tasks["game.2"][0])
        if not re.search(r"harbor: node 3 \([^,]+, incarnation", log):
            raise Fail("the rescheduled slot 2 is not node 3:\n" + log[-3000:])
        wait_for("node 3 joined again", lambda: len(re.findall(r"node 3 \(\S+\) joined", stack.logs(master))) >= 2, 60)
        print("slot 2 killed, rescheduled and rejoined as node 3 in %.0f s" % (time.monotonic() - t1))
        print("PASS")
        return 0
    except Fail as e:
        print("FAIL: %s" % e)
        for k, (cid, _) in stack.tasks().items():
            print("---- %s ----\n%s" % (k, stack.logs(cid)[-3000:]))
        return 1
    finally:
        run(["docker", "stack", "rm", name], check=False, timeout=120)
        try:
            wait_for("the stack's containers gone", lambda: not stack.tasks(), 90)
            wait_for("the stack's network gone", lambda: name + "_skiff" not in run(
                ["docker", "network", "ls", "--format", "{{.Name}}"]).stdout, 60)
        except Fail as e:
            print("cleanup: %s" % e)
        if joined_here:
            run(["docker", "swarm", "leave", "--force"], check=False, timeout=120)
            # swarm init made docker_gwbridge; it outlives the swarm
            if "docker_gwbridge" not in networks_before:
                run(["docker", "network", "rm", "docker_gwbridge"], check=False)


def _has_docker():
    from shutil import which
    return which("docker") is not None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
