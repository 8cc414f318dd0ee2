#!/usr/bin/env python3
"""A harbor node (harbor = 1, its own master) refuses every bad cluster key
file with one message naming the file and why, and never joins with it:
missing key, missing file, world-readable, not a key, all zeros, a directory.
(keyfile_test.c covers the parser in memory; cluster_config the cluster-mode
service; this is the harbor node end to end.)

usage: test_bad_key.py SKIFF
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "obs"))
from obslib import check, free_port  # noqa: E402


def write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, data)
    os.close(fd)
    os.chmod(path, mode)


def run_node(skiff, tmp, key_line, timeout=20):
    port = free_port()
    conf = os.path.join(tmp, "node.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "thread = 2", "harbor = 1",
            'address = "127.0.0.1:%d"' % free_port(),
            'master = "127.0.0.1:%d"' % port,
            'standalone = "127.0.0.1:%d"' % port,
            "harbor_timeout = 2",
        ] + ([key_line] if key_line else [])) + "\n")
    p = subprocess.Popen([skiff, conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise AssertionError("node with a bad key kept running:\n" + out.decode(errors="replace")[-3000:])
    return p.returncode, out.decode(errors="replace")


def main(skiff):
    skiff = os.path.abspath(skiff)
    with tempfile.TemporaryDirectory(prefix="skiff-badkey-") as tmp:
        loose = os.path.join(tmp, "loose.key")
        write(loose, b"ab" * 32 + b"\n", 0o644)
        notkey = os.path.join(tmp, "notkey.key")
        write(notkey, b"not a key\n", 0o600)
        zeros = os.path.join(tmp, "zeros.key")
        write(zeros, b"00" * 32 + b"\n", 0o600)
        adir = os.path.join(tmp, "dir.key")
        os.mkdir(adir, 0o700)
        missing = os.path.join(tmp, "missing.key")
        cases = [
            ("no cluster_key", None, r"config key 'cluster_key' is required"),
            ("missing file", missing, r"cluster key file %s: No such file" % missing),
            ("world-readable", loose, r"cluster key file %s: group or others may access it" % loose),
            ("not a key", notkey, r"cluster key file %s: malformed" % notkey),
            ("all zeros", zeros, r"all zeros"),
            ("a directory", adir, r"cluster key file %s: not a regular file" % adir),
        ]
        import re
        for name, path, rx in cases:
            t0 = time.monotonic()
            rc, out = run_node(skiff, tmp, 'cluster_key = "%s"' % path if path else None)
            check(rc != 0, "%s: exit code %d" % (name, rc))
            check(re.search(rx, out), "%s: no /%s/ in:\n%s" % (name, rx, out[-3000:]))
            check(not re.search(r"Segmentation|Aborted|core dumped|Sanitizer", out), name + ": crash text")
            print("%-15s exit %d in %.1fs: %s" % (name, rc, time.monotonic() - t0, re.search(rx, out).group(0)))
    print("bad key: PASS")


if __name__ == "__main__":
    main(sys.argv[1])
