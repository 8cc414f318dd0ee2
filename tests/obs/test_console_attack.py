#!/usr/bin/env python3
"""The debug console against a web page and a stranger (issue 16, finding 3).

usage: test_console_attack.py SKIFF

One real node (harbor = 0) with its console on 127.0.0.1 and a token file of
mode 0600.  A browser-like HTTP client (a browser's headers: User-Agent,
Accept, Origin, Sec-Fetch-*) tries what a page in the operator's browser could
send: a DNS-rebound Host, a cross-site Origin, GET and text/plain or form POST
commands, an OPTIONS preflight; a stranger tries the line protocol without or
with a wrong token.  Every attempt is refused with its status and a log line,
the code it carried (dbgcmd RUN printing a marker) never runs, and the console
keeps serving the operator.  Then: correct use works; RUN/inject are refused
without console_run; a token file others may read, or a FIFO, keeps the console
from starting and the log names the file.
"""
import os
import re
import socket
import sys
import time

from obslib import Console, Group, Node, check, http_raw
import obslib

MARK = "PWNED_BY_PAGE"
BROWSER = ("User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\r\n"
           "Accept: */*\r\nAccept-Language: en\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: cross-site\r\n")


def request(port, method, path, host=None, origin=None, token=None, ctype=None, body="", extra=""):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, host or "127.0.0.1:%d" % port) + BROWSER
    if origin:
        head += "Origin: %s\r\n" % origin
    if token:
        head += "Authorization: Bearer %s\r\n" % token
    if ctype:
        head += "Content-Type: %s\r\n" % ctype
    if method in ("POST", "PUT"):
        head += "Content-Length: %d\r\n" % len(body.encode())
    return http_raw(port, (head + extra + "\r\n" + body).encode())


def refused(port, want, what, **kw):
    status, headers, body = request(port, **kw)
    check(status == want, "%s: status %d, want %d: %r" % (what, status, want, body[:200]))
    check(not any(k.startswith("access-control-") for k in headers), "%s: CORS headers %r" % (what, headers))
    return body.decode(errors="replace")


