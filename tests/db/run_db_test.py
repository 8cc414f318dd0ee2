#!/usr/bin/env python3
"""Run one database test service on a real skiff node against real servers.

usage: run_db_test.py SKIFF TEST --server redis|rediscluster|mariadb [--timeout S]

The servers are started here (dblib.py), their addresses given to the node as
config keys (db_host, redis_port, redis_auth_port, redis_cluster_ports,
mysql_port, ...).  The test service (this folder) uses testlib: "TEST PASS" /
"TEST FAIL" and the node aborts.  For `rediscluster`, a service line
"DBTEST RESHARD <n>" makes this runner move n slots from the first master to
the second while the service keeps working, then create the file named by
the config key `db_signal`.
"""
import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402
import dblib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("test")
    ap.add_argument("--server", choices=["redis", "rediscluster", "mariadb", "none"], required=True)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    deadline = time.monotonic() + a.timeout

    with tempfile.TemporaryDirectory(prefix="skiff-db-") as tmp, contextlib.ExitStack() as stack:
        servers = []
        keys = {"db_host": "127.0.0.1", "db_signal": os.path.join(tmp, "signal")}
        try:
            if a.server == "redis":
                plain = stack.enter_context(dblib.RedisServer(tmp))
                servers.append(plain)
                auth = stack.enter_context(dblib.RedisServer(tmp, password="s3cret pass"))
                servers.append(auth)
                keys.update(redis_port=plain.port, redis_auth_port=auth.port, redis_auth="s3cret pass")
            elif a.server == "rediscluster":
                rc = stack.enter_context(dblib.RedisCluster(tmp))
                servers.append(rc)
                keys.update(redis_cluster_ports=",".join(map(str, rc.ports)))
            elif a.server == "mariadb":
                m = stack.enter_context(dblib.MariaDB(tmp))
                servers.append(m)
                m.sql("CREATE DATABASE skiff_test CHARACTER SET utf8mb4;"
                      "CREATE USER 'native'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('n4tive pw');"
                      "GRANT ALL ON skiff_test.* TO 'native'@'127.0.0.1';"
                      "CREATE USER 'nopw'@'127.0.0.1';"
                      "GRANT ALL ON skiff_test.* TO 'nopw'@'127.0.0.1';")
                keys.update(mysql_port=m.port, mysql_user="native", mysql_password="n4tive pw",
                            mysql_database="skiff_test")
        except dblib.Missing as e:
            print("FAIL: " + str(e))
            return 1

        lines = [
            "thread = 2",
            "harbor = 0",
            'start = "test_runner_db"',
            'luaservice = luaservice .. ";%s/?.lua"' % HERE,
            'lua_path = lua_path .. ";%s/?.lua;%s/?.lua"' % (HERE, harness.TESTS_DIR),
            'test_name = "%s"' % a.test,
        ] + ['%s = "%s"' % (k, v) for k, v in keys.items()]
        cfg = harness.write_config(os.path.join(tmp, "config"), lines)
        node = harness.Node(a.skiff, cfg, cwd=tmp, name=a.test)
        verdict = None
        reshard_error = []
        try:
            if a.server == "rediscluster":
                def resharder():
                    m = node.search(r"DBTEST RESHARD (\d+)", max(1, deadline - time.monotonic()))
                    if m:
                        try:
                            servers[0].reshard(servers[0].ports[0], servers[0].ports[1], int(m.group(1)))
                        except Exception as e:  # the verdict says so below
                            reshard_error.append(str(e))
                        finally:
                            open(keys["db_signal"], "w").close()
                threading.Thread(target=resharder, daemon=True).start()
            verdict = node.test_verdict(deadline)
            if reshard_error:
                verdict = "reshard: " + reshard_error[0]
        finally:
            node.stop()
        text = node.text()
        bad = harness.sanitizer_report(text)
        if verdict == "PASS" and bad:
            verdict = "sanitizer: " + bad
        print(text[-20000:])
        print("--- %s: %s" % (a.test, verdict))
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
