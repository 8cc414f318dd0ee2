#!/usr/bin/env bash
# tools/demo.sh — build what is missing, then run the demo game on this machine: a master node
# (matchmaker, login, gate), two game nodes and the bots, as four skiff processes on 127.0.0.1.
# The bots print the live status view once a second.  Ctrl-C stops everything cleanly.
#
#   tools/demo.sh [--bots N] [--duration S] [--single] [--run-dir DIR]
#
#   --bots N       simulated players (default 40)
#   --duration S   stop by itself after S seconds (default: run until Ctrl-C)
#   --single       all roles in one node process (harbor 0); chosen automatically while this
#                  tree has no harbor yet
#   --run-dir DIR  where keys, logs and health files go (default: a new folder under /tmp)
# Environment: SKIFF_BUILD (build folder, default build), DEMO_JSON=1 (machine-readable STATS
# lines too), DEMO_SECRET.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

BOTS=40
DURATION=0
MODE=auto
RUN=""
while [ $# -gt 0 ]; do
	case "$1" in
		--bots) BOTS=$2; shift 2 ;;
		--duration) DURATION=$2; shift 2 ;;
		--single) MODE=single; shift ;;
		--multi) MODE=multi; shift ;;
		--run-dir) RUN=$2; shift 2 ;;
		-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
		*) echo "demo: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done

say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