def line_session(port, first):
    """Sends one first line; returns everything the console answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(first.encode() + b"\nlist\n")
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                return data.decode(errors="replace")
            data += chunk
    raise AssertionError("console kept a refused connection open: %r" % data[:200])


def main(skiff):
    with Group(skiff) as g:
        node = g.single().started()
        port, tok = node.console, obslib.CONSOLE_TOKEN
        run = "dbgcmd .launcher RUN require('skynet').error('%s')" % MARK
        run_path = "/dbgcmd/.launcher/RUN/require('skynet').error('%s')" % MARK

        # -- a page in the operator's browser (it cannot know the token, but
        #    even with it the request is refused for its Host / Origin / type)
        refused(port, 403, "DNS-rebound Host", method="GET", path="/list", host="evil.example:%d" % port, token=tok)
        refused(port, 403, "rebound Host without port", method="GET", path="/list", host="attacker.test", token=tok)
        refused(port, 403, "no Host", method="GET", path="/list", host=" ", token=tok)
        refused(port, 403, "cross-site Origin", method="GET", path="/list", origin="http://evil.example", token=tok)
        refused(port, 403, "Origin null", method="GET", path="/list", origin="null", token=tok)
        refused(port, 403, "text/plain POST from a page", method="POST", path="/", origin="http://evil.example",
                ctype="text/plain", body=run)
        refused(port, 401, "text/plain POST without token", method="POST", path="/", ctype="text/plain", body=run)
        refused(port, 415, "text/plain POST even with the token", method="POST", path="/", token=tok,
                ctype="text/plain", body=run)
        refused(port, 415, "form POST", method="POST", path="/", token=tok,
                ctype="application/x-www-form-urlencoded", body=run)
        refused(port, 415, "multipart POST", method="POST", path="/", token=tok,
                ctype="multipart/form-data; boundary=x", body=run)
        refused(port, 405, "GET of a state-changing command", method="GET", path=run_path, token=tok)
        refused(port, 405, "GET kill", method="GET", path="/kill/.launcher", token=tok)
        refused(port, 401, "GET without token", method="GET", path="/list")
        refused(port, 401, "GET with a wrong token", method="GET", path="/list", token="x" * 48)
        refused(port, 401, "token as a query string", method="GET", path="/list?token=%s" % tok)
        refused(port, 403, "CORS preflight", method="OPTIONS", path="/", origin="http://evil.example",
                extra="Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization\r\n",
                token=None)
        refused(port, 403, "two Host headers", method="GET", path="/list", token=tok,
                extra="Host: evil.example\r\n")

        # -- a stranger on the line protocol
        for first in ("list", "auth", "auth " + "y" * 48, "auth %s extra" % tok[:-1], "GET /list"):
            out = line_session(port, first)
            check("<CMD Error>" in out and "snlua" not in out, "line protocol %r: %r" % (first, out[:300]))
        check(len(re.findall(r"debug console: authentication failed from", node.text())) >= 4,
              "failed logins are logged")
        check("debug console: refused HTTP GET" in node.text(), "refused requests are logged")

        # -- the operator: the same commands work with the token, as the console's own client
        status, _, body = request(port, "GET", "/list", token=tok)
        check(status == 200 and b"snlua obs_traffic" in body, "GET /list with the token: %r" % body[:200])
        status, _, body = request(port, "GET", "/list", host="localhost:%d" % port, origin="http://localhost:%d" % port,
                                  token=tok)
        check(status == 200, "own origin is fine: %d" % status)
        status, _, body = request(port, "POST", "/", token=tok, ctype="application/x-skiff-command",
                                  body="setenv attack_test_key v7")
        check(status == 200 and b"<CMD" not in body, "POST setenv: %d %r" % (status, body))
        status, _, body = request(port, "GET", "/getenv/attack_test_key", token=tok)
        check(b"attack_test_key\tv7" in body, "GET getenv: %r" % body)

        # -- code-running commands are off without console_run, even for the operator
        status, _, body = request(port, "POST", "/", token=tok, ctype="application/x-skiff-command", body=run)
        check(status == 500 and b"console_run" in body and b"<CMD" not in body, "RUN refused: %d %r" % (status, body))
        c = Console(port)
        out = c.cmd("dbgcmd .launcher inject x", ok=False)
        check(any("console_run" in l for l in out), "dbgcmd INJECT refused: %r" % out)
        out = c.cmd("inject .launcher /dev/null", ok=False)
        check(any("console_run" in l for l in out), "inject refused: %r" % out)
        out = c.cmd("debug .launcher", ok=False)
        check(any("console_run" in l for l in out), "debug refused: %r" % out)
        check(c.cmd("ping .launcher")[0].isdigit(), "console serves after all that")
        c.close()
        time.sleep(0.3)
        check(MARK not in node.text(), "the page's code ran")

        # -- a token file the console must refuse: others may read it, or a FIFO
        loose = os.path.join(g.dir, "loose.token")
        with open(loose, "w") as f:
            f.write("z" * 40 + "\n")
        os.chmod(loose, 0o644)
        fifo = os.path.join(g.dir, "fifo.token")
        os.mkfifo(fifo, 0o600)
        short = os.path.join(g.dir, "short.token")
        fd = os.open(short, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"abc\n")
        os.close(fd)
        cases = [(loose, r"token file %s: group or others may access it \(mode 0644\); run chmod 600" % re.escape(loose)),
                 (fifo, r"token file %s: not a regular file" % re.escape(fifo)),
                 (short, r"token file %s: the token must be at least 16 characters" % re.escape(short)),
                 (None, r"debug console not started: set console_token")]
        for i, (path, rx) in enumerate(cases, 2):
            lines = [l for l in g.base() if not l.startswith("console_token")]
            if path:
                lines.append('console_token = "%s"' % path)
            n = Node(g, i, lines + ["harbor = 0", 'obs_role = "single"'])
            g.nodes[i] = n
            n.wait(rx, timeout=15)
            n.wait(r"OBS READY 0", timeout=15)  # the node itself runs on
            check("Start debug console" not in n.text(), "console started with %s" % path)
            n.kill()
    print("test_console_attack: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
