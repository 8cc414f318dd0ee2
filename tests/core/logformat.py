#!/usr/bin/env python3
"""The logger's three formats (config key `logformat`): text (default), json,
skynet; levels derived from the message; a bad format is refused.
usage: logformat.py SKIFF CPATH"""
import json
import os
import re
import subprocess
import sys
import tempfile


def run(skiff, cpath, extra):
    with tempfile.TemporaryDirectory(prefix="skiff-log-") as tmp:
        cfg = os.path.join(tmp, "node.conf")
        with open(cfg, "w") as f:
            f.write('thread = 2\ncpath = cpath .. ";%s"\nbootstrap = "tcore commands"\n%s\n' % (cpath, extra))
        p = subprocess.run([skiff, cfg], capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr


def main():
    skiff, cpath = sys.argv[1:3]
    code, out, _ = run(skiff, cpath, "")
    assert code == 0, out
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d INFO  0 \[:[0-9a-f]{8}\] LAUNCH tcore commands$", out, re.M), out
    assert re.search(r"^\S+ \S+ ERROR 0 \[:[0-9a-f]{8}\] error: The message to 3 is too large$", out, re.M), out

    code, out, _ = run(skiff, cpath, 'logformat = "json"\nharbor = 0')
    assert code == 0, out
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert recs, out
    for r in recs:
        assert set(r) == {"ts", "level", "node", "source", "msg"}, r
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$", r["ts"]), r
        assert r["level"] in ("info", "warn", "error"), r
        assert r["node"] == 0 and re.match(r"^:[0-9a-f]{8}$", r["source"]), r
    assert any(r["msg"] == "TCORE commands OK" and r["level"] == "info" for r in recs), out
    assert any(r["level"] == "error" and "too large" in r["msg"] for r in recs), out
    # multi-line messages stay one JSON line
    assert any("\n" in r["msg"] for r in recs), out

    code, out, _ = run(skiff, cpath, 'logformat = "skynet"')
    assert code == 0, out
    assert re.search(r"^\[:[0-9a-f]{8}\] LAUNCH tcore commands$", out, re.M), out

    code, out, err = run(skiff, cpath, 'logformat = "xml"')
    assert code != 0 and "logformat" in err, (code, err)
    print("OK")


if __name__ == "__main__":
    main()
