#!/usr/bin/env bash
# Build the Skiff node image (default tag skiff-demo:latest; SKIFF_IMAGE overrides) from this
# source tree, making the Debian base image first when it is missing (deploy/make-base-image.sh).
# Only the folders the image needs are sent to Docker, so build folders and .git stay out of
# the context.  The build stage is kept as skiff-build:cache so its package layer stays cached,
# and images the new build replaced are removed, so repeated builds do not fill the disk.
#
#   deploy/build-image.sh [extra docker build arguments]
set -eu
cd "$(dirname "$0")/.."
TAG=${SKIFF_IMAGE:-skiff-demo:latest}
BASE=${SKIFF_BASE_IMAGE:-skiff-base:bookworm}
SKIFF_BASE_IMAGE=$BASE deploy/make-base-image.sh
parts="meson.build meson_options.txt core main proto lua link harbor cluster lualib-src lualib service-src services luaclib"
parts="$parts deploy/Dockerfile deploy/node.conf deploy/bots.conf deploy/demo deploy/healthcheck.sh"
context() {
	# shellcheck disable=SC2086
	tar --exclude='__pycache__' --exclude='*.o' --exclude='*.so' --exclude='.fetch.*' -c $parts
}
context | docker build --build-arg BASE_IMAGE="$BASE" -f deploy/Dockerfile --target build \
	-t skiff-build:cache "$@" - >/dev/null
context | docker build --build-arg BASE_IMAGE="$BASE" -f deploy/Dockerfile -t "$TAG" "$@" -
docker image prune -f --filter label=org.skiff.stage >/dev/null
