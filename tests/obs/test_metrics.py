#!/usr/bin/env python3
"""The metrics endpoint on a single node (harbor = 0) while traffic flows.

usage: test_metrics.py SKIFF

Scrapes /metrics twice over HTTP, parses the text strictly, and checks the
names and conventions, that the counters move with the traffic, the HTTP
answers for other paths and methods, that a scraper which stalls or never
reads does not hang the node, and that a bare port binds 127.0.0.1.
"""
import socket
import sys
import time

from obslib import Group, check, free_port, http_get, http_raw, scrape, value, wait_for, Console


def conventions(fams):
    for name, fam in fams.items():
        check(name.startswith("skiff_"), "prefix: " + name)
        check(fam["help"], "HELP for " + name)
        if fam["type"] == "counter":
            check(name.endswith("_total"), "counter without _total: " + name)
        else:
            check(not name.endswith("_total"), "_total on a %s: %s" % (fam["type"], name))
        for labels, v in fam["samples"].items():
            if fam["type"] == "counter":
                check(v >= 0, "negative counter %s%r" % (name, labels))


def main(skiff):
    with Group(skiff) as g:
        node = g.single().started()
        port = node.metrics

        a = scrape(port)
        conventions(a)
        for name, kind in [
            ("skiff_services", "gauge"), ("skiff_module_services", "gauge"),
            ("skiff_messages_dispatched_total", "counter"), ("skiff_worker_busy_seconds_total", "counter"),
            ("skiff_timer_events_total", "counter"), ("skiff_overload_warnings_total", "counter"),
            ("skiff_queue_length", "gauge"), ("skiff_queue_length_max", "gauge"),
            ("skiff_sockets_open", "gauge"), ("skiff_socket_received_bytes_total", "counter"),
            ("skiff_socket_sent_bytes_total", "counter"), ("skiff_lua_memory_bytes", "gauge"),
            ("skiff_node_info", "gauge"), ("skiff_global_names", "gauge"),
        ]:
            check(name in a and a[name]["type"] == kind, "%s as a %s" % (name, kind))
        check(value(a, "skiff_services") >= 7, "services alive")
        check(value(a, "skiff_module_services", module="snlua") >= 6, "snlua services")
        check(value(a, "skiff_lua_memory_bytes") > 100000, "Lua memory")
        check(value(a, "skiff_sockets_open", type="listen") >= 3, "listen sockets (console, metrics, test)")
        # the test pair connects in the start service's own time: wait for it
        wait_for(lambda: (value(scrape(port), "skiff_sockets_open", type="tcp") or 0) >= 3,
                 "tcp sockets (test pair + this scrape)")
        check(value(a, "skiff_node_info", node="0", mode="single") == 1, "node info")

        time.sleep(1.0)
        b = scrape(port)
        conventions(b)
        for name, labels in [("skiff_messages_dispatched_total", {"module": "snlua"}),
                             ("skiff_timer_events_total", {}), ("skiff_worker_busy_seconds_total", {}),
                             ("skiff_socket_received_bytes_total", {}), ("skiff_socket_sent_bytes_total", {}),
                             ("skiff_metrics_scrapes_total", {})]:
            va, vb = value(a, name, **labels), value(b, name, **labels)
            check(vb > va, "%s%r must move with traffic: %s -> %s" % (name, labels, va, vb))
        # ~50 round trips of 1000 bytes each way per second on the test socket
        moved = value(b, "skiff_socket_sent_bytes_total") - value(a, "skiff_socket_sent_bytes_total")
        check(moved >= 20000, "socket bytes sent in a second: %s" % moved)
        # counters never go back
        for name, fam in a.items():
            if fam["type"] != "counter" or name not in b:
                continue
            for labels, v in fam["samples"].items():
                if labels in b[name]["samples"]:
                    check(b[name]["samples"][labels] >= v, "counter %s%r went back" % (name, labels))

        # HTTP details
        status, headers, body = http_get(port, "/metrics", method="HEAD")
        check(status == 200 and body == b"" and int(headers["content-length"]) > 1000,
              "HEAD /metrics: %d, %r" % (status, headers))
        status, _, _ = http_get(port, "/nope")
        check(status == 404, "404 for another path: %d" % status)
        status, headers, _ = http_get(port, "/metrics", method="POST")
        check(status == 405 and "GET" in headers.get("allow", ""), "405 for POST: %d" % status)
        status, _, _ = http_raw(port, b"garbage\r\n\r\n")
        check(status == 400, "400 for garbage: %d" % status)
        status, _, body = http_get(port, "/metrics?x=1")
        check(status == 200 and b"skiff_services" in body, "query string ignored")

        # A scraper that stalls half-way through its request, and one that never
        # reads its answer, must not hang the node: scrapes and the console still
        # answer at once, and the stalled connection is closed within the timeout.
        stalled = socket.create_connection(("127.0.0.1", port), timeout=15)
        stalled.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        lazy = []
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            lazy.append(s)
        t0 = time.monotonic()
        scrape(port)
        c = Console(node.console)
        check(c.cmd("ping .launcher")[0].isdigit(), "console answers during a stalled scrape")
        check(time.monotonic() - t0 < 3, "scrape + console answered quickly")
        stalled.settimeout(15)
        t0 = time.monotonic()
        data = stalled.recv(100)
        check(data == b"", "a stalled request is closed without an answer, got %r" % data)
        check(time.monotonic() - t0 < 10, "stalled request closed within the timeout")
        stalled.close()
        for s in lazy:
            s.close()
        c.close()
        check(node.proc.poll() is None, "node alive")

        # the console's `metrics` asks the metrics service and parses the same way
        c = Console(node.console)
        from obslib import parse_prometheus
        fams = parse_prometheus("\n".join(c.cmd("metrics")) + "\n")
        check("skiff_services" in fams, "console metrics")
        c.close()

    # A bare port in `metrics` binds 127.0.0.1 on that port.
    with Group(skiff) as g:
        port = free_port()
        node = g.single(extra=["metrics = %d" % port])
        node.wait(r"Start metrics at 127\.0\.0\.1:%d\b" % port)
        node.wait(r"OBS READY 0")
        wait_for(lambda: "skiff_services" in scrape(port), "scrape on the bare port")
    print("test_metrics: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
