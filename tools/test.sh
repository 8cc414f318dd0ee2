#!/usr/bin/env bash
# Build Skiff from scratch in build-test/ and run the whole test suite.
# Ends with one line "N passed, N failed" counted from meson's results.
set -u
cd "$(dirname "$0")/.."
tools/deps.sh || { echo "skiff: could not install dependencies"; echo "0 passed, 1 failed"; exit 1; }
BUILD=${SKIFF_TEST_BUILD:-build-test}
rm -rf "$BUILD"
if ! meson setup "$BUILD" --buildtype=debugoptimized -Dwerror=true >"$BUILD.setup.log" 2>&1; then
	cat "$BUILD.setup.log"; echo "0 passed, 1 failed"; exit 1
fi
if ! ninja -C "$BUILD" -j"$(nproc)"; then
	echo "0 passed, 1 failed"; exit 1
fi
meson test -C "$BUILD" --num-processes "$(nproc)" --print-errorlogs "$@"
status=$?
python3 tools/count_results.py "$BUILD/meson-logs/testlog.json"
count=$?
[ $status -eq 0 ] && [ $count -eq 0 ]
