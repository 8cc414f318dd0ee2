#!/usr/bin/env bash
# Run libFuzzer campaigns: tools/fuzz-campaign.sh RUNS TARGET...
# Needs the clang fuzz build (see tests/fuzz/meson.build):
#   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
# Each target runs RUNS executions in all, starting from its committed corpus;
# new inputs go to $FUZZ_WORK/<target> (default /tmp/skiff-fuzz) and are merged
# back into tests/fuzz/corpus/<target> (only inputs that add coverage).  The
# libFuzzer log of each run is kept as <target>[.<worker>].log there.
# FUZZ_WORKERS: processes per target (default 1), each running RUNS/N
#   executions with its own random seed; on a two-core machine, 2 halves the time.
# FUZZ_TIMEOUT: seconds one input may take (default 10); raise it on a
#   machine busy with other work, where a starved run looks like a hang.
# FUZZ_MAX_LEN: the longest input libFuzzer makes (default: its own, 4096).
set -eu
cd "$(dirname "$0")/.."
runs=$1; shift
build=${FUZZ_BUILD:-build-fuzz}
work=${FUZZ_WORK:-/tmp/skiff-fuzz}
workers=${FUZZ_WORKERS:-1}
extra=()
[ -n "${FUZZ_MAX_LEN:-}" ] && extra+=("-max_len=$FUZZ_MAX_LEN")
for t in "$@"; do
	bin=$build/tests/fuzz/fuzz_$t
	corpus=tests/fuzz/corpus/$t
	[ -x "$bin" ] || { echo "fuzz-campaign: $bin not built" >&2; exit 1; }
	mkdir -p "$work/$t" "$corpus"
	start=$(date +%s)
	pids=() logs=()
	for w in $(seq 1 "$workers"); do
		log=$work/$t.log
		[ "$workers" = 1 ] || log=$work/$t.$w.log
		logs+=("$log")
		"$bin" -runs=$(( runs / workers )) -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
			-print_final_stats=1 "${extra[@]}" -artifact_prefix="$work/$t-" "$work/$t" "$corpus" \
			>"$log" 2>&1 &
		pids+=($!)
	done
	failed=0
	for p in "${pids[@]}"; do wait "$p" || failed=1; done
	[ "$failed" = 0 ] || { echo "fuzz-campaign: $t FAILED (see ${logs[*]})" >&2; exit 1; }
	"$bin" -merge=1 "$corpus" "$work/$t" >"$work/$t.merge.log" 2>&1
	execs=0
	for log in "${logs[@]}"; do
		n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
		execs=$(( execs + n ))
	done
	cov=$(grep -hE '^#[0-9]+.*DONE' "${logs[@]}" | grep -o 'cov: [0-9]*' | sort -t' ' -k2 -n | tail -1)
	echo "$t: $execs executions ($workers worker(s)), $cov, $(( $(date +%s) - start )) s, corpus $(ls "$corpus" | wc -l) files"
done
