#!/usr/bin/env bash
# tools/demo.sh — build what is missing, then run the demo game on this machine: a master node
# (matchmaker, login, gate), two game nodes and the bots, as four skiff processes on 127.0.0.1.
# Every node runs its debug console (the web dashboard) and its metrics endpoint on 127.0.0.1,
# and a Prometheus server (Debian package prometheus) scrapes them; the addresses are printed
# before the bots start (and kept in RUN/addresses).  The bots print the live status view once a
# second.  Ctrl-C stops everything cleanly.
#
#   tools/demo.sh [--bots N] [--duration S] [--single] [--run-dir DIR] [--no-restart]
#   tools/demo.sh --compose [--bots N] [--duration S] [--run-dir DIR]
#
#   --bots N       simulated players (default 40)
#   --duration S   stop by itself after S seconds (default: run until Ctrl-C)
#   --single       all roles in one node process (harbor 0, no harbor network) instead of
#                  the three nodes linked by the harbor (--multi, the default)
#   --run-dir DIR  where keys, logs and health files go (default: a new folder under /tmp)
#   --no-restart   leave a node that died dead (default: start it again after 3 s, as compose's
#                  restart policy would; `kill $(cat RUN/game2.pid)` shows node down / node back)
#   --compose      the same cluster in containers instead (deploy/docker-compose.yml: images,
#                  credentials, compose up, the published addresses; tools/demo-compose.sh)
# Environment: SKIFF_BUILD (build folder, default build), DEMO_JSON=1 (machine-readable STATS
# lines too), DEMO_SECRET.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

BOTS=40
DURATION=0
MODE=multi
RUN=""
RESTART=1
RESTART_DELAY=3
while [ $# -gt 0 ]; do
	case "$1" in
		--bots) BOTS=$2; shift 2 ;;
		--duration) DURATION=$2; shift 2 ;;
		--single) MODE=single; shift ;;
		--multi) MODE=multi; shift ;;
		--run-dir) RUN=$2; shift 2 ;;
		--no-restart) RESTART=0; shift ;;
		--compose) shift; exec tools/demo-compose.sh "$@" ;;
		-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
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
[ -e "$BUILD/service-src/snlua.so" ] || die "this build has no service-src/snlua.so: the Lua layer is not built"
for need in services/gate.lua lualib/skynet/socket.lua lualib/snax/gateserver.lua lualib/skynet/harbor.lua; do
	[ -e "$ROOT/$need" ] || die "this tree has no $need: the demo needs it"
done
if [ "$MODE" = multi ]; then
	for need in harbor/harbor.so harbor/harbor_master.so; do
		[ -e "$BUILD/$need" ] || die "this build has no $need: the three-node demo needs the harbor (or use --single)"
	done
fi

# 2. a place for keys, logs and health files; ports chosen now
if [ -z "$RUN" ]; then
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/skiff-demo.XXXXXX")
else
	mkdir -p "$RUN"
fi
RUN=$(cd "$RUN" && pwd)
read -r P_MASTER P_ADDR1 P_ADDR2 P_ADDR3 P_GATE P_CON1 P_CON2 P_CON3 P_MET1 P_MET2 P_MET3 P_PROM <<<"$(python3 - <<'PY'
import socket
socks = []
for _ in range(12):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)"
# per-node identity: a cluster signing key, and one credential per node for its harbor id
# (docs/identity.md); each node is given only its own
CA=$RUN/ca
if [ "$MODE" = multi ]; then
	if [ ! -f "$CA/cluster.secret" ]; then
		"$SKIFF" --genkey cluster "$CA" 2>/dev/null || die "skiff --genkey cluster $CA failed"
	fi
	for entry in master:1 game1:2 game2:3; do
		cred=$RUN/${entry%%:*}.cred
		[ -f "$cred" ] || "$SKIFF" --genkey node --id "${entry##*:}" --signer "$CA/cluster.secret" "$cred" \
			|| die "skiff --genkey node for $cred failed"
	done
fi

