#!/usr/bin/env python3
"""SIGTERM stops a node cleanly; SIGHUP makes the file logger reopen its file;
daemon mode detaches, writes a locked pidfile and removes it on exit.
usage: signals.py SKIFF CPATH (sigterm|sighup|daemon)"""
import os
import signal
import subprocess
import sys
import tempfile
import time


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise SystemExit("FAIL: timed out waiting for " + what)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def main():
    skiff, cpath, case = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="skiff-sig-") as tmp:
        log = os.path.join(tmp, "node.log")
        cfg = os.path.join(tmp, "node.conf")
        lines = ['thread = 2', 'cpath = cpath .. ";%s"' % cpath, 'bootstrap = "tcore idle"',
                 'logger = "%s"' % log]
        pidfile = os.path.join(tmp, "node.pid")
        if case == "daemon":
            lines.append('daemon = "%s"' % pidfile)
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")

        if case == "daemon":
            r = subprocess.run([skiff, cfg], timeout=10)
            if r.returncode != 0:
                raise SystemExit("FAIL: daemon parent exited %d" % r.returncode)
            wait_for(lambda: read(pidfile).strip().isdigit(), 10, "pidfile")
            pid = int(read(pidfile))
            wait_for(lambda: "LAUNCH tcore idle" in read(log), 10, "service start")
            # A second node with the same pidfile refuses to start.
            r = subprocess.run([skiff, cfg], timeout=10, capture_output=True, text=True)
            if r.returncode == 0 or "already running" not in r.stderr:
                raise SystemExit("FAIL: second daemon not refused: %d %s" % (r.returncode, r.stderr))
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists(pidfile), 10, "pidfile removal")

            def gone():
                try:
                    os.kill(pid, 0)
                    return False
                except ProcessLookupError:
                    return True
            wait_for(gone, 10, "daemon exit")
            print(read(log))
            print("OK")
            return

        p = subprocess.Popen([skiff, cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "LAUNCH tcore idle" in read(log), 10, "service start")
            if case == "sighup":
                os.rename(log, log + ".1")
                os.kill(p.pid, signal.SIGHUP)
                wait_for(lambda: os.path.exists(log), 10, "log reopen")
            p.send_signal(signal.SIGTERM)
            code = p.wait(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        text = read(log)
        print(read(log + ".1") + text)
        if code != 0:
            raise SystemExit("FAIL: exit status %d after SIGTERM" % code)
        if "SIGTERM received" not in text:
            raise SystemExit("FAIL: shutdown not logged")
        # text log lines: "YYYY-MM-DD hh:mm:ss.cc LEVEL node [:addr] msg"
        import re
        if not re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d INFO  0 \[:[0-9a-f]{8}\] LAUNCH", read(log + ".1") + text, re.M):
            raise SystemExit("FAIL: log lines lack timestamp, level, node or address")
        print("OK")


if __name__ == "__main__":
    main()
