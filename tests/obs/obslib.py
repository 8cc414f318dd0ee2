"""Helpers of the obs tests: real skiff nodes on 127.0.0.1, their debug console,
their metrics endpoint, and a parser of the Prometheus text format.

Ports are picked at run time (port 0 in the config; the bound port is read
from the node's log).  Every wait has a deadline; every node is killed at the
end of its `with` block.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402
from harness import free_port, wait_for  # noqa: E402,F401  (tests import them from here)
ROOT = os.path.dirname(os.path.dirname(HERE))
STATUS_TOOL = os.path.join(ROOT, "tools", "skiff-status")

# The console token of the current Group (one group at a time per test): the
# Console class and http_get present it; skiff-status reads the file named by
# SKIFF_CONSOLE_TOKEN_FILE, which the Group sets for the programs it runs.
CONSOLE_TOKEN = None


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Node(harness.Node):
    def __init__(self, group, nid, lines):
        self.group = group
        self.id = nid
        self.conf = harness.write_config(os.path.join(group.dir, "node%d.conf" % nid), lines)
        super().__init__(group.skiff, self.conf, cwd=group.dir, name=str(nid),
                         log=os.path.join(group.dir, "node%d.log" % nid))
        self.console = None
        self.metrics = None

    def started(self, timeout=15):
        self.console = int(self.wait(r"Start debug console at 127\.0\.0\.1:(\d+)", timeout).group(1))
        self.metrics = int(self.wait(r"Start metrics at 127\.0\.0\.1:(\d+)", timeout).group(1))
        self.wait(r"OBS READY %d" % self.group.harbor_id(self), timeout)
        return self


class Group:
    """Nodes of one test: a single node (harbor = 0) or a harbor cluster."""

    def __init__(self, skiff):
        self.skiff = os.path.abspath(skiff)
        self.tmp = tempfile.TemporaryDirectory(prefix="skiff-obs-")
        self.dir = self.tmp.name
        self.nodes = {}
        self.key = None
        self.master_port = None
        global CONSOLE_TOKEN
        self.token_file, CONSOLE_TOKEN = harness.make_token(os.path.join(self.dir, "console.token"))
        os.environ["SKIFF_CONSOLE_TOKEN_FILE"] = self.token_file

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for n in self.nodes.values():
            n.kill()
        if exc[0] is not None:
            for n in self.nodes.values():
                print("---- node %d log ----" % n.id)
                print(n.text()[-5000:])
        self.tmp.cleanup()

    def harbor_id(self, node):
        return 0 if self.key is None else node.id

    def base(self):
        return [
            "thread = 2",
            'start = "obs_traffic"',
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'console = "127.0.0.1:0"',
            'console_token = "%s"' % self.token_file,
            'metrics_token = "%s"' % self.token_file,
        ]

    def single(self, extra=()):
        lines = self.base() + ["harbor = 0", 'metrics = "127.0.0.1:0"', 'obs_role = "single"'] + list(extra)
        n = Node(self, 1, lines)
        self.nodes[1] = n
        return n

    def cluster(self, count=3, timeout=2):
        self.key = os.path.join(self.dir, "cluster.key")
        subprocess.run([self.skiff, "--genkey", self.key], check=True, timeout=30)
        self.master_port = free_port()
        for nid in range(1, count + 1):
            lines = self.base() + [
                "harbor = %d" % nid,
                'address = "127.0.0.1:%d"' % free_port(),
                'master = "127.0.0.1:%d"' % self.master_port,
                'cluster_key = "%s"' % self.key,
                "harbor_timeout = %s" % timeout,
                'metrics = "127.0.0.1:0"',
                'obs_role = "cluster"',
            ]
            if nid == 1:
                lines.append('standalone = "127.0.0.1:%d"' % self.master_port)
            self.nodes[nid] = Node(self, nid, lines)
        return [self.nodes[i] for i in range(1, count + 1)]


# ---- HTTP -----------------------------------------------------------------------

def http_raw(port, request, timeout=10):
    """Sends raw request bytes; returns (status, headers dict, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = harness.recv_all(s)
    head, sep, body = data.partition(b"\r\n\r\n")
    check(sep, "no end of headers in %r" % data[:200])
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"^HTTP/1\.1 (\d{3}) ", lines[0])
    check(m, "bad status line %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    check("content-length" in headers, "no Content-Length in %r" % lines)
    head_only = request.startswith(b"HEAD ")
    check(head_only or int(headers["content-length"]) == len(body),
          "Content-Length %s but %d body bytes" % (headers["content-length"], len(body)))
    return int(m.group(1)), headers, body


def http_get(port, path, method="GET"):
    auth = "Authorization: Bearer %s\r\n" % CONSOLE_TOKEN if CONSOLE_TOKEN else ""
    req = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: obs-test\r\n%s\r\n" % (method, path, port, auth)
    return http_raw(port, req.encode())


# ---- the Prometheus text format ----------------------------------------------------

METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$")
LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_value(v):
    if v in ("NaN", "+Inf", "-Inf"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    return float(v)  # raises on anything that is not a number


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}.get(m.group(1), "\\" + m.group(1)), v)


