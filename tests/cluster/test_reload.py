#!/usr/bin/env python3
"""Hot reload across three cluster-mode nodes a, b, c (tests/multinode/
mn_reload.lua in cluster mode), driven from the console of a while every
node calls every handler of every node all the time:
  - `reload cluster rl_handler inject rl_impl` after the module changed:
    six rows, all ok, and every later call runs the new module;
  - `json reload cluster rl_handler restart` after both files changed: the
    handlers run the new main file under the same handles;
  - `clearcache cluster`: one row per node.
No call fails, none is lost."""
import json
import os
import sys
import time

import clusterlib
import harness
from clusterlib import free_port

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "lua"))
import console_client  # noqa: E402
from reload_sources import HANDLER, IMPL  # noqa: E402

NAMES = ("a", "b", "c")


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main(cl):
    tmp = cl.tmp
    addr = {n: "127.0.0.1:%d" % free_port() for n in NAMES}
    nodes_file = cl.node_file(addr)
    token_path, token = harness.make_token(os.path.join(tmp, "console.token"))
    console_port = free_port()
    write(os.path.join(tmp, "rl_handler.lua"), HANDLER % "S1")
    write(os.path.join(tmp, "rl_impl.lua"), IMPL % "v1")
    extra = ['luaservice = luaservice .. ";%s/multinode/?.lua;%s/?.lua"' % (TESTS, tmp),
             'lua_path = lua_path .. ";%s/?.lua"' % tmp,
             'test_cmddir = "%s"' % tmp, 'test_peers = "a,b,c"']
    node = {}
    for n in NAMES:
        more = []
        if n == "a":
            more = ['console = "127.0.0.1:%d"' % console_port, 'console_token = "%s"' % token_path]
        node[n] = cl.start(n, "mn_reload", nodes_file, extra=extra + more)
    for n in NAMES:
        node[n].must(r"MN READY %s" % n, 20)

    def command(line):
        for n in NAMES:
            with open(os.path.join(tmp, "cmd" + n), "a") as f:
                f.write(line + "\n")

    def check_flow(step):
        time.sleep(0.5)
        marks = {n: node[n].mark() for n in NAMES}
        command("report")
        for n in NAMES:
            m = harness.Node.wait(node[n], r"MN RELOAD REPORT node=%s calls=(\d+) fails=(\d+) "
                                  r"stale=(\d+) handles=(\w+) fresh=(\d+)" % n, 20, marks[n])
            calls, fails, stale, handles, fresh = m.groups()
            assert fails == "0" and stale == "0", "%s: %s: %s" % (step, n, m.group(0))
            assert handles == "same", "%s: %s: a handler changed handle" % (step, n)
            assert int(fresh) > 0, "%s: %s: a caller got no answer since (lost call?)" % (step, n)
        print("%s: calls keep flowing on a, b and c, none failed or stale" % step)

    command("go")
    command("expect v1:")
    for n in NAMES:
        node[n].must(r"MN RELOAD GOING node=%s" % n, 20)
    con = console_client.Console("127.0.0.1", console_port, time.monotonic() + 90, token=token)
    # every node answers every node before the first reload: the links are up
    check_flow("calls flow before any reload (v1)")

    write(os.path.join(tmp, "rl_impl.lua"), IMPL % "v2")
    lines = con.cmd("reload cluster rl_handler inject rl_impl")
    assert lines[-1] == "6 ok, 0 failed", lines
    assert sorted(l.split("\t")[0] for l in lines[:-1]) == ["a", "a", "b", "b", "c", "c"], lines
    command("expect v2:")
    check_flow("inject rl_impl (v2)")

    write(os.path.join(tmp, "rl_impl.lua"), IMPL % "v3")
    write(os.path.join(tmp, "rl_handler.lua"), HANDLER % "S3")
    doc = json.loads(con.cmd("json reload cluster rl_handler restart")[0])
    assert doc["ok"] and doc["result"]["ok"] == 6 and doc["result"]["failed"] == 0, doc
    command("expect v3:")
    check_flow("restart in place (v3)")

    lines = con.cmd("clearcache cluster")
    assert lines[-1] == "3 ok, 0 failed", lines
    con.close()
    print("clearcache cluster: one row per node")


clusterlib.run(main)
