#!/usr/bin/env python3
"""The console's JSON answers and cluster commands on a single node, and
tools/skiff-status against it.

usage: test_console_json.py SKIFF
"""
import json
import os
import subprocess
import sys

from obslib import STATUS_TOOL, Console, Group, check, http_get

HERE = os.path.dirname(os.path.abspath(__file__))


def main(skiff):
    with Group(skiff) as g:
        node = g.single(extra=['lua_path = lua_path .. ";%s/?.lua"' % HERE,
                               'console_modules = "obs_console_cmds"']).started()
        c = Console(node.console)

        # every command answers in both forms; spot-check the classic ones
        lst = c.json("list")
        check(any(v == "snlua obs_traffic" for v in lst.values()), "json list: %r" % lst)
        text = c.cmd("list")
        check(any(l.endswith("\tsnlua obs_traffic") for l in text), "text list: %r" % text)
        helpj = c.json("help")
        for cmd in ("nodes", "names", "links", "cluster", "metrics", "json", "list", "stat"):
            check(cmd in helpj, "help lists %s" % cmd)
        stat = c.json("stat")
        check(all("mqlen" in v for v in stat.values()), "json stat")
        check(c.json("ping .launcher").isdigit(), "json ping")
        env = c.json("getenv obs_role")
        check(env == {"obs_role": "single"}, "json getenv: %r" % env)
        check(c.json("setenv obs_x 1") is None, "json of a command without a result is null")
        err = c.json("nosuchcommand", ok=False)
        check("Invalid command" in err, "json error: %r" % err)
        err = c.json("info :7fffffff", ok=False)
        check(err, "json error of a failing command")
        call = c.json('call .launcher "LIST"')
        check(call["n"] == 1, "json call")
        # numbers print as short decimals: the echo service hands back what it got
        echo = [a for a, v in lst.items() if v == "snlua obs_traffic"][0]
        raw = c.cmd('json call %s "echo", 0.1 + 0.2' % echo)[0]
        check('"1":0.3,' in raw or '"1":0.3}' in raw, "0.1 + 0.2 as a short decimal: %r" % raw)
        raw = c.cmd('json call %s "echo", 1 + 2^-52' % echo)[0]
        check('"1":1,' in raw or '"1":1}' in raw, "1 + 2^-52 as a short decimal: %r" % raw)
        raw = c.cmd('json call %s "echo", 1/1000' % echo)[0]
        check('"1":0.001' in raw, "0.001: %r" % raw)

        nodes = c.json("nodes")["nodes"]
        check(len(nodes) == 1 and nodes[0]["id"] == 0 and nodes[0]["state"] == "up" and nodes[0]["self"],
              "single node view: %r" % nodes)
        text = c.cmd("nodes")
        check(text[0].split("\t")[:4] == ["id", "name", "address", "state"], "nodes header: %r" % text)
        check(text[-1].startswith("0\tnode0\t") and "\tup\t" in text[-1], "nodes row: %r" % text)
        check(c.json("links")["links"] == [], "no links on a single node")
        c.cmd("names")
        cl = c.json("cluster")
        check(cl["mode"] == "single" and cl["node"] == 0 and len(cl["nodes"]) == 1, "cluster: %r" % cl)
        text = c.cmd("cluster")
        check(text[0].startswith("cluster mode single") and "[nodes]" in text, "cluster text: %r" % text)

        # a command module named in console_modules: in help, by line, JSON and HTTP
        check("obs_hello" in c.json("help"), "help lists a module's command")
        check(c.cmd("obs_hello you") == ["hello you"], "module command by line")
        check(c.json("obs_hello") == "hello world", "module command in JSON")
        status, _, body = http_get(node.console, "/obs_hello/web")
        check(status == 200 and body == b"hello web\n", "read-only module command by GET: %d %r" % (status, body))
        status, _, body = http_get(node.console, "/obs_set/k/v")
        check(status == 405, "a module command without readonly needs POST: %d %r" % (status, body))

        # HTTP: the text form and the JSON form of the same command
        status, headers, body = http_get(node.console, "/nodes")
        check(status == 200 and headers["content-type"].startswith("text/plain"), "GET /nodes")
        text = body.decode()
        check("<CMD" not in text and text.split("\n")[0].startswith("id\tname"), "HTTP text is the table alone: %r" % text)
        status, headers, body = http_get(node.console, "/json/nodes")
        check(status == 200 and headers["content-type"] == "application/json", "GET /json/nodes")
        doc = json.loads(body)
        check(doc["ok"] and doc["result"]["nodes"][0]["id"] == 0, "JSON over HTTP: %r" % doc)
        status, headers, body = http_get(node.console, "/json/nope")
        doc = json.loads(body)
        check(status == 500 and doc["ok"] is False and "Invalid command" in doc["error"], "JSON error over HTTP")
        status, headers, body = http_get(node.console, "/nope")
        check(status == 500 and body.decode() == "Invalid command, type help for command list\n",
              "text error over HTTP: %d %r" % (status, body))

        # the companion program
        r = subprocess.run([sys.executable, STATUS_TOOL, "127.0.0.1:%d" % node.console],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "skiff-status: %d %s" % (r.returncode, r.stderr))
        check("Nodes" in r.stdout and "node0" in r.stdout and "up" in r.stdout, r.stdout)
        r = subprocess.run([sys.executable, STATUS_TOOL, "--json", str(node.console)],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and json.loads(r.stdout)["mode"] == "single", "skiff-status --json")
        c.close()

        # a second module bringing a name that exists: refused, naming both
        from obslib import Node
        dup = Node(g, 2, g.base() + ["harbor = 0", 'obs_role = "single"', 'lua_path = lua_path .. ";%s/?.lua"' % HERE,
                                     'console_modules = "obs_console_cmds,skynet.console.cluster"'])
        g.nodes[2] = dup
        dup.wait(r"console command \w+ from skynet.console.cluster is already defined by skynet.console.cluster")
        dup.wait(r"OBS READY 0")  # the node runs on without its console
        check("Start debug console" not in dup.text(), "console started with a duplicate command")
        dup.kill()

        node.kill()
        r = subprocess.run([sys.executable, STATUS_TOOL, "127.0.0.1:%d" % node.console],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "skiff-status" in r.stderr, "unreachable console: exit 2")
    print("test_console_json: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
