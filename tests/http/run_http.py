#!/usr/bin/env python3
"""Run a skiff node for an HTTP/WebSocket/DNS test and judge it.

usage: run_http.py SKIFF --service NAME [options]
  --service NAME      the `start` service (from lua/ here)
  --peer FUNC         a function of http_peers.py started before the node: it
                      starts an outside server (Python http.server, websockets,
                      a UDP DNS responder) on a free port and returns
                      (config lines, stop function)
  --client FUNC       a function of http_clients.py, called with the port the
                      node announces ("HTTPTEST READY <port>") and the node's
                      output lines so far (a list that keeps growing); it
                      raises on failure
  --expect REGEX      must appear in the node's output (repeatable)
  --reject REGEX      must not appear (repeatable)
  --config-line LINE  extra config line (repeatable)
  --timeout S         whole-test deadline (default 60)
  --tls               make a self-signed certificate for localhost/127.0.0.1
                      with the openssl command (cert.pem, key.pem in the test's
                      folder); the node gets certfile/keyfile/httptest_cafile

Without --client the node must print "HTTPTEST PASS"; "HTTPTEST FAIL"
anywhere fails.  The node is killed at the end.
"""
import argparse
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

FATAL = r"lua loader error|init service failed|start service failed"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402


def make_cert(tmp):
    import shutil
    exe = shutil.which("openssl")
    if not exe:
        raise SystemExit("FAIL: the openssl command is missing: install the Debian package openssl")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    other, other_key = os.path.join(tmp, "other.pem"), os.path.join(tmp, "other-key.pem")
    for c, k in ((cert, key), (other, other_key)):
        subprocess.run([exe, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", k, "-out", c, "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
    os.environ["HTTPTEST_CERT"] = cert  # for the Python clients and peers
    # other.pem: a second, unrelated certificate, to be used as a CA that
    # must not vouch for cert.pem
    return ['certfile = "%s"' % cert, 'keyfile = "%s"' % key, 'httptest_cafile = "%s"' % cert,
            'httptest_othercafile = "%s"' % other]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--service", required=True)
    ap.add_argument("--peer")
    ap.add_argument("--client")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--config-line", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--tls", action="store_true")
    a = ap.parse_args()

    stop_peer = None
    with tempfile.TemporaryDirectory(prefix="skiff-http-") as tmp:
        lines = [
            "thread = 2",
            "harbor = 0",
            'start = "%s"' % a.service,
        ] + harness.lua_dirs(os.path.join(HERE, "lua")) + a.config_line
        if a.tls:
            lines += make_cert(tmp)
        if a.peer:
            import http_peers
            extra, stop_peer = getattr(http_peers, a.peer)(tmp)
            lines += extra
        cfg = harness.write_config(os.path.join(tmp, "config"), lines)
        node = subprocess.Popen([os.path.abspath(a.skiff), cfg], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True)
        out_lines = []
        events = queue.Queue()

        def pump():
            for raw in node.stdout:
                line = raw.decode(errors="replace").rstrip("\n")
                out_lines.append(line)
                events.put(("line", line))
            events.put(("eof", None))

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + a.timeout
        verdict = None
        started = False

        def run_client(port):
            import http_clients
            harness.run_in_thread(getattr(http_clients, a.client), (port, out_lines),
                                  lambda val: events.put(("client", val)))

        while verdict is None:
            left = deadline - time.monotonic()
            if left <= 0:
                verdict = "FAIL: timeout after %ss" % a.timeout
                break
            try:
                kind, val = events.get(timeout=left)
            except queue.Empty:
                continue
            if kind == "eof":
                verdict = "FAIL: node exited (status %s)" % node.poll()
            elif kind == "client":
                verdict = "PASS" if val is None else "FAIL: client: " + val
            elif "HTTPTEST FAIL" in val or re.search(FATAL, val):
                verdict = "FAIL: " + val
            elif "HTTPTEST PASS" in val and not a.client:
                verdict = "PASS"
            else:
                m = re.search(r"HTTPTEST READY (\d+)", val)
                if m and a.client and not started:
                    started = True
                    run_client(int(m.group(1)))
        time.sleep(0.3)
        alive = node.poll() is None
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.wait()
        if stop_peer:
            stop_peer()
        if verdict == "PASS" and not alive:
            verdict = "FAIL: the node died"
        return harness.judge(verdict, "\n".join(out_lines), a.expect, a.reject + [r"stack traceback"])


if __name__ == "__main__":
    sys.exit(main())
