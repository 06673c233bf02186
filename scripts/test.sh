#!/usr/bin/env bash
# Runs every test: installs missing packages, builds, checks formatting and
# runs the ctest suites. Idempotent; prints a summary at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
status=0
step() { printf '\n== %s\n' "$*"; }

step "dependencies"
./scripts/install-deps.sh || { echo "test.sh: dependency install failed"; exit 1; }

step "servers (PostgreSQL, Redis)"
./scripts/services.sh start || { echo "test.sh: could not start the servers"; exit 1; }
eval "$(./scripts/services.sh env)"

step "build"
./scripts/build.sh build || { echo "test.sh: build failed"; exit 1; }

step "format check (clang-format)"
fmt_bad=$(git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run 2>&1 \
  | grep -c 'warning:' || true)
if [ "${fmt_bad:-0}" != 0 ]; then
  echo "clang-format: $fmt_bad formatting differences (run clang-format -i)"
  status=1
else
  echo "clang-format: clean"
fi

step "static analysis (clang-tidy)"
if ./scripts/lint.sh build; then lint_ok=1; else lint_ok=0; status=1; fi

step "tests (ctest)"
ctest_log=$(mktemp)
(cd build && ctest --output-on-failure -j 2 --timeout 900) 2>&1 | tee "$ctest_log"
ctest_rc=${PIPESTATUS[0]}
[ "$ctest_rc" -eq 0 ] || status=1

step "fuzzing (libFuzzer, ${CSP_FUZZ_SECONDS:-15} s per target)"
fuzz_log=$(mktemp)
./scripts/fuzz.sh "${CSP_FUZZ_SECONDS:-15}" 2>&1 | tee "$fuzz_log"
fuzz_rc=${PIPESTATUS[0]}
[ "$fuzz_rc" -eq 0 ] || status=1

step "summary"
grep -E 'tests passed|tests failed' "$ctest_log" | tail -1
rm -f "$ctest_log"
grep -E '^  [a-z_]+_fuzz: ' "$fuzz_log"
rm -f "$fuzz_log"
echo "fuzzing:      $([ "$fuzz_rc" -eq 0 ] && echo ok || echo FAILED)"
echo "format check: $([ "${fmt_bad:-0}" = 0 ] && echo ok || echo FAILED)"
echo "clang-tidy:   $([ "$lint_ok" = 1 ] && echo ok || echo FAILED)"
echo "elapsed: $(( $(date +%s) - start )) s"
if [ "$status" -eq 0 ]; then echo "test.sh: ALL PASSED"; else echo "test.sh: FAILED"; fi
exit "$status"
