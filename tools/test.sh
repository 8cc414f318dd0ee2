#!/usr/bin/env bash
# Build Skiff from scratch and run the whole test suite:
#   1. a normal build (build-test/): every test;
#   2. ASan+UBSan (build-asan/): every test again but the docker one (an image build);
#   3. -Dlua=system (build-syslua/): the core and lualib suites on Debian's plain Lua;
#   4. TSan (build-tsan/): the core scheduler and queue tests, and shared Lua prototypes;
#   5. static analysis (build-lint/, clang): tools/lint.sh, cppcheck + clang-tidy,
#      counted as one test (about a minute on 2 cores).
# SKIFF_QUICK=1 runs only stage 1. A long step prints a line a minute; the docker
# images the tests built are removed at the end (SKIFF_KEEP_IMAGES=1 keeps them). Extra arguments go to every `meson test`.
# Ends with one line "N passed, N failed" counted from meson's results.
set -u
cd "$(dirname "$0")/.."
tools/deps.sh || { echo "skiff: could not install dependencies"; echo "0 passed, 1 failed"; exit 1; }
jobs=$(nproc)
logs=()
ok=1

broken() { # a stage that cannot build counts as one failed test
	ok=0
	printf '{"name": "%s", "result": "ERROR"}\n' "$2" >"$1.broken.json"
	logs+=("$1.broken.json")
}

ticker() { # while a long step runs (an image build in a test is silent for minutes): a line a minute
	local what=$1 t=0
	while sleep "${SKIFF_TICK:-60}"; do t=$((t + ${SKIFF_TICK:-60})); echo "... $what: still running (${t}s)" >&3; done
}
quiet() { # what command...: the command, with ticker lines while it runs
	local what=$1; shift
	ticker "$what" & local tp=$!
	"$@"; local rc=$?
	kill "$tp" 2>/dev/null; wait "$tp" 2>/dev/null
	return $rc
}

# Docker images the tests build (the demo image, the base image, the swarm test's)
# are removed at the end unless SKIFF_KEEP_IMAGES=1; images that were there before stay.
exec 3>&1 # the ticker writes here even while a step's own output goes to a log
images() { docker image ls -q --no-trunc 2>/dev/null | sort -u; }
images_before=$(images)

stage() { # name builddir suite-args... -- meson setup args...
	local name=$1 dir=$2; shift 2
	local suites=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do suites+=("$1"); shift; done
	shift
	echo "=== $name ($dir)"
	rm -rf "$dir"
	if ! meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1; then
		cat "$dir.setup.log"; broken "$dir" "$name: meson setup"; return
	fi
	if ! quiet "$name: build" ninja -C "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
		tail -50 "$dir.build.log"; broken "$dir" "$name: build"; return
	fi
	# One test at a time: the multi-node tests start three nodes each with short
	# harbor timeouts, and two of them side by side on a 2-core machine made join
	# handshakes miss those timeouts (SKIFF_TEST_JOBS=N runs N at once).
	quiet "$name: tests" meson test -C "$dir" --no-rebuild --num-processes "${SKIFF_TEST_JOBS:-1}" --print-errorlogs "${suites[@]}" ${SKIFF_TEST_ARGS:-} || ok=0
	logs+=("$dir/meson-logs/testlog.json")
}

# The flood tests (multinode_/cluster_preauth_flood) open hundreds of thousands
# of loopback connections. Where netfilter tracks connections (Docker loads
# nf_conntrack), each leaves an entry for minutes, and a full table silently
# drops the packets of the tests that follow: their connects and link
# handshakes time out. Make room for them.
conntrack_room() {
	local f=/proc/sys/net/netfilter/nf_conntrack_max want=2097152
	[ -w "$f" ] || return 0
	if [ "$(cat "$f")" -lt "$want" ]; then
		echo "$want" >"$f" && echo "skiff: nf_conntrack_max raised to $want for the flood tests"
	fi
}
conntrack_room

stage "normal build, all tests" build-test -- --buildtype=debugoptimized
if [ "${SKIFF_QUICK:-0}" != 1 ]; then
	# Debian's plain liblua5.4 (shared bytecode instead of shared prototypes).
	stage "Debian's Lua (-Dlua=system), core and Lua modules" build-syslua --suite core --suite lualib --no-suite slow -- \
		--buildtype=debugoptimized -Dlua=system
	stage "ASan+UBSan, all tests" build-asan --no-suite deploy --no-suite docker -- \
		--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
	stage "TSan, core scheduler, queues and shared Lua prototypes" build-tsan --suite tsan --suite core --no-suite slow -- \
		--buildtype=debug -Db_sanitize=thread -Db_lundef=false
fi

lint_stage() { # tools/lint.sh as one result line
	echo "=== static analysis (build-lint)"
	local result=OK
	rm -rf build-lint
	if ! EXTRA_PKGS="clang clang-tidy cppcheck" tools/deps.sh >build-lint.deps.log 2>&1 ||
		! tools/lint.sh build-lint >build-lint.log 2>&1; then
		tail -60 build-lint.log 2>/dev/null || cat build-lint.deps.log
		result=FAIL
		ok=0
	fi
	tail -1 build-lint.log 2>/dev/null
	printf '{"name": "static analysis (tools/lint.sh)", "result": "%s"}\n' "$result" >build-lint.result.json
	logs+=("build-lint.result.json")
}
if [ "${SKIFF_QUICK:-0}" != 1 ]; then
	lint_stage
fi

if [ "${SKIFF_KEEP_IMAGES:-0}" != 1 ] && command -v docker >/dev/null 2>&1; then
	built=$(comm -13 <(echo "$images_before") <(images))
	if [ -n "$built" ]; then
		echo "$built" | xargs docker rmi -f >/dev/null 2>&1
		echo "=== removed $(echo "$built" | wc -l) docker image(s) the tests built (SKIFF_KEEP_IMAGES=1 keeps them)"
	fi
fi

if [ ${#logs[@]} -eq 0 ]; then
	echo "0 passed, 1 failed"
	exit 1
fi
python3 tools/count_results.py "${logs[@]}"
count=$?
[ $ok = 1 ] && [ $count = 0 ]