def parse_prometheus(text):
    """Parses exposition text strictly; returns {family: {"type", "help",
    "samples": {labels tuple: value}}}.  Raises AssertionError on anything the
    format does not allow."""
    families = {}
    seen_series = set()
    check(text.endswith("\n"), "exposition text must end with a newline")
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (lineno, line)
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                check(METRIC_RE.match(name), "bad metric name: " + where)
                fam = families.setdefault(name, {"type": None, "help": None, "samples": {}})
                if parts[1] == "TYPE":
                    check(fam["type"] is None, "second TYPE: " + where)
                    check(not fam["samples"], "TYPE after samples: " + where)
                    check(len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"),
                          "bad TYPE: " + where)
                    fam["type"] = parts[3]
                else:
                    check(fam["help"] is None, "second HELP: " + where)
                    fam["help"] = parts[3] if len(parts) == 4 else ""
            continue
        check(line.strip() != "", "empty line inside the text: " + where)
        m = SAMPLE_RE.match(line)
        check(m, "not a sample: " + where)
        name, labels_text, value = m.group(1), m.group(2), m.group(3)
        labels = []
        if labels_text:
            pos = 0
            while pos < len(labels_text):
                lm = LABEL_RE.match(labels_text, pos)
                check(lm and lm.end() > pos, "bad labels: " + where)
                labels.append((lm.group(1), unescape(lm.group(2))))
                pos = lm.end()
        names = [k for k, _ in labels]
        check(len(set(names)) == len(names), "repeated label: " + where)
        fam = families.get(name)
        check(fam is not None and fam["type"] is not None, "sample without a TYPE line before it: " + where)
        key = tuple(sorted(labels))
        check((name, key) not in seen_series, "duplicate series: " + where)
        seen_series.add((name, key))
        fam["samples"][key] = parse_value(value)
    return families


def value(fams, name, **labels):
    fam = fams.get(name)
    check(fam is not None, "no metric " + name)
    want = set((k, str(v)) for k, v in labels.items())
    hits = [v for k, v in fam["samples"].items() if want <= set(k)]
    check(len(hits) == 1, "%s%r: %d samples match" % (name, labels, len(hits)))
    return hits[0]


def scrape(port):
    status, headers, body = http_get(port, "/metrics")
    check(status == 200, "GET /metrics: %d" % status)
    ctype = headers.get("content-type", "")
    check(ctype.startswith("text/plain") and "version=0.0.4" in ctype, "Content-Type " + ctype)
    check(headers.get("connection", "").lower() == "close", "Connection: close")
    return parse_prometheus(body.decode())


# ---- the console ----------------------------------------------------------------------

class Console:
    def __init__(self, port, timeout=15, token=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.timeout = timeout
        self.cmd("auth " + (token or CONSOLE_TOKEN))

    def close(self):
        self.sock.close()

    def cmd(self, line, ok=True):
        """Runs one command; returns its lines (terminator and welcome excluded)."""
        self.sock.sendall(line.encode() + b"\n")
        deadline = time.monotonic() + self.timeout
        while True:
            m = re.search(rb"<CMD (OK|Error)>\n", self.buf)
            if m:
                break
            check(time.monotonic() < deadline, "%r: no answer; got %r" % (line, self.buf[-300:]))
            chunk = self.sock.recv(65536)
            check(chunk, "%r: console closed" % line)
            self.buf += chunk
        body = self.buf[:m.start()].decode(errors="replace")
        self.buf = self.buf[m.end():]
        status = m.group(1).decode()
        lines = [l for l in body.split("\n") if l and not l.startswith("Welcome")]
        check((status == "OK") == ok, "%r: %s: %r" % (line, status, lines))
        return lines

    def json(self, line, ok=True):
        import json
        lines = self.cmd("json " + line, ok=ok)
        check(len(lines) == 1, "json %s: one line expected, got %r" % (line, lines))
        doc = json.loads(lines[0])
        check(doc["ok"] is ok, "json %s: ok=%r" % (line, doc["ok"]))
        return doc["result"] if ok else doc["error"]
