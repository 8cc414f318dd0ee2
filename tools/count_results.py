#!/usr/bin/env python3
"""Count meson test results honestly: OK is a pass; FAIL, TIMEOUT, ERROR and an
unexpected pass are failures; SKIP is neither (listed separately).
Prints 'N passed, N failed[, N skipped]' and exits 1 if anything failed."""
import json
import sys

passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            st = r.get("result")
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
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failed else 0)
