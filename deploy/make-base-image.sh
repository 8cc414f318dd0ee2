#!/usr/bin/env bash
# Make the Debian bookworm base image that deploy/Dockerfile builds FROM, on a machine whose
# Docker engine cannot pull images: debootstrap a minimal root file system from a Debian package
# mirror and `docker import` it.  Idempotent: an existing image with the tag is kept (--force
# rebuilds it), so tests and later builds reuse it.
#
#   deploy/make-base-image.sh [--force]
#
# Environment: SKIFF_BASE_IMAGE (tag, default skiff-base:bookworm), DEBIAN_MIRROR (default
# http://deb.debian.org/debian; point it at a local mirror on an air-gapped machine),
# DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security; "none" leaves it out).
set -eu

TAG=${SKIFF_BASE_IMAGE:-skiff-base:bookworm}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
force=0
case "${1:-}" in
	--force) force=1 ;;
	"") ;;
	*) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

say() { echo "skiff-base: $*" >&2; }

docker info >/dev/null 2>&1 || { say "no Docker engine is reachable (docker info failed)"; exit 1; }

# Two builds at once (parallel tests) would both debootstrap; let the second wait for the first.
lock=${TMPDIR:-/tmp}/skiff-base-image.lock
exec 9>"$lock"
flock 9

if [ "$force" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
	say "$TAG already exists"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	say "debootstrap needs root; run this script as root (or with sudo)"
	exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	}
fi

root=$(mktemp -d "${TMPDIR:-/var/tmp}/skiff-base.XXXXXX")
cleanup() { rm -rf --one-file-system "$root"; }
trap cleanup EXIT INT TERM

say "debootstrap $SUITE from $MIRROR (a few minutes)"
if ! debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1; then
	tail -n 30 "$root.log" >&2
	rm -f "$root.log"
	say "debootstrap failed"
	exit 1
fi
rm -f "$root.log"

# apt inside the image uses the same mirror; keep images small and quiet.
{
	echo "deb $MIRROR $SUITE main"
	echo "deb $MIRROR $SUITE-updates main"
	[ "$SECURITY" = none ] || echo "deb $SECURITY $SUITE-security main"
} >"$root/etc/apt/sources.list"
cat >"$root/etc/apt/apt.conf.d/90skiff" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
CONF
cat >"$root/etc/dpkg/dpkg.cfg.d/90skiff-nodoc" <<'CONF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CONF
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
	"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/log/*.log
: >"$root/etc/hostname"
: >"$root/etc/resolv.conf"

say "importing as $TAG"
tar --numeric-owner --xattrs -C "$root" -c . | docker import \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV LANG=C.UTF-8' \
	--change 'CMD ["/bin/bash"]' \
	--message "Debian $SUITE minbase from $MIRROR, made by deploy/make-base-image.sh" \
	- "$TAG" >/dev/null
say "done: $(docker image inspect -f '{{.Id}} {{.Size}}' "$TAG")"
