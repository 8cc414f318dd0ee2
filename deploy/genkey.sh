# genkey.sh: sourced (not run) by deploy/make-credentials.sh and
# deploy/k8s/make-secrets.sh, so both find `skiff --genkey` the same way.
# The sourcing script sets $dir (where the key files go, absolute) and
# $skiff_build (the repo's build/skiff, tried after $SKIFF and a skiff on PATH;
# when none is there the demo image runs it in docker).
# genkey ARGS...: runs `skiff --genkey ARGS` with paths relative to $dir
genkey() {
	if [ -n "${SKIFF:-}" ]; then
		(cd "$dir" && "$SKIFF" --genkey "$@")
	elif command -v skiff >/dev/null 2>&1; then
		(cd "$dir" && skiff --genkey "$@")
	elif [ -x "$skiff_build" ]; then
		(cd "$dir" && "$skiff_build" --genkey "$@")
	else
		docker run --rm --user "$(id -u):$(id -g)" -v "$dir:/keys" -w /keys \
			"${SKIFF_IMAGE:-skiff-demo:latest}" skiff --genkey "$@"
	fi
}
