#!/usr/bin/env python3
"""The console's web dashboard in a real browser (issue 22).

usage: test_dashboard.py SKIFF

Three harbor nodes (node 1 runs the master; node 1 calls services on nodes 2
and 3 in a loop).  Headless Chromium (Debian package chromium), driven over
the DevTools protocol on a pipe (--remote-debugging-pipe), opens node 2's
console at /, sees the login form, gets the token typed in and submitted, and
then reads the live page: three nodes up with their incarnations, links with
traffic, the global names, message rates; the token sits in sessionStorage and
the page loaded nothing from another origin.  Node 3 is killed: the page shows
it down.  Node 3 is started again: the page shows it up with a new
incarnation.  A wrong token gets the login form back with an error.
Without chromium the test fails with a line naming the package.
"""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

from obslib import Group, check
import obslib
import harness  # noqa: E402  (on sys.path once obslib is imported)


class Browser:
    """Chromium with the DevTools protocol on fds 3 (commands) and 4 (events,
    answers): JSON messages, each ended by a NUL byte."""

    def __init__(self, exe, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child():
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.closerange(5, 4096)
        self.log = open(os.path.join(profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--remote-debugging-pipe",
             "--user-data-dir=" + os.path.join(profile, "profile"), "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, close_fds=False, preexec_fn=child)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.session = None

    def send(self, method, params=None, session=True, timeout=15):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self.buf:
                check(time.monotonic() < deadline, "chromium: no answer to %s" % method)
                r, _, _ = select.select([self.from_chrome], [], [], 0.5)
                if r:
                    chunk = os.read(self.from_chrome, 1 << 20)
                    check(chunk, "chromium closed the DevTools pipe (log: %s)" % self.log.name)
                    self.buf += chunk
            raw, _, self.buf = self.buf.partition(b"\0")
            doc = json.loads(raw)
            if doc.get("id") == self.next_id:
                check("error" not in doc, "%s: %r" % (method, doc.get("error")))
                return doc["result"]

    def open(self, url):
        target = self.send("Target.createTarget", {"url": url}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]

    def js(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        check("exceptionDetails" not in r, "page script %r: %r" % (expr, r.get("exceptionDetails")))
        return r["result"].get("value")

    def wait(self, expr, what, timeout=30):
        """Evaluates expr until it is truthy (an exception counts as not yet:
        the page may still be loading)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
            last = r.get("exceptionDetails", {}).get("text") or r["result"].get("value")
            if "exceptionDetails" not in r and last:
                return last
            time.sleep(0.2)
        page = self.send("Runtime.evaluate", {"expression": "document.body ? document.body.innerText : ''",
                                              "returnByValue": True})["result"].get("value")
        raise AssertionError("browser: timed out waiting for %s (last: %r; page: %r)" % (what, last, (page or "")[:300]))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


NODE_ROWS = ("JSON.stringify([...document.querySelectorAll('#nodes tbody tr')].map(r => "
             "({id: +r.dataset.node, state: r.dataset.state, inc: r.dataset.incarnation, "
             "cells: [...r.cells].map(c => c.textContent)})))")


def nodes_where(b, pred, what, timeout=30):
    def probe():
        rows = json.loads(b.js(NODE_ROWS))
        return rows if rows and pred({r["id"]: r for r in rows}) else None
    return {r["id"]: r for r in b.wait_fn(probe, what, timeout)}


def wait_fn(self, fn, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = fn()
        if r:
            return r
        time.sleep(0.2)
    raise AssertionError("browser: timed out waiting for " + what)


Browser.wait_fn = wait_fn


def main(skiff):
    exe = shutil.which("chromium")
    if exe is None:
        print("test_dashboard: FAIL: chromium is missing (install the Debian package chromium; tools/deps.sh does)")
        return 1
    with Group(skiff) as g, tempfile.TemporaryDirectory(prefix="skiff-chromium-") as prof:
        nodes = g.cluster(3, timeout=2)
        for n in nodes:
            n.started(timeout=30)
        port = nodes[1].console
        b = Browser(exe, prof)
        try:
            b.open("http://127.0.0.1:%d/" % port)
            b.wait("document.readyState === 'complete' && !document.getElementById('login').hidden",
                   "the login form")
            # a wrong token: the form comes back with the console's refusal
            b.js("document.getElementById('token').value = '%s'; "
                 "document.getElementById('login').requestSubmit(); true" % ("w" * 40))
            b.wait("document.getElementById('login-error').textContent.includes('refused')", "refusal shown")
            check(b.js("sessionStorage.getItem('skiffConsoleToken')") is None, "a refused token is dropped")
            # the right one
            b.js("document.getElementById('token').value = '%s'; "
                 "document.getElementById('login').requestSubmit(); true" % obslib.CONSOLE_TOKEN)
            b.wait("!document.getElementById('main').hidden && +document.body.dataset.updates >= 3",
                   "three live updates")
            check(b.js("sessionStorage.getItem('skiffConsoleToken')") == obslib.CONSOLE_TOKEN,
                  "token kept in sessionStorage")
            check(b.js("document.getElementById('token').value") == "", "token field cleared")
            rows = nodes_where(b, lambda m: len(m) == 3 and all(r["state"] == "up" for r in m.values()),
                               "three nodes up")
            first_inc = rows[3]["inc"]
            check(len(first_inc) == 16, "incarnation shown: %r" % rows[3])
            # message rates are numbers once two answers came
            rates = b.wait("(() => { const r = [...document.querySelectorAll('#nodes tbody tr')]"
                           ".map(t => t.cells[6].textContent); return r.every(x => /^[0-9.]+$/.test(x)) && r; })()",
                           "message rates")
            check(float(rates[0]) > 0, "node 1 dispatches messages: %r" % rates)
            # every node's links with traffic, and heartbeat RTTs (a heartbeat, and so an RTT,
            # is only measured on a link that is otherwise quiet: some show "-")
            links = b.wait("(() => { const r = [...document.querySelectorAll('#links tbody tr[data-peer]')]"
                           ".map(t => [t.dataset.node, t.dataset.peer, t.cells[3].textContent, t.cells[6].textContent]);"
                           " return r.length == 6 && r.some(l => / m?s$/.test(l[2])) && r; })()",
                           "the links of every node, RTT shown")
            check(all(l[2] == "-" or l[2].endswith(" ms") or l[2].endswith(" s") for l in links), "RTT cells: %r" % links)
            check(sorted((l[0], l[1]) for l in links) == [("1", "2"), ("1", "3"), ("2", "1"), ("2", "3"), ("3", "1"), ("3", "2")],
                  "links: %r" % links)
            check(all(l[3] not in ("-", "0") for l in links), "bytes sent on every link: %r" % links)
            names = b.wait("(() => { const n = [...document.querySelectorAll('#names tbody tr')].map(t => t.dataset.name);"
                           " return n.includes('echo2') && n.includes('echo3') && n; })()", "global names")
            check("skiffcon1" in names, "console names: %r" % names)
            foreign = b.js("performance.getEntriesByType('resource').map(e => e.name)"
                           ".filter(u => !u.startsWith(location.origin))")
            check(foreign == [], "only same-origin resources: %r" % foreign)

            # node 3 goes down ...
            nodes[2].kill()
            rows = nodes_where(b, lambda m: m.get(3, {}).get("state") == "down", "node 3 shown down")
            check(rows[1]["state"] == "up" and rows[2]["state"] == "up", "the others stay up: %r" % rows)
            # ... and comes back with a new incarnation
            again = harness.Node(g.skiff, nodes[2].conf, cwd=g.dir, name="3b",
                                 log=os.path.join(g.dir, "node3b.log"))
            again.id = 3
            g.nodes[33] = again
            again.wait(r"OBS READY 3", timeout=30)
            rows = nodes_where(b, lambda m: m.get(3, {}).get("state") == "up" and m[3]["inc"] != first_inc,
                               "node 3 up again with a new incarnation")
            check(rows[3]["inc"] != first_inc, "new incarnation: %r" % rows[3])
        finally:
            b.close()
    print("test_dashboard: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
