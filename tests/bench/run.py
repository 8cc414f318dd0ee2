#!/usr/bin/env python3
"""Run Skiff's benchmarks and print a table (median, min, max over N runs).

usage: tests/bench/run.py [--build DIR] [--runs N] [--quick] [--only SUBSTR ...]
                          [--csv FILE] [--svg FILE]

Every benchmark is a real `skiff` node (or a small C program) whose output
line carries the figure. --quick uses small counts so CI can check that the
benchmarks still run; its numbers mean nothing. Figures are never asserted.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def run_node(build, config_lines, timeout=300):
    with tempfile.TemporaryDirectory(prefix="skiff-bench-") as tmp:
        cfg = os.path.join(tmp, "config")
        with open(cfg, "w") as f:
            f.write("\n".join(config_lines) + "\n")
        p = subprocess.run([os.path.join(build, "skiff"), cfg], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, cwd=tmp)
        return p.stdout.decode(errors="replace")


def c_node(n, flood=False, thread=2):
    def run(build):
        cpath = os.path.join(build, "tests", "core", "?.so")
        arg = "%d flood" % n if flood else "%d" % n
        out = run_node(build, ["thread = %d" % thread, 'cpath = cpath .. ";%s"' % cpath,
                               'bootstrap = "tping %s"' % arg])
        m = re.search(r"TPING OK \d+ ([\d.]+) us/msg (\d+) msgs/s", out)
        if not m:
            raise RuntimeError("no result in output:\n" + out)
        return {"msgs/s": float(m.group(2)), "us/msg": float(m.group(1))}
    return run


# (name, function(build) -> {unit: value}, unit reported, quick-mode function);
# unit "*" reports every "<metric> <unit>" key the function returns.
BENCHES = [
    ("C ping-pong round trip (2 services)", c_node(200000), "msgs/s", c_node(2000)),
    ("C one-way flood (producer -> consumer)", c_node(2000000, flood=True), "msgs/s",
     c_node(20000, flood=True)),
]


def extra_benches():
    """Benchmarks contributed by other suites: a file tests/bench/*.bench.py
    exposing BENCHES in the same shape is picked up automatically."""
    found = []
    for fn in sorted(os.listdir(HERE)):
        if fn.endswith(".bench.py"):
            ns = {"__file__": os.path.join(HERE, fn), "run_node": run_node, "ROOT": ROOT}
            with open(os.path.join(HERE, fn)) as f:
                exec(compile(f.read(), fn, "exec"), ns)
            found.extend(ns.get("BENCHES", []))
    return found


def svg_chart(rows, path):
    width, bar_h, gap, left = 900, 18, 8, 380
    height = 40 + len(rows) * (bar_h + gap)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14">Skiff benchmarks (median; whiskers = min..max)</text>']
    y = 40
    for name, unit, med, lo, hi in rows:
        scale = (width - left - 120) / hi if hi > 0 else 0
        out.append('<text x="10" y="%d">%s</text>' % (y + 13, name.replace("&", "&amp;").replace("<", "&lt;")))
        out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#4a7ab8"/>' % (left, y, med * scale, bar_h))
        out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black"/>' % (left + lo * scale, left + hi * scale, y + bar_h / 2, y + bar_h / 2))
        out.append('<text x="%.1f" y="%d">%.4g %s</text>' % (left + hi * scale + 6, y + 13, med, unit))
        y += bar_h + gap
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--csv")
    ap.add_argument("--svg")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    runs = 1 if a.quick else a.runs

    benches = BENCHES + extra_benches()
    if a.only:
        benches = [b for b in benches if any(s.lower() in b[0].lower() for s in a.only)]

    print("machine: %d CPUs, %s" % (os.cpu_count(), cpu_model()))
    print("command: %s" % " ".join([os.path.relpath(sys.argv[0], os.getcwd())] + sys.argv[1:]))
    print("%-48s %14s %14s %14s  %s" % ("benchmark", "median", "min", "max", "unit"))
    rows, failures = [], 0
    for name, fn, unit, quick_fn in benches:
        f = quick_fn if a.quick else fn
        samples = {}  # row label -> (unit, [values])
        try:
            for _ in range(runs):
                result = f(build)
                # unit "*": every key of the result is its own row, named
                # "<metric> <unit>" by the benchmark.
                items = result.items() if unit == "*" else [(None, result[unit])]
                for key, value in items:
                    label, u = (name, unit) if key is None else ("%s: %s" % (name, key.rsplit(" ", 1)[0]),
                                                                 key.rsplit(" ", 1)[-1])
                    samples.setdefault(label, (u, []))[1].append(value)
        except Exception as e:  # report and go on: one broken bench must not hide the rest
            print("%-48s  FAILED: %s" % (name, str(e).splitlines()[0] if str(e) else e))
            failures += 1
            continue
        for label, (u, vals) in samples.items():
            med, lo, hi = statistics.median(vals), min(vals), max(vals)
            rows.append((label, u, med, lo, hi))
            print("%-48s %14.6g %14.6g %14.6g  %s" % (label, med, lo, hi, u))
        sys.stdout.flush()
    ratios = [r for r in rows if r[1] == "x"]
    if ratios:
        print("\ncross-node round trips as a multiple of a raw loopback TCP round trip"
              " (two blocking threads, TCP_NODELAY) measured in the same run:")
        for label, u, med, lo, hi in ratios:
            print("  %-46s %6.2fx  (min %.2fx, max %.2fx)" % (label, med, lo, hi))
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("benchmark,unit,median,min,max,runs\n")
            for name, unit, med, lo, hi in rows:
                f.write('"%s",%s,%g,%g,%g,%d\n' % (name, unit, med, lo, hi, runs))
    if a.svg:
        svg_chart(rows, a.svg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