# the access tokens of the consoles (one for every node: they all run as you, here) and of
# /metrics (the nodes and Prometheus): files of mode 0600, as the nodes insist
for tok in console.token metrics.token; do
	[ -s "$RUN/$tok" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN/$tok")
done
# observe CONSOLE_PORT METRICS_PORT: OBS=(the environment of a node's console and metrics
# endpoint, on 127.0.0.1)
observe() {
	OBS=(SKIFF_CONSOLE="127.0.0.1:$1" SKIFF_CONSOLE_TOKEN="$RUN/console.token"
		SKIFF_METRICS="127.0.0.1:$2" SKIFF_METRICS_TOKEN="$RUN/metrics.token")
}

PIDS=()      # node pids, in start order
NAMES=()
declare -A NODE_ENV   # node name -> its environment, quoted, for a restart
BOTS_PID=""
PROM_PID=""

# Start one node in its own session, so that the terminal's Ctrl-C reaches only this script,
# which then stops the nodes in order.  run_node starts it; start_node also records it.
run_node() {
	local name=$1
	shift
	rm -f "$RUN/$name.health"
	env "$@" SKIFF_NODE="$name" SKIFF_HEALTH_FILE="$RUN/$name.health" SKIFF_LOGFILE="$RUN/$name.log" \
		setsid "$SKIFF" "$ROOT/deploy/node.conf" >>"$RUN/$name.out" 2>&1 </dev/null &
	echo "$!" >"$RUN/$name.pid"
}

start_node() {
	local name=$1
	NODE_ENV[$name]=$(printf '%q ' "${@:2}")
	run_node "$@"
	PIDS+=($!)
	NAMES+=("$name")
}

# A node that died while the demo runs is started again after RESTART_DELAY s (unless
# --no-restart), with the same harbor id and address: it rejoins the cluster.
declare -A DIED_AT
supervise() {
	local i pid name status
	for i in "${!PIDS[@]}"; do
		pid=${PIDS[$i]}
		name=${NAMES[$i]}
		[ "$pid" = 0 ] && continue
		if [ -z "${DIED_AT[$name]:-}" ]; then
			kill -0 "$pid" 2>/dev/null && continue
			wait "$pid" 2>/dev/null
			status=$?
			DIED_AT[$name]=$SECONDS
			if [ "$RESTART" = 1 ]; then
				say "node $name (pid $pid) exited with status $status; starting it again in $RESTART_DELAY s"
			else
				say "node $name (pid $pid) exited with status $status"
				PIDS[i]=0
			fi
		elif [ $((SECONDS - DIED_AT[$name])) -ge "$RESTART_DELAY" ]; then
			unset "DIED_AT[$name]"
			eval "run_node $name ${NODE_ENV[$name]}"
			PIDS[i]=$!
			say "node $name started again (pid ${PIDS[$i]})"
		fi
	done
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
	local clean=1 i pid rc
	if [ -n "$BOTS_PID" ] && kill -0 "$BOTS_PID" 2>/dev/null; then
		kill -TERM "$BOTS_PID" 2>/dev/null
	fi
	# bots first, Prometheus, then the game nodes, the master last
	local order=()
	[ -n "$BOTS_PID" ] && order+=("bots:$BOTS_PID")
	[ -n "$PROM_PID" ] && order+=("prometheus:$PROM_PID")
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		# skip a node that is dead (--no-restart) or waiting to be started again
		[ "${PIDS[$i]}" = 0 ] || [ -n "${DIED_AT[${NAMES[$i]}]:-}" ] || order+=("${NAMES[$i]}:${PIDS[$i]}")
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
		rc=$?
		if [ "$rc" != 0 ] && [ "$rc" != 127 ]; then   # 127: reaped already
			echo "demo: $name exited with status $rc" >&2
			clean=0
		fi
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
	if [ "$STOPPING" = 1 ]; then
		say "already stopping; the nodes get 10 s each"
		return
	fi
	echo
	say "stopping"
	stop_all
	exit $?
}
trap on_signal INT TERM HUP

# 3. the nodes
if [ "$MODE" = multi ]; then
	say "3 nodes + $BOTS bots on 127.0.0.1 (gate port $P_GATE, logs in $RUN)"
	common=(SKIFF_MASTER="127.0.0.1:$P_MASTER" SKIFF_CLUSTER_PUB="$CA/cluster.pub")
	observe "$P_CON1" "$P_MET1"
	start_node master "${common[@]}" "${OBS[@]}" \
		SKIFF_NODE_CREDENTIAL="$RUN/master.cred" SKIFF_HARBOR=1 SKIFF_ROLES=match,login,gate \
		SKIFF_STANDALONE="127.0.0.1:$P_MASTER" SKIFF_ADDRESS="127.0.0.1:$P_ADDR1" SKIFF_GATE="127.0.0.1:$P_GATE"
	wait_joined master "${PIDS[0]}" || { stop_all; exit 1; }
	observe "$P_CON2" "$P_MET2"
	start_node game1 "${common[@]}" "${OBS[@]}" \
		SKIFF_NODE_CREDENTIAL="$RUN/game1.cred" SKIFF_HARBOR=2 SKIFF_ROLES=game SKIFF_ADDRESS="127.0.0.1:$P_ADDR2"
	observe "$P_CON3" "$P_MET3"
	start_node game2 "${common[@]}" "${OBS[@]}" \
		SKIFF_NODE_CREDENTIAL="$RUN/game2.cred" SKIFF_HARBOR=3 SKIFF_ROLES=game SKIFF_ADDRESS="127.0.0.1:$P_ADDR3"
	if ! wait_joined game1 "${PIDS[1]}" || ! wait_joined game2 "${PIDS[2]}"; then
		stop_all
		exit 1
	fi
else
	say "one node with every role (game1 and game2 as two game roles) + $BOTS bots (gate port $P_GATE, logs in $RUN)"
	observe "$P_CON1" "$P_MET1"
	start_node solo "${OBS[@]}" \
		SKIFF_HARBOR=0 SKIFF_ROLES=match,login,gate,game:game1,game:game2 SKIFF_GATE="127.0.0.1:$P_GATE"
	wait_joined solo "${PIDS[0]}" || { stop_all; exit 1; }
fi

# 4. Prometheus, scraping every node's /metrics with the metrics token
CON_PORTS=("$P_CON1" "$P_CON2" "$P_CON3")   # the i-th node started: NAMES[i], these ports
MET_PORTS=("$P_MET1" "$P_MET2" "$P_MET3")
if command -v prometheus >/dev/null 2>&1; then
	{
		echo "# written by tools/demo.sh: Prometheus scraping the demo's nodes"
		echo "global: { scrape_interval: 5s, scrape_timeout: 4s }"
		echo "scrape_configs:"
		echo "  - job_name: skiff"
		echo "    authorization: { type: Bearer, credentials_file: \"$RUN/metrics.token\" }"
		echo "    static_configs:"
		for i in "${!NAMES[@]}"; do
			echo "      - { targets: [\"127.0.0.1:${MET_PORTS[$i]}\"], labels: { node: ${NAMES[$i]} } }"
		done
	} >"$RUN/prometheus.yml"
	setsid prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/prometheus" \
		--web.listen-address="127.0.0.1:$P_PROM" >>"$RUN/prometheus.log" 2>&1 </dev/null &
	PROM_PID=$!
	echo "$PROM_PID" >"$RUN/prometheus.pid"
	prom_line="Prometheus  http://127.0.0.1:$P_PROM/  (scrapes every node; try the query skiff_messages_dispatched_total)"
else
	prom_line="Prometheus  not started: no prometheus here (Debian package prometheus; tools/deps.sh installs it)"
fi

# 5. how to look inside: printed now (the status view follows) and kept in RUN/addresses
{
	echo "dashboards  (log in with the token in $RUN/console.token; each shows the whole cluster)"
	for i in "${!NAMES[@]}"; do
		printf '  %-6s    http://127.0.0.1:%s/\n' "${NAMES[$i]}" "${CON_PORTS[$i]}"
	done
	echo "metrics     (the bearer token is in $RUN/metrics.token)"
	for i in "${!NAMES[@]}"; do
		printf '  %-6s    curl -H "Authorization: Bearer $(cat %s)" http://127.0.0.1:%s/metrics\n' \
			"${NAMES[$i]}" "$RUN/metrics.token" "${MET_PORTS[$i]}"
	done
	echo "$prom_line"
} >"$RUN/addresses"
sed 's/^/demo: /' "$RUN/addresses"

# 6. the bots, whose output is the status view
DEMO_CONNECT="127.0.0.1:$P_GATE" DEMO_BOTS="$BOTS" DEMO_DURATION="$DURATION" SKIFF_LOGFILE="$RUN/bots.log" \
	setsid "$SKIFF" "$ROOT/deploy/bots.conf" </dev/null &
BOTS_PID=$!
echo "$BOTS_PID" >"$RUN/bots.pid"
while kill -0 "$BOTS_PID" 2>/dev/null; do
	supervise
	sleep 0.5
done
wait "$BOTS_PID"
status=$?
BOTS_PID=""
rm -f "$RUN/bots.pid"
stop_all || status=1
exit "$status"
