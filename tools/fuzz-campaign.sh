#!/usr/bin/env bash
# Run libFuzzer campaigns: tools/fuzz-campaign.sh RUNS TARGET...
# Needs the clang fuzz build (see tests/fuzz/meson.build):
#   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
# Each target runs RUNS executions on one core, starting from its committed
# corpus; new inputs go to $FUZZ_WORK/<target> (default /tmp/skiff-fuzz) and
# are merged back into tests/fuzz/corpus/<target> (only inputs that add
# coverage).  The libFuzzer log of each run is kept as <target>.log there.
# FUZZ_TIMEOUT: seconds one input may take (default 10); raise it on a
# machine busy with other work, where a starved run looks like a hang.
set -eu
cd "$(dirname "$0")/.."
runs=$1; shift
build=${FUZZ_BUILD:-build-fuzz}
work=${FUZZ_WORK:-/tmp/skiff-fuzz}
for t in "$@"; do
	bin=$build/tests/fuzz/fuzz_$t
	corpus=tests/fuzz/corpus/$t
	[ -x "$bin" ] || { echo "fuzz-campaign: $bin not built" >&2; exit 1; }
	mkdir -p "$work/$t" "$corpus"
	start=$(date +%s)
	"$bin" -runs="$runs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$t-" "$work/$t" "$corpus" >"$work/$t.log" 2>&1 || {
		echo "fuzz-campaign: $t FAILED (see $work/$t.log)" >&2; exit 1; }
	"$bin" -merge=1 "$corpus" "$work/$t" >"$work/$t.merge.log" 2>&1
	execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$t.log" | grep -o '[0-9]*$')
	cov=$(grep -E '^#[0-9]+.*DONE' "$work/$t.log" | grep -o 'cov: [0-9]*' | tail -1)
	echo "$t: $execs executions, $cov, $(( $(date +%s) - start )) s, corpus $(ls "$corpus" | wc -l) files"
done
