# Database client benchmarks for tests/bench/run.py, each beside a reference
# measured in the same run against the same server:
#  - Redis GET one at a time: skynet.db.redis vs redis-benchmark -c 1;
#  - Redis GET pipelined 100 deep: the same with -P 100;
#  - MySQL "SELECT 1" one at a time: skynet.db.mysql vs the mariadb client
#    running the same statements in one session.
# The servers are started by dblib.py (tests/db) on free ports.
import os
import re
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "db"))
sys.path.insert(0, os.path.dirname(_HERE))
import dblib  # noqa: E402
import harness  # noqa: E402


def _redis_benchmark(port, n, pipeline):
    exe = dblib.require_program("redis-benchmark", "redis-tools")
    # a few hundred pipelined GETs finish inside one of its clock ticks and it
    # prints "inf requests per second": never ask it for fewer than 20,000
    n = max(n, 20000)
    out = subprocess.run([exe, "-p", str(port), "-t", "get", "-n", str(n), "-c", "1", "-P", str(pipeline), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300).stdout.decode()
    m = re.search(r"GET: ([\d.]+) requests per second", out.replace("\r", "\n"))
    if not m:
        raise RuntimeError("redis-benchmark: " + out.replace("\r", "\n").strip())
    return float(m.group(1))


def _mariadb_client(m, n):
    sql = "SELECT 1 AS one;\n" * n
    t0 = time.monotonic()
    r = subprocess.run([m.client, "--no-defaults", "-h", "127.0.0.1", "-P", str(m.port), "-unative",
                        "-pn4tive pw", "skiff_test", "--batch", "--skip-column-names"],
                       input=sql.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    secs = time.monotonic() - t0
    if r.returncode != 0 or r.stdout.count(b"1\n") != n:
        raise RuntimeError("mariadb client: " + r.stdout.decode(errors="replace")[-2000:])
    return n / secs


def _db(n):
    def run(build):
        with tempfile.TemporaryDirectory(prefix="skiff-dbbench-") as tmp:
            with dblib.RedisServer(tmp) as rs, dblib.MariaDB(tmp) as m:
                m.sql("CREATE DATABASE skiff_test;"
                      "CREATE USER 'native'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('n4tive pw');"
                      "GRANT ALL ON skiff_test.* TO 'native'@'127.0.0.1';")
                lines = ["thread = 2", "harbor = 0", 'start = "db_bench_service"',
                         'luaservice = luaservice .. ";%s/?.lua"' % _HERE,
                         'db_host = "127.0.0.1"', 'redis_port = "%d"' % rs.port, 'mysql_port = "%d"' % m.port,
                         'mysql_user = "native"', 'mysql_password = "n4tive pw"', 'mysql_database = "skiff_test"',
                         'bench_n = "%d"' % n]
                cfg = harness.write_config(os.path.join(tmp, "config"), lines)
                node = harness.Node(os.path.join(build, "skiff"), cfg, cwd=tmp, name="dbbench")
                try:
                    ok = node.search(r"DBBENCH DONE", 600)
                finally:
                    node.stop()
                text = node.text()
                if not ok:
                    raise RuntimeError("db bench node:\n" + text[-3000:])
                got = {k: float(v) for k, v in re.findall(r"DBBENCH (\w+) ([\d.]+)", text)}
                return {
                    "skiff redis GET/s": got["redis_get"],
                    "redis-benchmark GET/s": _redis_benchmark(rs.port, n, 1),
                    "skiff redis pipelined GET/s": got["redis_get_pipelined"],
                    "redis-benchmark -P 100 GET/s": _redis_benchmark(rs.port, n, 100),
                    "skiff mysql SELECT/s": got["mysql_select"],
                    "mariadb client SELECT/s": _mariadb_client(m, n),
                }
    return run


BENCHES = [
    ("DB clients, one connection", _db(20000), "*",
     _db(500)),
]
