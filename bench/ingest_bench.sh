#!/usr/bin/env bash
# Live-ingest throughput on loopback: csp-exchange-sim -> `csp run --no-db
# --no-cache --no-api` (collector, processing shard, --bars-out), one
# measured wall-clock minute per run.
#
# A run at rate R starts the simulator (trade log on) and the node a few
# seconds before a minute boundary B and stops the node after B + 60 s has
# closed (plus the 2 s grace). Zero loss means: the node's 1m bars of the
# minute [B, B+60) equal `csp bars` on the simulator's trade log, for every
# symbol (open, high, low, close, volume, trade count). Over that minute the
# script reads the node's CPU time from /proc/PID/stat and reports
#   trades/s = trades the node received in the minute (its
#   trades_received_total) / 60, and CPU-s per million received trades,
# plus the simulator's backlog at B + 60 (trades generated but not yet
# written to the node's socket: a node that keeps up has at most a tick's
# worth).
#
# Usage:
#   bench/ingest_bench.sh [options] --rate R            one run
#   bench/ingest_bench.sh [options] --bisect LO HI N    N runs: highest
#       zero-loss rate between LO (assumed good) and HI, halving the interval
# Options:
#   --build DIR     build directory, relative to the repository (default build)
#   --symbols N     number of symbols (default 4)
#   --perf FILE     record `perf record -g` of the node during the minute
#                   (single run only)
#   --keep DIR      keep every run's files under DIR
# Each run takes 65-70 s plus the wait for the next minute boundary (at
# most 60 s); a bisection of N steps is bounded by N such runs.
set -u
cd "$(dirname "$0")/.." || exit 2
. tools/exchange_sim/sim_port.sh
build=build
nsym=4
rate=
bisect=()
perf_out=
keep=
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --symbols) nsym=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --bisect) bisect=("$2" "$3" "$4"); shift 4 ;;
    --perf) perf_out=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--symbols N] [--perf FILE] [--keep DIR] --rate R | --bisect LO HI N" >&2; exit 2 ;;
  esac
done
if [ -z "$rate" ] && [ ${#bisect[@]} -eq 0 ]; then
  echo "$0: give --rate R or --bisect LO HI N" >&2
  exit 2
fi
csp=$(readlink -f "$build/app/csp")
sim=$(readlink -f "$build/tools/exchange_sim/csp-exchange-sim")
for b in "$csp" "$sim"; do
  [ -x "$b" ] || { echo "$0: $b missing (build csp and csp-exchange-sim)" >&2; exit 2; }
done
syms=$(python3 -c "print(','.join(['BTCUSDT','ETHUSDT','BNBUSDT','SOLUSDT'][:$nsym] if $nsym <= 4 else ['S%03dUSDT' % i for i in range($nsym)]))")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "$keep" ]; then mkdir -p "$keep" && cp -r "$work"/. "$keep"/; fi
  rm -rf "$work"
}
trap cleanup EXIT
clk_tck=$(getconf CLK_TCK)

cpu_ticks() { # pid -> utime stime (clock ticks)
  # Fields after the command name (which may contain spaces).
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12, $13}'
}

received() { # metrics port -> trades_received_total over all symbols
  curl -s "http://127.0.0.1:$1/metrics" | grep -E '^trades_received_total' \
    | awk '{s+=$NF} END {printf "%d\n", s}'
}

sleep_until() { # epoch seconds (fractional)
  local d
  d=$(python3 -c "import time; print(max(0.0, $1 - time.time()))")
  sleep "$d"
}