# 1. build what is missing
tools/deps.sh || die "could not install the build dependencies (tools/deps.sh)"
BUILD=${SKIFF_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
if [ ! -f "$BUILD/build.ninja" ]; then
	say "configuring $BUILD"
	meson setup "$BUILD" "$ROOT" >"$BUILD.setup.log" 2>&1 || { cat "$BUILD.setup.log"; die "meson setup failed"; }
	rm -f "$BUILD.setup.log"
fi
ninja -C "$BUILD" >"$BUILD.demo-build.log" 2>&1 || { tail -n 40 "$BUILD.demo-build.log"; die "build failed (log: $BUILD.demo-build.log)"; }
rm -f "$BUILD.demo-build.log"
SKIFF=$BUILD/skiff
[ -x "$SKIFF" ] || die "no $SKIFF after the build"
[ -e "$BUILD/services/snlua.so" ] || die "this build has no services/snlua.so: the Lua layer is not built"
for need in services/gate.lua lualib/skynet/socket.lua lualib/snax/gateserver.lua; do
	[ -e "$ROOT/$need" ] || die "this tree has no $need yet: the demo needs it"
done

if [ "$MODE" = auto ]; then
	if [ -e "$ROOT/services/cslave.lua" ]; then
		MODE=multi
	else
		MODE=single
		say "this tree has no harbor yet (services/cslave.lua): running every role in one node"
	fi
fi

# 2. a place for keys, logs and health files; ports chosen now
if [ -z "$RUN" ]; then
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/skiff-demo.XXXXXX")
else
	mkdir -p "$RUN"
fi
RUN=$(cd "$RUN" && pwd)
read -r P_MASTER P_ADDR1 P_ADDR2 P_ADDR3 P_GATE <<<"$(python3 - <<'PY'
import socket
socks = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)"
KEY=$RUN/cluster.key
if [ "$MODE" = multi ] && [ ! -f "$KEY" ]; then
	if ! "$SKIFF" --genkey "$KEY" >/dev/null 2>&1; then
		rm -f "$KEY"
		(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$KEY"; echo >>"$KEY")
	fi
	chmod 600 "$KEY"
fi

PIDS=()      # node pids, in start order
NAMES=()
BOTS_PID=""

# Start one node in its own session, so that the terminal's Ctrl-C reaches only this script,
# which then stops the nodes in order.
start_node() {
	local name=$1
	shift
	rm -f "$RUN/$name.health"
	env "$@" SKIFF_NODE="$name" SKIFF_HEALTH_FILE="$RUN/$name.health" SKIFF_LOGFILE="$RUN/$name.log" \
		setsid "$SKIFF" "$ROOT/deploy/node.conf" >>"$RUN/$name.out" 2>&1 </dev/null &
	PIDS+=($!)
	NAMES+=("$name")
	echo "$!" >"$RUN/$name.pid"
}

wait_joined() {
	local name=$1 pid=$2 i
	for i in $(seq 1 300); do
		if grep -q '^joined' "$RUN/$name.health" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "demo: node $name exited while starting; its output:" >&2
			tail -n 30 "$RUN/$name.out" "$RUN/$name.log" 2>/dev/null >&2
			return 1
		fi
		sleep 0.1
	done
	echo "demo: node $name did not join within 30 s; its log:" >&2
	tail -n 30 "$RUN/$name.log" 2>/dev/null >&2
	return 1
}

STOPPING=0
stop_all() {
	[ "$STOPPING" = 1 ] && return
	STOPPING=1
	local clean=1 i pid
	if [ -n "$BOTS_PID" ] && kill -0 "$BOTS_PID" 2>/dev/null; then
		kill -TERM "$BOTS_PID" 2>/dev/null
	fi
	# bots first, then the game nodes, the master last
	local order=()
	[ -n "$BOTS_PID" ] && order+=("bots:$BOTS_PID")
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		order+=("${NAMES[$i]}:${PIDS[$i]}")
	done
	for entry in "${order[@]}"; do
		local name=${entry%%:*}
		pid=${entry#*:}
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "demo: $name did not stop within 10 s of SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			clean=0
		fi
		wait "$pid" 2>/dev/null
		rm -f "$RUN/$name.pid"
	done
	if [ "$clean" = 1 ]; then
		say "stopped; every node exited cleanly (logs in $RUN)"
	else
		say "stopped, not cleanly (logs in $RUN)"
	fi
	[ "$clean" = 1 ]
}

# shellcheck disable=SC2317  # called by the trap
on_signal() {
	echo
	say "stopping"
	stop_all
	exit $?
}
trap on_signal INT TERM HUP

# 3. the nodes
if [ "$MODE" = multi ]; then
	say "3 nodes + $BOTS bots on 127.0.0.1 (gate port $P_GATE, logs in $RUN)"
	common=(SKIFF_MASTER="127.0.0.1:$P_MASTER" SKIFF_CLUSTER_KEY="$KEY")
	start_node master "${common[@]}" SKIFF_HARBOR=1 SKIFF_ROLES=match,login,gate \
		SKIFF_STANDALONE="127.0.0.1:$P_MASTER" SKIFF_ADDRESS="127.0.0.1:$P_ADDR1" SKIFF_GATE="127.0.0.1:$P_GATE"
	wait_joined master "${PIDS[0]}" || { stop_all; exit 1; }
	start_node game1 "${common[@]}" SKIFF_HARBOR=2 SKIFF_ROLES=game SKIFF_ADDRESS="127.0.0.1:$P_ADDR2"
	start_node game2 "${common[@]}" SKIFF_HARBOR=3 SKIFF_ROLES=game SKIFF_ADDRESS="127.0.0.1:$P_ADDR3"
	if ! wait_joined game1 "${PIDS[1]}" || ! wait_joined game2 "${PIDS[2]}"; then
		stop_all
		exit 1
	fi
else
	say "one node with every role (game1 and game2 as two game roles) + $BOTS bots (gate port $P_GATE, logs in $RUN)"
	start_node solo SKIFF_HARBOR=0 SKIFF_ROLES=match,login,gate,game:game1,game:game2 SKIFF_GATE="127.0.0.1:$P_GATE"
	wait_joined solo "${PIDS[0]}" || { stop_all; exit 1; }
fi

# 4. the bots, whose output is the status view
DEMO_CONNECT="127.0.0.1:$P_GATE" DEMO_BOTS="$BOTS" DEMO_DURATION="$DURATION" SKIFF_LOGFILE="$RUN/bots.log" \
	setsid "$SKIFF" "$ROOT/deploy/bots.conf" </dev/null &
BOTS_PID=$!
echo "$BOTS_PID" >"$RUN/bots.pid"
wait "$BOTS_PID"
status=$?
BOTS_PID=""
rm -f "$RUN/bots.pid"
stop_all || status=1
exit "$status"
