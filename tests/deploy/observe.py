"""What the deploy tests check of a running demo cluster's observability: every node's
dashboard and console JSON, its /metrics, and the Prometheus server scraping them.  Used by
test_docker.py (compose, published ports) and test_demo_local.py (tools/demo.sh's processes).

Every check raises Fail with what it saw; the polls give up after their timeout."""
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

DASHBOARD_TITLE = "<title>Skiff cluster</title>"


class Fail(Exception):
    pass


def http(url, token=None, header=None, timeout=10):
    """status, content type, body of a GET (an HTTP error status is an answer, not a failure)"""
    req = urllib.request.Request(url, headers=dict(header or {}))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8", "replace")


def poll(what, timeout, probe):
    """probe() -> (done, state); polls until done, else raises Fail with the last state"""
    end = time.monotonic() + timeout
    while True:
        try:
            done, state = probe()
        except (OSError, ValueError, KeyError) as e:
            done, state = False, repr(e)
        if done:
            return state
        if time.monotonic() > end:
            raise Fail("%s: not within %d s; last: %s" % (what, timeout, state))
        time.sleep(1)


def check_dashboard(name, base, token, ids, wrong_token=None):
    """The console at base serves the dashboard page, keeps its guards (no token or
    wrong_token: 401; a foreign Origin: 403), and its json/overview lists the nodes `ids`, all
    up, each with its load (so every node's console answers).  Returns a summary."""
    status, ctype, body = http(base + "/")
    if status != 200 or not ctype.startswith("text/html") or DASHBOARD_TITLE not in body:
        raise Fail("%s's dashboard GET /: %d %s %r" % (name, status, ctype, body[:200]))
    for bad in (None, wrong_token):
        status, _, body = http(base + "/json/overview", bad)
        if status != 401:
            raise Fail("%s's console answered json/overview with token %r: %d %r" % (name, bad, status, body[:200]))
    status, _, _ = http(base + "/", header={"Origin": "http://evil.example"})
    if status != 403:
        raise Fail("%s's console served a cross-site Origin: %d" % (name, status))

    def overview():
        status, _, body = http(base + "/json/overview", token)
        if status != 200:
            return False, "%d %s" % (status, body[:300])
        doc = json.loads(body)["result"]
        nodes = {n["id"]: n.get("state") for n in doc["nodes"]}
        loads = {l["node"]: l.get("error") for l in doc["load"]}
        ok = nodes == {i: "up" for i in ids} and sorted(loads) == sorted(ids) and not any(loads.values())
        return ok, "nodes %s, load errors %s" % (nodes, loads)
    return poll("%s's json/overview lists nodes %s with their load" % (name, sorted(ids)), 30, overview)


def check_metrics(name, url, token):
    """/metrics at url wants the token (401 without) and renders Skiff's metrics with it."""
    status, _, _ = http(url)
    if status != 401:
        raise Fail("%s's /metrics answered %d without the token" % (name, status))
    status, _, body = http(url, token)
    if status != 200 or "skiff_messages_dispatched_total" not in body:
        raise Fail("%s's /metrics with the token: %d %r" % (name, status, body[:300]))


def check_prometheus(base, names):
    """The Prometheus at base has every node of `names` (its `node` label) as a target that is
    up, and a PromQL query returns a Skiff metric from each.  Returns a summary."""
    def targets():
        status, _, body = http(base + "/api/v1/targets")
        if status != 200:
            return False, "%d %s" % (status, body[:300])
        active = json.loads(body)["data"]["activeTargets"]
        health = {t["labels"].get("node"): (t["health"], t.get("lastError")) for t in active}
        return sorted(health) == sorted(names) and all(h == "up" for h, _ in health.values()), health
    up = poll("Prometheus sees every node's target up", 60, targets)

    def query():
        q = urllib.parse.quote("sum by (node) (skiff_messages_dispatched_total)")
        status, _, body = http(base + "/api/v1/query?query=" + q)
        if status != 200:
            return False, "%d %s" % (status, body[:300])
        result = {r["metric"].get("node"): float(r["value"][1]) for r in json.loads(body)["data"]["result"]}
        return sorted(result) == sorted(names) and all(v > 0 for v in result.values()), result
    got = poll("PromQL returns skiff_messages_dispatched_total from every node", 30, query)
    return "targets %s; messages dispatched by node %s" % (up, got)


def check_printed(out, names, ids, tokens, metrics_token, wrong_token):
    """What a demo script printed (tools/demo.sh, tools/demo.sh --compose): for each node of
    `names` its dashboard address ("demo:   NAME    http://...") and its /metrics (a curl
    line), and the Prometheus address; each is opened and checked as above.  tokens: name ->
    console token; wrong_token(name): a token that console must refuse.  Returns summaries."""
    summary = []
    for name in names:
        m = re.search(r"^demo:   %s\s+(http://127\.0\.0\.1:\d+)/$" % name, out, re.M)
        if not m:
            raise Fail("the demo printed no dashboard address for %s" % name)
        state = check_dashboard(name, m.group(1), tokens[name], ids, wrong_token=wrong_token(name))
        summary.append("%s %s" % (name, state))
        m = re.search(r"^demo:   %s\s+curl .*(http://127\.0\.0\.1:\d+/metrics)$" % name, out, re.M)
        if not m:
            raise Fail("the demo printed no metrics address for %s" % name)
        check_metrics(name, m.group(1), metrics_token)
    m = re.search(r"^demo: Prometheus  (http://127\.0\.0\.1:\d+)/", out, re.M)
    if not m:
        raise Fail("the demo printed no Prometheus address (is the Debian package prometheus installed?)")
    summary.append("prometheus " + check_prometheus(m.group(1), names))
    return summary
