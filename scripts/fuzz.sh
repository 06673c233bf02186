#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-14 with ASan and UBSan) into
# build-fuzz/ and runs each for a bounded time on its seed corpus
# (fuzz/corpus/<target>/, never modified; new inputs go to
# build-fuzz/corpus/<target>/). Prints one summary line per target and fails
# when a target crashes, leaks, times out or runs out of memory; the input
# is kept in build-fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [seconds-per-target]   (default 20)
#        CSP_FUZZ_TARGETS="jwt_fuzz query_fuzz" scripts/fuzz.sh 60
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build_dir=build-fuzz
jobs=${CSP_JOBS:-2}
rss_limit_mb=${CSP_FUZZ_RSS_MB:-2048}

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: clang++-14 not installed (scripts/install-deps.sh)"; exit 1
fi
if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S fuzz -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
    || { echo "fuzz: configure failed"; exit 1; }
fi
cmake --build "$build_dir" -j "$jobs" || { echo "fuzz: build failed"; exit 1; }

if [ -n "${CSP_FUZZ_TARGETS:-}" ]; then
  targets=$CSP_FUZZ_TARGETS
else
  targets=$(cd fuzz && ls *_fuzz.cpp | sed 's/\.cpp$//')
fi

status=0
summary=()
for t in $targets; do
  work="$build_dir/corpus/$t"
  artifacts="$build_dir/artifacts/$t/"
  log="$build_dir/$t.log"
  mkdir -p "$work" "$artifacts" "fuzz/corpus/$t"
  args=(-max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" -timeout=10
        -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts")
  [ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
  echo "fuzz: $t for ${seconds} s"
  "$build_dir/$t" "${args[@]}" "$work" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^stat::total_time: *//p' "$log" | tail -1 | tr -d 's')
  [ -n "$secs" ] || secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  rate="?"
  if [ -n "$runs" ] && [ -n "$secs" ] && [ "$secs" -gt 0 ] 2>/dev/null; then
    rate=$(( runs / secs ))
  fi
  corpus=$(find "$work" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    line="$t: ok, ${runs:-?} runs in ${secs:-?} s (${rate} exec/s), coverage ${cov:-?}, corpus $corpus"
  else
    status=1
    line="$t: FAILED (exit $rc), see $log and $artifacts"
    grep -E '^==[0-9]+==ERROR|SUMMARY:|runtime error:|deadly signal|Test unit written' "$log" \
      | head -5 | sed 's/^/    /'
  fi
  summary+=("$line")
done

echo
echo "fuzz summary (${seconds} s per target):"
printf '  %s\n' "${summary[@]}"
if [ "$status" -eq 0 ]; then echo "fuzz: ALL PASSED"; else echo "fuzz: FAILED"; fi
exit "$status"
