#!/usr/bin/env python3
"""Relative file paths in a config resolve against the folder of the config
file that set them, as `include` does, whatever the node's working directory:
conf/node.conf sets logger and cluster (relative) and an absolute cluster_key,
and includes sub/extra.conf, which sets console_token and node_credential.
The node runs from another folder; its log file appears in conf/, and the
keys read back as conf/... and conf/sub/....  With logservice = "snlua",
`logger` names a service and stays as written."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def run(skiff, cwd, cfg):
    p = subprocess.run([skiff, cfg], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30, text=True)
    return p.returncode, p.stdout


def main(skiff):
    skiff = os.path.abspath(skiff)
    with tempfile.TemporaryDirectory(prefix="skiff-cfgpath-") as d:
        conf = os.path.join(d, "conf")
        os.makedirs(os.path.join(conf, "sub"))
        elsewhere = os.path.join(d, "run")
        os.makedirs(elsewhere)
        harness.write_config(os.path.join(conf, "sub", "extra.conf"), [
            'console_token = "console.token"', 'node_credential = "../node.cred"'])
        harness.write_config(os.path.join(conf, "node.conf"), [
            "thread = 2", 'start = "cfg_print"',
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'logger = "node.log"', 'cluster = "clustername.lua"',
            'cluster_key = "/etc/skiff/absolute.key"',
            'include "sub/extra.conf"'])
        # the config named relative to the working directory, from a sibling folder
        rc, out = run(skiff, elsewhere, "../conf/node.conf")
        assert rc == 0, "exit %s\n%s" % (rc, out)
        log_path = os.path.join(conf, "node.log")
        assert os.path.exists(log_path), "no log at conf/node.log; output:\n" + out
        assert not os.path.exists(os.path.join(elsewhere, "node.log"))
        with open(log_path) as f:
            log = f.read()
        want = {
            "logger": "../conf/node.log",
            "cluster": "../conf/clustername.lua",
            "cluster_key": "/etc/skiff/absolute.key",
            "console_token": "../conf/sub/console.token",
            "node_credential": "../conf/sub/../node.cred",
        }
        for k, v in want.items():
            assert "CFG %s=%s\n" % (k, v) in log, "%s: want %s\n%s" % (k, v, log)

        # another logservice: `logger` is its argument, untouched
        harness.write_config(os.path.join(conf, "userlog.conf"), [
            "thread = 2", 'start = "cfg_print"',
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'logservice = "snlua"', 'logger = "cfg_userlog"'])
        rc, out = run(skiff, elsewhere, os.path.join(conf, "userlog.conf"))
        assert rc == 0, "exit %s\n%s" % (rc, out)
        assert "USERLOG" in out and "CFG logger=cfg_userlog\n" in out, out
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1])