# One run at rate $1; prints a result line and returns 0 on zero loss.
run_at() {
  local r=$1 dir=$work/rate-$1
  mkdir -p "$dir"
  local now boundary
  now=$(date +%s)
  boundary=$(( (now + 4 + 59) / 60 * 60 ))
  sleep_until $((boundary - 4))
  "$sim" --listen 127.0.0.1:0 --symbols "$syms" --rate "$r" --seed 5 \
    --trade-log "$dir/trades.jsonl" --duration-s 90 \
    >"$dir/sim.out" 2>&1 &
  local sim_pid=$!
  pids+=("$sim_pid")
  local port
  port=$(sim_port "$dir/sim.out") || { echo "rate $r: simulator did not start"; return 2; }
  local duration=$(( boundary + 66 - $(date +%s) ))
  (cd "$dir" && exec "$csp" run --binance-ws-url "ws://127.0.0.1:$port" \
    --binance-rest-url "http://127.0.0.1:$port" --symbols "$syms" \
    --stocks "" --metrics-port 0 --no-api --no-db --no-cache \
    --duration-s "$duration" --bars-out "$dir/bars.csv") >"$dir/node.out" 2>&1 &
  local node_pid=$!
  pids+=("$node_pid")
  local mport=
  for _ in $(seq 1 50); do
    mport=$(grep -o '127.0.0.1:[0-9]*/metrics' "$dir/node.out" | head -1 | cut -d: -f2 | cut -d/ -f1)
    [ -n "$mport" ] && break
    sleep 0.1
  done
  sleep_until "$boundary"
  local c0 s0 n0
  c0=$(cpu_ticks "$node_pid") || { echo "rate $r: node died"; return 2; }
  n0=$(received "$mport")
  s0=$(cpu_ticks "$sim_pid")
  local perf_pid=
  if [ -n "$perf_out" ]; then
    perf record -g -o "$perf_out" -p "$node_pid" -- sleep 58 >"$dir/perf.out" 2>&1 &
    perf_pid=$!
  fi
  sleep_until $((boundary + 60))
  local c1 s1 n1 stats
  c1=$(cpu_ticks "$node_pid")
  n1=$(received "$mport")
  s1=$(cpu_ticks "$sim_pid")
  stats=$(curl -s "http://127.0.0.1:$port/control/stats")
  [ -n "$perf_pid" ] && wait "$perf_pid"
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  # The node stops by itself after the minute's bars closed.
  for _ in $(seq 1 200); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$sim_pid" 2>/dev/null
  wait "$node_pid" 2>/dev/null
  local rc=$?
  wait "$sim_pid" 2>/dev/null
  local bms=$((boundary * 1000))
  "$csp" bars --timeframe 1m --input "$dir/trades.jsonl" 2>/dev/null \
    | awk -F, -v b="$bms" 'NR>1 && $2==b' | sort >"$dir/want"
  awk -F, -v b="$bms" 'NR>1 && $2==b' "$dir/bars.csv" 2>/dev/null | sort >"$dir/got"
  local trades
  trades=$(awk -F, '{s+=$9} END {print s+0}' "$dir/want")
  local verdict=loss
  if [ "$rc" -eq 0 ] && [ "$(wc -l <"$dir/want")" -eq "$nsym" ] \
    && cmp -s "$dir/want" "$dir/got"; then
    verdict=zero-loss
  fi
  local backlog
  backlog=$(python3 -c "
import json,sys
s=json.loads(sys.argv[1] or '{}')
sent=sum(c['trades_sent'] for c in s.get('connections',[]) if c['open'])
print(s.get('trades_generated',0)-sent)" "$stats" 2>/dev/null)
  python3 - "$r" "$trades" "$c0" "$c1" "$s0" "$s1" "$clk_tck" "$verdict" \
    "$backlog" "$load" "$rc" "$n0" "$n1" <<'PY'
import sys
r, trades, c0, c1, s0, s1, hz, verdict, backlog, load, rc, n0, n1 = sys.argv[1:]
trades = int(trades); hz = float(hz)
got = int(n1) - int(n0)
u0, k0 = map(int, c0.split()); u1, k1 = map(int, c1.split())
su0, sk0 = map(int, s0.split()); su1, sk1 = map(int, s1.split())
user, sys_ = (u1 - u0) / hz, (k1 - k0) / hz
per_m = (user + sys_) / (got / 1e6) if got > 0 else float('nan')
print(f"rate {r}: {verdict} (node exit {rc}); {trades} trades generated in "
      f"the minute ({trades / 60:.0f}/s), node received {got} "
      f"({got / 60:.0f}/s); node CPU {user + sys_:.1f} s "
      f"(user {user:.1f}, sys {sys_:.1f}) = {per_m:.2f} CPU-s per million; "
      f"simulator CPU {((su1 - su0) + (sk1 - sk0)) / hz:.1f} s; "
      f"sim backlog at the minute's end {backlog}; load {load}")
PY
  [ "$verdict" = zero-loss ]
}

echo "symbols $syms; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$rate" ]; then
  run_at "$rate"
  exit $?
fi
lo=${bisect[0]} hi=${bisect[1]} steps=${bisect[2]}
for _ in $(seq 1 "$steps"); do
  mid=$(( (lo + hi) / 2 ))
  if run_at "$mid"; then lo=$mid; else hi=$mid; fi
done
echo "highest zero-loss rate found: $lo trades/s (first loss at or below $hi)"
