#!/usr/bin/env bash
# tools/demo-compose.sh (also `tools/demo.sh --compose`) — the demo cluster in containers, as
# deploy/docker-compose.yml runs it: master, two game nodes, the bots and Prometheus.
#
#   1. builds the images with no registry (deploy/build-image.sh, deploy/build-prometheus-image.sh;
#      the debootstrap base is made first when it is missing, which needs root)
#   2. issues the credentials and access tokens into RUN/secrets (deploy/make-credentials.sh)
#   3. picks free host ports for every published port not set in the environment
#      (SKIFF_GATE_PORT, SKIFF_{MASTER,GAME1,GAME2}_{CONSOLE,METRICS}_PORT, SKIFF_PROMETHEUS_PORT)
#   4. compose up, waits until every node and Prometheus are healthy, and prints how to open the
#      dashboards, /metrics and Prometheus, with the host addresses `docker port` reports (all
#      on 127.0.0.1); they are kept in RUN/addresses
#   5. shows the bots' status view until they finish (--duration) or Ctrl-C, then compose down
#      (containers and network removed; the images stay for the next run)
#
#   tools/demo-compose.sh [--bots N] [--duration S] [--run-dir DIR] [--keep]
#
#   --bots N       simulated players (default 40)
#   --duration S   the bots stop after S seconds, and so does the demo (default: until Ctrl-C)
#   --run-dir DIR  where the secrets and the addresses go (default: a new folder under /tmp)
#   --keep         leave the cluster running at the end (the compose down command is printed)
# Environment: SKIFF_IMAGE, SKIFF_PROMETHEUS_IMAGE (image tags), SKIFF_COMPOSE_PROJECT (compose
# project name, default skiffdemo), DEMO_JSON=1 (machine-readable STATS lines too), DEMO_SECRET.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

BOTS=40
DURATION=0
RUN=""
KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
		--bots) BOTS=$2; shift 2 ;;
		--duration) DURATION=$2; shift 2 ;;
		--run-dir) RUN=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		-h|--help) sed -n '2,25p' "$0"; exit 0 ;;
		*) echo "demo: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done

say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "no docker client here (Debian package docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine is reachable (docker info failed)"
if docker compose version >/dev/null 2>&1; then
	COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
	COMPOSE=(docker-compose)
else
	die "neither 'docker compose' nor 'docker-compose' works here (Debian package docker-compose)"
fi

if [ -z "$RUN" ]; then
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/skiff-compose-demo.XXXXXX")
else
	mkdir -p "$RUN"
fi
RUN=$(cd "$RUN" && pwd)

# 1. images
export SKIFF_IMAGE=${SKIFF_IMAGE:-skiff-demo:latest}
export SKIFF_PROMETHEUS_IMAGE=${SKIFF_PROMETHEUS_IMAGE:-skiff-prometheus:latest}
for script in build-image.sh build-prometheus-image.sh; do
	say "deploy/$script (cached layers make it quick after the first time)"
	deploy/$script -q >"$RUN/build.log" 2>&1 || { tail -n 40 "$RUN/build.log" >&2; die "deploy/$script failed (log: $RUN/build.log)"; }
done

# 2. secrets; the containers run as their owner
if [ "$(id -u)" != 0 ]; then
	export SKIFF_UID=${SKIFF_UID:-$(id -u)} SKIFF_GID=${SKIFF_GID:-$(id -g)}
fi
deploy/make-credentials.sh "$RUN/secrets" >/dev/null || die "deploy/make-credentials.sh $RUN/secrets failed"
export SKIFF_SECRETS_DIR=$RUN/secrets

# 3. host ports: those not given, picked free now (and distinct)
VARS=(SKIFF_GATE_PORT SKIFF_PROMETHEUS_PORT)
for n in MASTER GAME1 GAME2; do
	VARS+=("SKIFF_${n}_CONSOLE_PORT" "SKIFF_${n}_METRICS_PORT")
