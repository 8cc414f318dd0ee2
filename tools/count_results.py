#!/usr/bin/env python3
"""Count meson test results honestly: OK is a pass; FAIL, TIMEOUT, ERROR and an
unexpected pass are failures; SKIP is neither (listed separately).
Takes one or more testlog.json files. Prints 'N passed, N failed[, N skipped]'
and exits 1 if anything failed or no test ran."""
import json
import sys


def count(paths):
    passed = failed = skipped = 0
    for path in paths:
        try:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    st = json.loads(line).get("result")
                    if st in ("OK", "EXPECTEDFAIL"):
                        passed += 1
                    elif st == "SKIP":
                        skipped += 1
                    else:
                        failed += 1
        except OSError as e:
            print("no test results: %s" % e)
            failed += 1
    if passed + failed == 0:
        failed = 1  # running no test is a failure
    return passed, failed, skipped


def main():
    passed, failed, skipped = count(sys.argv[1:])
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
