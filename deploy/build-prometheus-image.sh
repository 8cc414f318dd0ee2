#!/usr/bin/env bash
# Build the demo cluster's Prometheus image (default tag skiff-prometheus:latest;
# SKIFF_PROMETHEUS_IMAGE overrides) from Debian's prometheus package on the same base image as
# the nodes, made first when it is missing (deploy/make-base-image.sh): no registry needed.
#
#   deploy/build-prometheus-image.sh [extra docker build arguments]
set -eu
cd "$(dirname "$0")"
TAG=${SKIFF_PROMETHEUS_IMAGE:-skiff-prometheus:latest}
BASE=${SKIFF_BASE_IMAGE:-skiff-base:bookworm}
SKIFF_BASE_IMAGE=$BASE ./make-base-image.sh
docker build --build-arg BASE_IMAGE="$BASE" -t "$TAG" "$@" prometheus
docker image prune -f --filter label=org.skiff.stage >/dev/null