done
read -r -a FREE <<<"$(python3 - "${#VARS[@]}" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)"
for i in "${!VARS[@]}"; do
	[ -n "${!VARS[$i]:-}" ] || export "${VARS[$i]}=${FREE[$i]}"
done
export DEMO_BOTS=$BOTS DEMO_DURATION=$DURATION

PROJECT=${SKIFF_COMPOSE_PROJECT:-skiffdemo}
compose() { "${COMPOSE[@]}" -p "$PROJECT" -f "$ROOT/deploy/docker-compose.yml" "$@"; }
container() { compose ps -q "$1" 2>/dev/null | tail -n 1; }
# the host address a service's container port is published on
published() { docker port "$(container "$1")" "$2/tcp" 2>/dev/null | head -n 1; }

LOGS_PID=""
DOWN=0
finish() {
	[ "$DOWN" = 1 ] && return
	DOWN=1
	[ -n "$LOGS_PID" ] && kill "$LOGS_PID" 2>/dev/null
	if [ "$KEEP" = 1 ]; then
		say "left running; stop it with: ${COMPOSE[*]} -p $PROJECT -f $ROOT/deploy/docker-compose.yml down"
		return 0
	fi
	say "compose down"
	compose down -v --remove-orphans -t 20 >"$RUN/down.log" 2>&1 || { cat "$RUN/down.log" >&2; return 1; }
	say "stopped (secrets and addresses in $RUN)"
}
# shellcheck disable=SC2317  # called by the trap
on_signal() {
	echo
	finish
	exit 130
}
trap on_signal INT TERM HUP

# 4. up, healthy, addresses
say "compose up: 3 nodes + $BOTS bots + Prometheus (project $PROJECT)"
compose up -d >"$RUN/up.log" 2>&1 || { cat "$RUN/up.log" >&2; finish; die "compose up failed"; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$(container "$1")" 2>/dev/null; }
for i in $(seq 1 120); do
	waiting=""
	for s in master game1 game2 prometheus; do
		[ "$(health "$s")" = healthy ] || waiting="$waiting $s"
	done
	[ -z "$waiting" ] && break
	if [ "$i" = 120 ]; then
		compose logs --tail 20 >&2
		finish
		die "not healthy within 120 s:$waiting"
	fi
	sleep 1
done
{
	echo "dashboards  (log in with the node's token: $SKIFF_SECRETS_DIR/NODE.console-token)"
	for s in master game1 game2; do
		var="SKIFF_${s^^}_CONSOLE_PORT"
		printf '  %-6s    http://%s/\n' "$s" "$(published "$s" "${!var}")"
	done
	echo "metrics     (the bearer token is in $SKIFF_SECRETS_DIR/metrics.token)"
	for s in master game1 game2; do
		printf '  %-6s    curl -H "Authorization: Bearer $(cat %s)" http://%s/metrics\n' \
			"$s" "$SKIFF_SECRETS_DIR/metrics.token" "$(published "$s" 9100)"
	done
	echo "Prometheus  http://$(published prometheus 9090)/  (scrapes every node; try the query skiff_messages_dispatched_total)"
	echo "gate        $(published master 7000)"
} >"$RUN/addresses"
sed 's/^/demo: /' "$RUN/addresses"

# 5. the bots' status view, until they finish or Ctrl-C
# (the node's own INFO log lines left out: the local demo keeps them in a file)
compose logs -f --no-color --no-log-prefix bots | grep --line-buffered -v '^[0-9-]* [0-9:.]* INFO ' &
LOGS_PID=$!
# (restarting: its restart policy brings it back after a failure)
while case "$(docker inspect -f '{{.State.Status}}' "$(container bots)" 2>/dev/null)" in
	running|restarting|created) true ;; *) false ;; esac; do
	sleep 1
done
sleep 1   # the last lines of the log
status=$(docker inspect -f '{{.State.ExitCode}}' "$(container bots)" 2>/dev/null || echo 1)
say "the bots exited with status $status"
finish || status=1
exit "$status"
