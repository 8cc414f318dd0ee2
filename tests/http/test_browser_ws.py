#!/usr/bin/env python3
"""A real browser against Skiff's WebSocket servers: headless Chromium (Debian
package chromium) loads a page from a Skiff httpd and talks to
  lua_ws    the Lua WebSocket server (http.websocket) over ws
  lua_wss   the same over wss (a certificate made now by the openssl command;
            Chromium runs with --ignore-certificate-errors)
  gate_bin  the C gate in WebSocket mode, binary frames
  gate_text the C gate in WebSocket mode, text frames (ws_frame=text)
The page (browser/ws_echo.html) writes one result line per endpoint into its
DOM; this test drives Chromium over the DevTools protocol (with Python's
websockets), reads the DOM, and checks every echo and the frame types each
server answered with, then that each server saw the browser close with 1000.

usage: test_browser_ws.py SKIFF
"""
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402
from run_http import make_cert  # noqa: E402

try:
    import websockets
except ImportError:
    print("test_browser_ws: FAIL: Python's websockets is missing: install the Debian package "
          "python3-websockets")
    sys.exit(1)

# endpoint -> the frame types its echoes must come in (T text, B binary):
# the Lua server answers in the type it got, the gates in their one type
KINDS = {"lua_ws": "TBT", "lua_wss": "TBT", "gate_bin": "BBB", "gate_text": "TTT"}


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        exe = shutil.which(name)
        if exe:
            return exe
    print("test_browser_ws: FAIL: no chromium: install the Debian package chromium")
    sys.exit(1)


def start_chromium(exe, tmp):
    """Headless Chromium with a DevTools port; returns (process, port)."""
    proc = subprocess.Popen(
        [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check", "--ignore-certificate-errors",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         "--user-data-dir=" + os.path.join(tmp, "chrome"), "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        raw = proc.stderr.readline()
        if not raw:
            break
        line = raw.decode(errors="replace")
        seen.append(line)
        m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    raise AssertionError("chromium did not open its DevTools port:\n" + "".join(seen[-30:]))


async def devtools_page(port, url, timeout):
    """Navigates the first page target to url; returns the result lines once DONE."""
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
        targets = json.load(r)
    page = next(t for t in targets if t.get("type") == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as dt:
        ids = iter(range(1, 1 << 30))

        async def call(method, **params):
            i = next(ids)
            await dt.send(json.dumps({"id": i, "method": method, "params": params}))
            while True:
                msg = json.loads(await dt.recv())
                if msg.get("id") == i:
                    check("error" not in msg, "%s: %r" % (method, msg.get("error")))
                    return msg["result"]

        await call("Page.enable")
        await call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            r = await call("Runtime.evaluate",
                           expression="(document.getElementById('results')||{}).textContent||''",
                           returnByValue=True)
            text = r["result"].get("value", "")
            if "DONE" in text:
                return text.splitlines()
            await asyncio.sleep(0.2)
        raise AssertionError("the page did not finish: %r" % text)


def main(skiff):
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="skiff-browser-") as tmp:
        cfg = harness.write_config(os.path.join(tmp, "config"), [
            "thread = 2", "harbor = 0", 'start = "browserws"',
            'luaservice = luaservice .. ";%s/lua/?.lua;%s/lua/?.lua"'
            % (HERE, os.path.join(os.path.dirname(HERE), "socket")),
            'enablessl = "true"',
            'browserws_page = "%s"' % os.path.join(HERE, "browser", "ws_echo.html"),
        ] + make_cert(tmp))
        node = harness.Node(skiff, cfg, cwd=tmp, log=os.path.join(tmp, "node.log"), name="browserws")
        browser = None
        try:
            m = node.wait(r"BROWSERWS READY http=(\d+) ws=(\d+) wss=(\d+)", timeout=30)
            http, ws, wss = (int(x) for x in m.groups())
            gates = {}
            for name in ("bin", "text"):
                handle = node.wait(r"WSGATE %s (:[0-9a-f]+)" % name).group(1)
                gates[name] = int(node.wait(r"\[%s\] gate: listen on 127\.0\.0\.1:(\d+)" % handle).group(1))
            query = "lua_ws=ws://127.0.0.1:%d/&lua_wss=wss://localhost:%d/&gate_bin=ws://127.0.0.1:%d/" \
                    "&gate_text=ws://127.0.0.1:%d/" % (ws, wss, gates["bin"], gates["text"])
            browser, dport = start_chromium(chromium, tmp)
            lines = asyncio.run(devtools_page(dport, "http://127.0.0.1:%d/?%s" % (http, query), 90))
            for ln in lines:
                print("page:", ln)
            results = {}
            for ln in lines:
                r = re.match(r"RESULT (\S+) (.*)$", ln)
                if r:
                    results[r.group(1)] = r.group(2)
            for name, kinds in KINDS.items():
                got = results.get(name)
                check(got is not None, "no result for %s" % name)
                check(got == "ok text=true binary=true big=true frames=" + kinds,
                      "%s: %s (want frames=%s)" % (name, got, kinds))
            node.wait(r"BROWSERWS http / 200")
            node.wait(r"BROWSERWS ws close \d+ code=1000")
            node.wait(r"BROWSERWS wss close \d+ code=1000")
            node.wait(r"WSGATE close \d+ bin")
            node.wait(r"WSGATE close \d+ text")
            check(node.proc.poll() is None, "node still running")
            text = node.text()
            check(harness.sanitizer_report(text) is None, "sanitizer report in the log")
            check(not re.search(r"accept failed|WSGATE FAIL|stack traceback|websocket connection \d+ .* closed",
                                text), "errors in the node's log")
        except Exception:
            print(node.text()[-6000:])
            raise
        finally:
            if browser:
                os.killpg(browser.pid, 9)
                browser.wait()
            node.kill()
    print("test_browser_ws: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
