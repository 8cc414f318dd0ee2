#!/usr/bin/env python3
"""Hot reload across a harbor of three real nodes (mn_reload.lua), driven from
the debug console of node 1 while every node calls every handler all the time:
  - `reload cluster rl_handler inject rl_impl` after rl_impl.lua changed on
    disk: every instance on every node answers with the new module;
  - `json reload cluster rl_handler restart` after both files changed: every
    instance runs the new main file, keeping its handle; the JSON answer has
    one row per service, all ok;
  - `hotfix cluster rl_handler FILE`: the patch runs in every instance;
    `hotfix :ADDR FILE` (and `hotfix cluster :ADDR FILE` for a service of
    another node) runs it in that service only;
  - a hotfix that does not compile: one error row per service, and the
    services go on unchanged;
  - `reload cluster rl_handler new` after another change: running instances
    keep their code, a new instance loads the new one;
  - `hotfix cluster rl_snax FILE` patches the snax service (snax hotfix,
    state kept); a patch with a method the service lacks is refused;
  - `clearcache cluster` answers once per node.
After each step every call started later gets the new code; no call fails,
none is lost (every caller keeps getting answers)."""
import json
import os
import sys
import time

import mnlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lua"))
import harness  # noqa: E402
import console_client  # noqa: E402
from reload_sources import HANDLER, IMPL  # noqa: E402

