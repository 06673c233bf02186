#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over the project's own translation units, using
# the build's compile_commands.json. Usage: scripts/lint.sh [build-dir]
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${1:-build}
if ! command -v clang-tidy >/dev/null; then
  echo "lint: clang-tidy not installed"; exit 1
fi
files=$(git ls-files 'actors/*.cpp' 'messages/*.cpp' 'config/*.cpp' \
  'monitoring/*.cpp' 'storage/*.cpp' 'api/*.cpp' 'net/*.cpp' 'app/*.cpp' \
  'tools/*.cpp' 'web/*.cpp' \
  | grep -v '^net/asio_beast.cpp$')
count=$(echo "$files" | wc -w)
out=$(mktemp)
echo "$files" | xargs -P "${CSP_JOBS:-2}" -n 4 clang-tidy -p "$build_dir" --quiet \
  "-header-filter=^$root/(actors|messages|config|monitoring|storage|api|net|app|tools|web)/" \
  >"$out" 2>&1
rc=$?
grep -E 'warning:|error:' "$out" | sort -u
if [ $rc -ne 0 ]; then
  echo "lint: clang-tidy found problems in $count files"; rm -f "$out"; exit 1
fi
echo "lint: clang-tidy clean ($count files)"
rm -f "$out"
