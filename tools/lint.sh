#!/usr/bin/env bash
# Static analysis of Skiff's C: its layout (clang-format), cppcheck and clang-tidy (the checks are in
# .clang-tidy), over every C file of the build (generated *.pb-c.* excluded).
# Both must be clean: exit 0, else 1.  A false positive is suppressed where it
# is, narrowly, with a comment naming the invariant the tool cannot see
# (`// cppcheck-suppress <id>` or `// NOLINT(<check>): why`).
#   tools/lint.sh [builddir]     (default build-lint; set up with clang if missing)
# Last line: "lint: clean" or "lint: N problems".
set -u
cd "$(dirname "$0")/.."
dir=${1:-build-lint}
jobs=$(nproc)
if [ ! -f "$dir/compile_commands.json" ]; then
	CC=clang meson setup "$dir" -Dwerror=false >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; echo "lint: setup failed"; exit 1; }
fi
# clang-tidy needs the generated headers (protobuf-c) to exist.
ninja -C "$dir" -j"$jobs" >"$dir.build.log" 2>&1 || { tail -30 "$dir.build.log"; echo "lint: build failed"; exit 1; }

mapfile -t files < <(python3 - "$dir" <<'PY'
import json, os, sys
d = json.load(open(os.path.join(sys.argv[1], 'compile_commands.json')))
seen = set()
# Generated sources (Debian's Lua as patched in lua/, protobuf-c's) live in the build dir.
gen = os.path.abspath(sys.argv[1]) + os.sep
for e in d:
    f = os.path.normpath(os.path.join(e['directory'], e['file']))
    if '.pb-c.' in f or f.startswith(gen) or f in seen:
        continue
    seen.add(f)
    print(f)
PY
)

problems=0
echo "=== clang-format (every tracked C file follows .clang-format)"
if command -v clang-format >/dev/null; then
	mapfile -t cfiles < <(git ls-files '*.c' '*.h')
	if ! clang-format --dry-run -Werror "${cfiles[@]}" 2>&1 | grep -E '^[^ ]+:[0-9]+:[0-9]+: (error|warning)' | cut -d: -f1 | sort -u | sed 's/^/needs clang-format: /' | tee /dev/stderr | grep -q .; then
		:
	else
		problems=$((problems + 1))
	fi
else
	echo "lint: clang-format missing (Debian package clang-format)"
	problems=$((problems + 1))
fi

echo "=== cppcheck (${#files[@]} files)"
# luaconf.h #errors on cppcheck's unknown LLONG_MAX: a configuration artefact.
if ! cppcheck --project="$dir/compile_commands.json" -j"$jobs" -q \
	--enable=warning,portability --inline-suppr --error-exitcode=1 \
	--suppress='*:*.pb-c.*' --suppress="*:*/$dir/*" --suppress="*:$dir/*" \
	--suppress='preprocessorErrorDirective:/usr/include/*'; then
	problems=$((problems + 1))
fi

echo "=== clang-tidy (${#files[@]} files)"
out=$(mktemp)
printf '%s\n' "${files[@]}" | xargs -n4 -P"$jobs" clang-tidy -p "$dir" --quiet >"$out" 2>/dev/null
n=$(grep -cE '(warning|error): .*\[[a-zA-Z0-9.,-]+\]$' "$out")
if [ "$n" -gt 0 ]; then
	grep -E '(warning|error): ' -A3 "$out"
	problems=$((problems + n))
fi
rm -f "$out"

if [ $problems -eq 0 ]; then
	echo "lint: clean"
	exit 0
fi
echo "lint: $problems problems"
exit 1