SNAX = """local n = 0
function response.ask() n = n + 1 return "s1:" .. n end
function init() end
"""
SNAX_PATCH = """local n
function response.ask() n = n + 1 return "s2:" .. n end
"""


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(skiff):
    console_port = mnlib.free_port()
    with mnlib.Cluster(skiff, nodes=3, extra=['start = "mn_reload"']) as c:
        token_path, token = harness.make_token(os.path.join(c.dir, "console.token"))
        code = ['luaservice = luaservice .. ";%s/?.lua"' % c.dir,
                'lua_path = lua_path .. ";%s/?.lua"' % c.dir]
        write(os.path.join(c.dir, "rl_handler.lua"), HANDLER % "S1")
        write(os.path.join(c.dir, "rl_impl.lua"), IMPL % "v1")
        c.start(1, master=True, extra=code + [
            'console = "127.0.0.1:%d"' % console_port,
            'console_token = "%s"' % token_path, "console_run = true"])
        c.start(2, extra=code)
        c.start(3, extra=code)

        def command(line, nodes=(1, 2, 3)):
            for n in nodes:
                with open(os.path.join(c.dir, "cmd%d" % n), "a") as f:
                    f.write(line + "\n")

        def check_flow(step):
            """every caller got answers from the new code since the last expect"""
            time.sleep(0.5)
            marks = {n: c.mark(n) for n in (1, 2, 3)}
            command("report")
            for n in (1, 2, 3):
                m = c.wait(n, r"MN RELOAD REPORT node=%d calls=(\d+) fails=(\d+) stale=(\d+) "
                              r"handles=(\w+) fresh=(\d+)" % n, after=marks[n])
                calls, fails, stale, handles, fresh = m.groups()
                assert fails == "0" and stale == "0", "%s: node %d: %s" % (step, n, m.group(0))
                assert handles == "same", "%s: node %d: a handler changed handle" % (step, n)
                assert int(fresh) > 0, "%s: node %d: a caller got no answer since (lost call?)" % (step, n)
            print("%s: calls keep flowing, none failed or stale" % step)

        command("go")
        command("expect v1:")
        for n in (1, 2, 3):
            c.wait(n, r"MN RELOAD GOING node=%d" % n)
        con = console_client.Console("127.0.0.1", console_port, time.monotonic() + 120, token=token)

        def rows_of(lines):
            summary = lines[-1]
            return [l.split("\t") for l in lines[:-1]], summary

        # 1. a module changed: inject a reload of it everywhere
        write(os.path.join(c.dir, "rl_impl.lua"), IMPL % "v2")
        rows, summary = rows_of(con.cmd("reload cluster rl_handler inject rl_impl"))
        assert summary == "6 ok, 0 failed", (summary, rows)
        assert sorted(r[0] for r in rows) == ["1", "1", "2", "2", "3", "3"], rows
        command("expect v2:")
        check_flow("inject rl_impl (v2)")

        # 2. both files changed: restart in place (JSON answer)
        write(os.path.join(c.dir, "rl_impl.lua"), IMPL % "v3")
        write(os.path.join(c.dir, "rl_handler.lua"), HANDLER % "S3")
        lines = con.cmd("json reload cluster rl_handler restart")
        doc = json.loads(lines[0])
        assert doc["ok"] is True, doc
        res = doc["result"]
        assert res["ok"] == 6 and res["failed"] == 0 and len(res["rows"]) == 6, res
        assert all(r["ok"] and r["address"].startswith(":0") for r in res["rows"]), res
        command("expect v3:")
        check_flow("restart in place (v3, new main file)")

        # 3. a hotfix file into every instance of the type
        hot = os.path.join(c.dir, "hot.lua")
        write(hot, 'local impl = require "rl_impl"\n'
                   'impl.answer = function(n) return "hot:" .. tostring(n) end\n')
        rows, summary = rows_of(con.cmd("hotfix cluster rl_handler " + hot))
        assert summary == "6 ok, 0 failed", (summary, rows)
        command("expect hot:")
        check_flow("hotfix (hot)")

        # 3b. one service by address: on its own node, and from node 1 with `cluster`
        mark = os.path.join(c.dir, "mark.lua")
        write(mark, "HOTFIX_MARK = true\n")
        addr = {r["node"]: r["address"] for r in res["rows"]}
        rows, summary = rows_of(con.cmd("hotfix %s %s" % (addr[1], mark)))
        assert summary == "1 ok, 0 failed" and rows[0][1] == addr[1], (summary, rows)
        rows, summary = rows_of(con.cmd("hotfix cluster %s %s" % (addr[2], mark)))
        assert summary == "3 ok, 0 failed", (summary, rows)
        assert [r[1] for r in rows if r[1] != "-"] == [addr[2]], rows
        print("hotfix of one service by address: only that service answers")

        # 4. a broken hotfix: an error per service, nothing changes
        bad = os.path.join(c.dir, "bad.lua")
        write(bad, "this is not lua (\n")
        rows, summary = rows_of(con.cmd("hotfix cluster rl_handler " + bad))
        assert summary == "0 ok, 6 failed", (summary, rows)
        assert all(r[3].startswith("error: ") for r in rows), rows
        check_flow("broken hotfix refused")

        # 5. new instances only
        write(os.path.join(c.dir, "rl_impl.lua"), IMPL % "v5")
        rows, summary = rows_of(con.cmd("reload cluster rl_handler new"))
        assert summary == "3 ok, 0 failed", (summary, rows)
        command("spawn", nodes=(2,))
        m = c.wait(2, r"MN RELOAD NEW node=2 (\S+)")
        assert m.group(1) == "v5:0/S3", m.group(1)
        check_flow("reload new: running instances unchanged (still hot)")

        # 6. snax hotfix goes through the same path (state kept)
        write(os.path.join(c.dir, "rl_snax.lua"), SNAX)
        command("snax", nodes=(3,))
        assert c.wait(3, r"MN RELOAD SNAX node=3 (\S+)").group(1) == "s1:1"
        patch = os.path.join(c.dir, "snax_patch.lua")
        write(patch, SNAX_PATCH)
        rows, summary = rows_of(con.cmd("hotfix cluster rl_snax " + patch))
        assert summary == "3 ok, 0 failed", (summary, rows)
        assert [r[0] for r in rows if r[1] != "-"] == ["3"], rows
        m = c.mark(3)
        command("snaxask", nodes=(3,))
        assert c.wait(3, r"MN RELOAD SNAX node=3 (\S+)", after=m).group(1) == "s2:2"
        write(patch, "function accept.nosuch() end\n")
        rows, summary = rows_of(con.cmd("hotfix cluster rl_snax " + patch))
        assert summary == "2 ok, 1 failed" and "nosuch" in " ".join(r[3] for r in rows), (summary, rows)
        print("snax hotfix through the console: patched in place, state kept; a bad patch is refused")

        rows, summary = rows_of(con.cmd("clearcache cluster"))
        assert summary == "3 ok, 0 failed", (summary, rows)
        rows, summary = rows_of(con.cmd("reload rl_handler inject"))  # this node only, own modules
        assert summary == "2 ok, 0 failed", (summary, rows)
        assert all(r[0] == "1" for r in rows), rows
        con.close()
        print("clearcache cluster: one row per node; a node-local reload touches node 1 only")
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
